"""Run one grid-service prequalification test in simulation: the node's production fast loop
(`FrequencyResponse`, 100 ms) drives the plant inverter (dead time + first-order lag) and battery.

The plant runs at `dt_s` (10 ms by default, 100 ms for the hours-long LER sequences); the response is
logged at 10 Hz. LER sequences are played adaptively: each step lasts its minimum duration and is then
extended until its objective is met, as the test program allows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from masterController.grid_support.characteristics import Fcr
from masterController.grid_support.frequency_response import FrequencyResponse, Share
from masterController.grid_support.operation_log import OperationSample, operation_sample
from sitecontroller.config.control import FcrConfig, FfrConfig, GridServicesConfig, LfsmConfig
from sitecontroller.sim.battery import BatteryPlant
from sitecontroller.sim.frequency import (
    FrequencyProfile,
    LerStep,
    PiecewiseProfile,
    fcr_sine,
    fcrd_fast_ramp,
    fcrd_static,
    fcrn_step,
    ffr_event,
    ler_fcrd,
    ler_fcrn,
    ler_profile,
    lfsm_steps,
)
from sitecontroller.sim.inverter import InverterPlant

Service = Literal["fcrd-up", "fcrd-down", "fcrn", "ffr", "lfsm-o"]
SERVICES: tuple[Service, ...] = ("fcrd-up", "fcrd-down", "fcrn", "ffr", "lfsm-o")
TESTS = {
    "fcrd-up": ("fast-ramp", "static", "ler", "sine-<T>"),
    "fcrd-down": ("fast-ramp", "static", "ler", "sine-<T>"),
    "fcrn": ("step", "ler", "sine-<T>"),
    "ffr": ("event",),
    "lfsm-o": ("steps",),
}
_MAX_STEP_EXTENSION_S = 8 * 3600.0
_BATTERY_PERIOD_S = 0.5
SIM_WALL_START_S = 1_767_225_600.0  # 2026-01-01T00:00:00Z: the simulated test's timestamps


@dataclass(frozen=True, slots=True)
class GridTestSpec:
    service: Service
    capacity_w: float
    energy_wh: float
    soc_pct: float
    test: str | None = None
    profile_path: Path | None = None
    inverter_w: float | None = None  # default 1.5 x capacity: room for FCR-N + NEM (1.34 C)
    inverter_ramp_w_per_s: float | None = None  # a ramp-limited inverter (None: only the lag)
    freq_lag_s: float = 0.0  # first-order frequency-measurement lag (TR T_FME), 0 = ideal
    dt_s: float | None = None
    fast_loop_s: float = 0.1
    log_s: float = 0.1
    ffr_level_hz: Literal[49.7, 49.6, 49.5] = 49.7
    ffr_support_s: Literal[30.0, 5.0] = 30.0

    def __post_init__(self) -> None:
        if self.service not in SERVICES:
            raise ValueError(f"unknown service {self.service!r}; one of {', '.join(SERVICES)}")
        if (self.test is None) == (self.profile_path is None):
            raise ValueError("give exactly one of a test name or a profile CSV")
        if self.test is not None and not _test_known(self.service, self.test):
            raise ValueError(f"unknown test {self.test!r} for {self.service}; one of {TESTS[self.service]}")
        if not (self.capacity_w > 0 and self.energy_wh > 0 and 0.0 <= self.soc_pct <= 100.0):
            raise ValueError("capacity and energy must be positive and SoC within 0..100 %")

    @property
    def direction(self) -> Literal["up", "down"]:
        return "down" if self.service == "fcrd-down" else "up"

    @property
    def plant_dt_s(self) -> float:
        return self.dt_s if self.dt_s is not None else (0.1 if self.test == "ler" else 0.01)


def _test_known(service: Service, test: str) -> bool:
    if test.startswith("sine-") and "sine-<T>" in TESTS[service]:
        return test[5:].isdigit()
    return test in TESTS[service]


@dataclass(slots=True)
class ResponseLog:
    t_s: list[float] = field(default_factory=list)
    freq_hz: list[float] = field(default_factory=list)
    setpoint_w: list[float] = field(default_factory=list)
    power_w: list[float] = field(default_factory=list)
    soc_pct: list[float] = field(default_factory=list)
    nem: list[int] = field(default_factory=list)
    aem: list[int] = field(default_factory=list)
    nem_w: list[float] = field(default_factory=list)
    # The TSO operation-log rows (FCR products only), same instants.
    tso: list[OperationSample] = field(default_factory=list)


@dataclass(slots=True)
class GridTestRun:
    spec: GridTestSpec
    log: ResponseLog
    # For LER sequences: (start, end) of each step as played, and its flags at the end.
    steps: list[tuple[LerStep, float, float, bool, bool]] = field(default_factory=list)
    profile: FrequencyProfile | None = None


def services_config(spec: GridTestSpec) -> GridServicesConfig:
    on = FcrConfig(enabled=True, capacity_w=spec.capacity_w, energy_wh=spec.energy_wh)
    off_lfsm = LfsmConfig(over_enabled=False, under_enabled=False)
    if spec.service == "fcrn":
        return GridServicesConfig(fcrn=on, lfsm=off_lfsm)
    if spec.service == "fcrd-up":
        return GridServicesConfig(fcrd_up=on, lfsm=off_lfsm)
    if spec.service == "fcrd-down":
        return GridServicesConfig(fcrd_down=on, lfsm=off_lfsm)
    if spec.service == "ffr":
        ffr = FfrConfig(enabled=True, capacity_w=spec.capacity_w, activation_level_hz=spec.ffr_level_hz,
                        support_duration_s=spec.ffr_support_s)  # fmt: skip
        return GridServicesConfig(ffr=ffr, lfsm=off_lfsm)
    return GridServicesConfig(lfsm=LfsmConfig(over_enabled=True, under_enabled=False))


def profile_for(spec: GridTestSpec) -> FrequencyProfile:
    if spec.profile_path is not None:
        return PiecewiseProfile.from_csv(spec.profile_path)
    test = spec.test or ""
    if test == "fast-ramp":
        return fcrd_fast_ramp(spec.direction)
    if test == "static":
        return fcrd_static(spec.direction)
    if test == "step":
        return fcrn_step()
    if test == "event":
        return ffr_event()
    if test == "steps":
        return lfsm_steps(over=True)
    if test.startswith("sine-"):
        center = {"fcrn": 50.0, "fcrd-up": 49.7, "fcrd-down": 50.3}[spec.service]
        return fcr_sine(int(test[5:]), center)
    raise ValueError(f"test {test!r} is not a fixed profile")


class _Bench:
    """Plant + node fast loop, advanced tick by tick with integer counters (no float drift)."""

    def __init__(self, spec: GridTestSpec) -> None:
        self.spec = spec
        self.dt_s = spec.plant_dt_s
        inverter_w = spec.inverter_w or 1.5 * spec.capacity_w
        self.battery = BatteryPlant(capacity_wh=spec.energy_wh, soc_pct=spec.soc_pct)
        self.inverter = InverterPlant(max_power_w=inverter_w, ramp_w_per_s=spec.inverter_ramp_w_per_s)
        # LFSM's droop is relative to the capacity under test; FCR/FFR outputs are clipped at the inverter.
        rated_w = spec.capacity_w if spec.service == "lfsm-o" else inverter_w
        self.response = FrequencyResponse(services_config(spec), rated_w)
        product: Fcr | str = {"fcrn": Fcr.N, "fcrd-up": Fcr.D_UP, "fcrd-down": Fcr.D_DOWN}.get(
            spec.service, "ffr"
        )
        if spec.service != "lfsm-o":
            self.response.assign(product, Share(spec.capacity_w, spec.energy_wh))
        self.fcr = self.response.products.get(product) if isinstance(product, Fcr) else None
        self.fast_every = max(1, round(spec.fast_loop_s / self.dt_s))
        self.log_every = max(1, round(spec.log_s / self.dt_s))
        self.battery_every = max(1, round(_BATTERY_PERIOD_S / self.dt_s))
        self._dc_energy_j = 0.0
        self.soc_pct = self.battery.soc_pct
        self.tick = 0
        self.setpoint_w = 0.0
        self.measured_hz: float | None = None
        self.log = ResponseLog()

    @property
    def t_s(self) -> float:
        return self.tick * self.dt_s

    def flags(self) -> tuple[bool, bool]:
        em = self.fcr.em if self.fcr is not None else None
        return (em is not None and em.nem_allowed != 0, em is not None and em.aem_on)

    @property
    def nem_current(self) -> float:
        em = self.fcr.em if self.fcr is not None else None
        return em.nem_current if em is not None else 0.0

    def _tso_sample(self, t_s: float, freq_hz: float) -> OperationSample:
        assert self.fcr is not None
        return operation_sample(
            self.fcr,
            wall_s=SIM_WALL_START_S + t_s,
            power_w=self.inverter.power_w,
            grid_freq_hz=freq_hz,
            applied_freq_hz=self.measured_hz if self.measured_hz is not None else freq_hz,
            baseline_w=0.0,
            soc_pct=self.soc_pct,
        )

    def advance(self, freq_hz: float) -> None:
        t_s = self.t_s
        if self.tick % self.fast_every == 0:
            lag_s = self.spec.freq_lag_s
            if self.measured_hz is None or lag_s <= 0:
                self.measured_hz = freq_hz
            else:
                period_s = self.fast_every * self.dt_s
                self.measured_hz += (freq_hz - self.measured_hz) * (1.0 - math.exp(-period_s / lag_s))
            self.setpoint_w = self.response.update(self.measured_hz, t_s, self.soc_pct)
            self.inverter.command(self.setpoint_w)
        if self.tick % self.log_every == 0:
            nem, aem = self.flags()
            log = self.log
            log.t_s.append(t_s)
            log.freq_hz.append(freq_hz)
            log.setpoint_w.append(self.setpoint_w)
            log.power_w.append(self.inverter.power_w)
            log.soc_pct.append(self.soc_pct)
            log.nem.append(int(nem))
            log.aem.append(int(aem))
            log.nem_w.append(self.fcr.nem_w if self.fcr is not None else 0.0)
            if self.fcr is not None:
                log.tso.append(self._tso_sample(t_s, freq_hz))
        self.inverter.step(self.dt_s)
        # The battery's SoC moves slowly: integrate the DC energy and step the (costly) cell model
        # once per battery period with the average power. Energy is conserved exactly.
        self._dc_energy_j += self.inverter.dc_power_w * self.dt_s
        self.tick += 1
        if self.tick % self.battery_every == 0:
            period_s = self.battery_every * self.dt_s
            self.battery.step(self._dc_energy_j / period_s, period_s)
            self._dc_energy_j = 0.0
            self.soc_pct = self.battery.soc_pct


def run_gridtest(spec: GridTestSpec) -> GridTestRun:
    bench = _Bench(spec)
    if spec.test == "ler":
        steps = ler_fcrn() if spec.service == "fcrn" else ler_fcrd(spec.direction)
        played = _play_ler(bench, steps)
        durations_s = [end_s - start_s for _, start_s, end_s, _, _ in played]
        return GridTestRun(spec, bench.log, played, ler_profile(steps, durations_s))
    profile = profile_for(spec)
    end_tick = round(profile.duration_s / bench.dt_s)
    while bench.tick <= end_tick:
        bench.advance(profile.freq_hz(bench.t_s))
    return GridTestRun(spec, bench.log, profile=profile)


def _play_ler(bench: _Bench, steps: tuple[LerStep, ...]) -> list[tuple[LerStep, float, float, bool, bool]]:
    played = []
    for step in steps:
        start_s = bench.t_s
        tracker = _Objective(step)
        while True:
            bench.advance(step.freq_hz)
            elapsed_s = bench.t_s - start_s
            nem, aem = bench.flags()
            met = tracker.update(nem, aem, bench.nem_current, bench.t_s)
            if (
                elapsed_s >= step.min_duration_s and met
            ) or elapsed_s >= step.min_duration_s + _MAX_STEP_EXTENSION_S:
                break
        played.append((step, start_s, bench.t_s, nem, aem))
    return played


class _Objective:
    def __init__(self, step: LerStep) -> None:
        self.step = step
        self.since_s: float | None = None
        self.seen_nem = False

    def update(self, nem: bool, aem: bool, nem_current: float, now_s: float) -> bool:
        kind = self.step.objective
        if kind == "":
            return True
        if kind == "both_off":
            return not nem and not aem and nem_current == 0.0
        if kind == "nem_on_then_off":
            self.seen_nem = self.seen_nem or nem
            return self.seen_nem and not nem and not aem
        holding = abs(nem_current) >= 0.999 if kind == "nem_full_1min" else aem
        need_s = 60.0 if kind == "nem_full_1min" else 300.0
        if not holding:
            self.since_s = None
            return False
        if self.since_s is None:
            self.since_s = now_s
        return now_s - self.since_s >= need_s
