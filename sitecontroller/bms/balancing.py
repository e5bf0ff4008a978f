"""Cell balancing control under the CELL_BALANCE flag.

When: near full (passive balancing only helps at the top of the LFP curve), at low current, when
the spread between the highest and lowest cell exceeds the start threshold, and not more often
than `min_interval_s`. Target: the lowest cell voltage at the start (cells above it are bled
down). How long: until the spread is under the stop threshold, at most `max_duration_s`. Every
finished session goes into the sysinfo history with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from sitecontroller.config.bms import BalancingConfig
from sitecontroller.runtime.sysinfo import SysInfo


@dataclass(frozen=True, slots=True)
class BalanceDecision:
    active: bool
    target_v: float = 0.0
    remaining_s: float = 0.0


IDLE = BalanceDecision(False)


class BalancingController:
    def __init__(self, params: BalancingConfig, sysinfo: SysInfo) -> None:
        self._p = params
        self._sysinfo = sysinfo
        self._started_s: float | None = None
        self._started_wall_s = 0.0
        self._start_spread_v = 0.0
        self._target_v = 0.0
        self._last_end_s: float | None = None
        self.decision = IDLE

    def update(
        self,
        enabled: bool,
        soc_pct: float,
        current_a: float,
        cell_min_v: float | None,
        cell_max_v: float | None,
        now_s: float,
        wall_s: float,
    ) -> BalanceDecision:
        p = self._p
        spread_v = None if cell_min_v is None or cell_max_v is None else cell_max_v - cell_min_v
        started_s = self._started_s
        if started_s is None:
            rested = self._last_end_s is None or now_s - self._last_end_s >= p.min_interval_s
            if (
                enabled
                and rested
                and cell_min_v is not None
                and spread_v is not None
                and spread_v >= p.start_spread_v
                and soc_pct >= p.start_soc_pct
                and abs(current_a) <= p.max_current_a
            ):
                self._started_s, self._started_wall_s = now_s, wall_s
                self._start_spread_v, self._target_v = spread_v, cell_min_v
        else:
            reason = self._stop_reason(started_s, enabled, soc_pct, current_a, spread_v, now_s)
            if reason:
                self._finish(started_s, reason, spread_v, now_s, wall_s)
        if self._started_s is None:
            self.decision = IDLE
        else:
            remaining_s = max(0.0, p.max_duration_s - (now_s - self._started_s))
            self.decision = BalanceDecision(True, self._target_v, remaining_s)
        return self.decision

    def _stop_reason(
        self,
        started_s: float,
        enabled: bool,
        soc_pct: float,
        current_a: float,
        spread_v: float | None,
        now_s: float,
    ) -> str:
        if not enabled:
            return "disabled"
        if spread_v is None:
            return "no_cell_data"
        if spread_v <= self._p.stop_spread_v:
            return "balanced"
        if now_s - started_s >= self._p.max_duration_s:
            return "max_duration"
        if abs(current_a) > self._p.max_current_a:
            return "current"
        if soc_pct < self._p.start_soc_pct - 5.0:
            return "soc_low"
        return ""

    def _finish(
        self, started_s: float, reason: str, spread_v: float | None, now_s: float, wall_s: float
    ) -> None:
        self._sysinfo.add_balance_event(
            {
                "start_wall_s": self._started_wall_s,
                "end_wall_s": wall_s,
                "duration_s": now_s - started_s,
                "target_v": self._target_v,
                "spread_start_v": self._start_spread_v,
                "spread_end_v": -1.0 if spread_v is None else spread_v,
                "reason": reason,
            }
        )
        self._started_s = None
        self._last_end_s = now_s
