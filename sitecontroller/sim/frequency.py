"""Grid-frequency profiles: the prequalification test sequences of the FCR test program and FFR
events as (t, f) breakpoints with linear interpolation, sine sweeps, and traces from CSV (`t_s,freq_hz`).

Ramps are generated from their ramp speed, not from the published end times (which are rounded).
FCR-D down profiles mirror the up profiles around 50 Hz. The LER energy-management sequences are
step tables with objectives, because the official durations are minimums that the tester extends
until each objective is met; the scenario runner plays them adaptively.
"""

from __future__ import annotations

import csv
import math
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Literal, Protocol

Direction = Literal["up", "down"]


class FrequencyProfile(Protocol):
    @property
    def duration_s(self) -> float: ...

    def freq_hz(self, t_s: float) -> float: ...


@dataclass(frozen=True, slots=True)
class PiecewiseProfile:
    points: tuple[tuple[float, float], ...]
    _times: list[float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.points) < 1:
            raise ValueError("a frequency profile needs at least one point")
        times = [t for t, _ in self.points]
        if times[0] != 0.0:
            raise ValueError("a frequency profile starts at t_s = 0")
        if any(b < a for a, b in pairwise(times)):
            raise ValueError("profile times must not decrease")
        for t, f in self.points:
            if not (math.isfinite(t) and math.isfinite(f) and 40.0 <= f <= 60.0):
                raise ValueError(f"bad profile point t_s={t}, freq_hz={f} (frequency must be 40..60 Hz)")
        object.__setattr__(self, "_times", times)

    @property
    def duration_s(self) -> float:
        return self.points[-1][0]

    def freq_hz(self, t_s: float) -> float:
        points = self.points
        i = bisect_right(self._times, t_s)
        if i == 0:
            return points[0][1]
        if i == len(points):
            return points[-1][1]
        (t0, f0), (t1, f1) = points[i - 1], points[i]
        return f0 if t1 == t0 else f0 + (f1 - f0) * (t_s - t0) / (t1 - t0)

    def mirrored(self) -> PiecewiseProfile:
        """The same test for the downward product: every frequency reflected around 50 Hz."""
        return PiecewiseProfile(tuple((t, round(100.0 - f, 6)) for t, f in self.points))

    @staticmethod
    def from_csv(path: Path) -> PiecewiseProfile:
        """Read a `t_s,freq_hz` CSV; errors name the file and line."""
        try:
            handle = path.open(newline="", encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"{path}: cannot read: {exc.strerror}") from None
        points: list[tuple[float, float]] = []
        with handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None or [h.strip() for h in header] != ["t_s", "freq_hz"]:
                raise ValueError(f"{path}: the header must be exactly 't_s,freq_hz', got {header}")
            for line_no, fields in enumerate(reader, start=2):
                if not fields or all(not f.strip() for f in fields):
                    continue
                if len(fields) != 2:
                    raise ValueError(f"{path}:{line_no}: expected 2 fields, got {len(fields)}")
                try:
                    points.append((float(fields[0]), float(fields[1])))
                except ValueError:
                    raise ValueError(f"{path}:{line_no}: not a number: {fields}") from None
        if not points:
            raise ValueError(f"{path}: no data rows")
        try:
            return PiecewiseProfile(tuple(points))
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None


@dataclass(frozen=True, slots=True)
class SineProfile:
    """f(t) = center + amplitude·sin(2πt/T) (FCR TR Table 6)."""

    center_hz: float
    period_s: float
    periods: int
    amplitude_hz: float = 0.1

    @property
    def duration_s(self) -> float:
        return self.period_s * self.periods

    def freq_hz(self, t_s: float) -> float:
        return self.center_hz + self.amplitude_hz * math.sin(2.0 * math.pi * t_s / self.period_s)


class _Builder:
    def __init__(self, start_hz: float) -> None:
        self.points: list[tuple[float, float]] = [(0.0, start_hz)]

    @property
    def _last(self) -> tuple[float, float]:
        return self.points[-1]

    def hold_until(self, t_s: float) -> _Builder:
        self.points.append((t_s, self._last[1]))
        return self

    def hold(self, duration_s: float) -> _Builder:
        return self.hold_until(self._last[0] + duration_s)

    def ramp(self, to_hz: float, rate_hz_per_s: float) -> _Builder:
        t, f = self._last
        self.points.append((t + abs(to_hz - f) / rate_hz_per_s, to_hz))
        return self

    def step(self, to_hz: float) -> _Builder:
        self.points.append((self._last[0], to_hz))
        return self

    def build(self) -> PiecewiseProfile:
        return PiecewiseProfile(tuple(self.points))


def _orient(profile: PiecewiseProfile, direction: Direction) -> PiecewiseProfile:
    return profile if direction == "up" else profile.mirrored()


# Timing of the FCR-D fast ramp test (S1 Table 4): checks use these instants.
FAST_RAMP = {
    "ramp1_start_s": 30.0,
    "nadir_s": 34.4,
    "ramp4_start_s": 390.0,
    "ramp5_start_s": 690.0,
    "ramp6_start_s": 750.0,
}


def fcrd_fast_ramp(direction: Direction = "up", combined: bool = False) -> PiecewiseProfile:
    b = _Builder(49.9).hold_until(30.0).ramp(49.45, 0.14).hold_until(34.9).ramp(49.9, 0.09)
    b.hold_until(90.0).ramp(49.5, 0.24).hold_until(390.0).ramp(49.9, 0.24).hold_until(690.0)
    b.ramp(49.0, 0.24).hold_until(750.0).ramp(50.0, 0.24).hold_until(1050.0)
    if combined:
        b.ramp(49.7, 0.24).hold_until(1350.0).ramp(49.89, 0.24).hold_until(1650.0)
    return _orient(b.build(), direction)


def fcrd_static(direction: Direction = "up", hold_s: float = 60.0) -> PiecewiseProfile:
    b = _Builder(49.9).hold_until(180.0).ramp(49.5, 0.24).hold_until(180.0 + hold_s)
    return _orient(b.ramp(49.9, 0.24).hold(1200.0).build(), direction)


# FCR-N step test (S1 Table 3): (start, frequency) per step, minutes; endurance holds P1/P2 15 min.
def fcrn_step(endurance: bool = False) -> PiecewiseProfile:
    hold_min = 15.0 if endurance else 5.0
    b = _Builder(50.0).hold(30.0).step(49.95).hold(30.0).step(50.0).hold(300.0)
    b.step(49.9).hold(hold_min * 60).step(50.1).hold(hold_min * 60).step(50.0).hold(300.0)
    return b.build()


def fcrn_step_windows(endurance: bool = False) -> dict[str, tuple[float, float]]:
    """Where each step of `fcrn_step` holds (start, end) in seconds: P0, P1, P2, P3."""
    hold_s = (15.0 if endurance else 5.0) * 60
    p1 = 360.0
    return {"P0": (60.0, 360.0), "P1": (p1, p1 + hold_s), "P2": (p1 + hold_s, p1 + 2 * hold_s),
            "P3": (p1 + 2 * hold_s, p1 + 2 * hold_s + 300.0)}  # fmt: skip


# Recommended total periods per sine period (S1 Table 6).
SINE_PERIODS = {10: 20, 15: 15, 25: 10, 40: 7, 50: 7, 60: 7, 70: 7, 90: 7, 150: 4, 300: 3}


def fcr_sine(period_s: int, center_hz: float = 50.0) -> SineProfile:
    if period_s not in SINE_PERIODS:
        raise ValueError(f"sine period must be one of {sorted(SINE_PERIODS)} s")
    return SineProfile(center_hz, float(period_s), SINE_PERIODS[period_s])


def ffr_event(nadir_hz: float = 49.45, rocof_hz_per_s: float = 0.5) -> PiecewiseProfile:
    """A fast drop from 50 Hz to `nadir_hz` at the given RoCoF, 20 s at the nadir, slow recovery."""
    b = _Builder(50.0).hold_until(10.0).ramp(nadir_hz, rocof_hz_per_s).hold_until(30.0)
    return b.ramp(49.9, 0.05).ramp(50.0, 0.01).hold(60.0).build()


def lfsm_steps(over: bool = True) -> PiecewiseProfile:
    """Steps deep enough for >= 10 % Pmax change at 5 % droop (RfG Art. 44), 60 s each."""
    offsets = (0.0, 0.2, 0.4, 0.7, 1.0, 0.4, 0.0)
    start = 50.2 if over else 49.8
    sign = 1.0 if over else -1.0
    b = _Builder(50.0).hold(30.0)
    for off in offsets:
        b.step(round(start + sign * off, 6)).hold(60.0)
    return b.step(50.0).hold(30.0).build()


@dataclass(frozen=True, slots=True)
class LerStep:
    """One step of an LER energy-management test (S1 Tables 12-13). `objective` names the
    condition the runner extends the step for; the expected flags are checked at the step's end."""

    freq_hz: float
    min_duration_s: float
    expect_nem: bool
    expect_aem: bool
    objective: Literal["", "nem_full_1min", "aem_on_5min", "both_off", "nem_on_then_off"] = ""


def ler_fcrn() -> tuple[LerStep, ...]:
    m = 60.0
    return (
        LerStep(50.00, 2 * m, False, False),
        LerStep(50.09, 28 * m, True, False, "nem_full_1min"),
        LerStep(50.11, 6 * m, False, False),
        LerStep(50.09, 2.5 * m, True, False),
        LerStep(50.11, 7.5 * m, False, True, "aem_on_5min"),
        LerStep(50.09, 10 * m, True, True),
        LerStep(49.91, 60 * m, True, False, "nem_full_1min"),
        LerStep(49.89, 5 * m, False, False),
        LerStep(49.91, 2.5 * m, True, False),
        LerStep(49.89, 10 * m, False, True, "aem_on_5min"),
        LerStep(49.91, 10 * m, True, True),
        LerStep(50.00, 30 * m, False, False, "both_off"),
    )


def ler_fcrd(direction: Direction = "up") -> tuple[LerStep, ...]:
    m = 60.0
    inside, deep = (49.91, 49.5) if direction == "up" else (50.09, 50.5)
    return (
        LerStep(inside, 0.5 * m, False, False),
        LerStep(deep, 10 * m, False, False),
        LerStep(inside, 2.5 * m, True, False),
        LerStep(deep, 15 * m, False, True, "aem_on_5min"),
        LerStep(inside, 15 * m, False, False, "nem_on_then_off"),
    )


def ler_profile(steps: tuple[LerStep, ...], durations_s: list[float]) -> PiecewiseProfile:
    """The frequency actually played, given the duration each step ended up with."""
    b = _Builder(steps[0].freq_hz)
    for step, duration_s in zip(steps, durations_s, strict=True):
        b.step(step.freq_hz).hold(duration_s)
    return b.build()
