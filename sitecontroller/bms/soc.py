"""SoC tracking between BMS updates, and SoC drift detection and correction.

Delta compensation: a BMS reports SoC coarsely (1 % steps, a few updates a minute). Between its
updates we count coulombs, keep the estimate within one resolution step of the BMS value, and snap
to the BMS value whenever it changes (it is the authority).

Degradation: a BMS that never reaches full drifts. After `rest_time_s` at rest the cell voltage is
the open-circuit voltage; where the OCV curve is steep (near empty and full) it gives an
independent SoC. A difference beyond the threshold is reported and kept as a correction until the
BMS re-anchors itself at full charge.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

from sitecontroller.config.bms import SocConfig


@dataclass(frozen=True, slots=True)
class SocEstimate:
    soc_pct: float
    delta_pct: float
    drift_detected: bool


def ocv_soc_pct(cell_voltage_v: float, table: tuple[tuple[float, float], ...]) -> float:
    volts = [v for _, v in table]
    i = bisect_left(volts, cell_voltage_v)
    if i == 0:
        return table[0][0]
    if i == len(table):
        return table[-1][0]
    (s0, v0), (s1, v1) = table[i - 1], table[i]
    return s0 + (s1 - s0) * (cell_voltage_v - v0) / (v1 - v0)


class SocTracker:
    def __init__(self, params: SocConfig, capacity_ah: float) -> None:
        self._p = params
        self._capacity_ah = capacity_ah
        self._estimate_pct: float | None = None
        self._bms_pct: float | None = None
        self._last_s: float | None = None
        self._rest_since_s: float | None = None
        self._delta_pct = 0.0
        self._drift = False

    def restore(self, delta_pct: float) -> None:
        """Continue a correction found before a restart (kept in sysinfo)."""
        self._delta_pct = delta_pct

    def update(
        self, bms_soc_pct: float, current_a: float, cell_avg_v: float | None, now_s: float, capacity_ah: float
    ) -> SocEstimate:
        self._capacity_ah = capacity_ah
        dt_s = 0.0 if self._last_s is None else max(0.0, now_s - self._last_s)
        self._last_s = now_s
        if self._estimate_pct is None or bms_soc_pct != self._bms_pct:
            self._estimate_pct = bms_soc_pct
        else:
            # current positive = discharge, so it lowers the SoC.
            counted = self._estimate_pct - current_a * dt_s / 3600.0 / self._capacity_ah * 100.0
            res = self._p.resolution_pct
            self._estimate_pct = min(max(counted, bms_soc_pct - res), bms_soc_pct + res)
        self._bms_pct = bms_soc_pct
        self._check_drift(self._estimate_pct, current_a, cell_avg_v, now_s)
        if bms_soc_pct >= 99.5:
            # The BMS re-anchors at full: any correction we carried is obsolete.
            self._delta_pct, self._drift = 0.0, False
        soc = min(max(self._estimate_pct + self._delta_pct, 0.0), 100.0)
        return SocEstimate(soc, self._delta_pct, self._drift)

    def _check_drift(
        self, estimate_pct: float, current_a: float, cell_avg_v: float | None, now_s: float
    ) -> None:
        if abs(current_a) > self._p.rest_current_a or cell_avg_v is None:
            self._rest_since_s = None
            return
        if self._rest_since_s is None:
            self._rest_since_s = now_s
        if now_s - self._rest_since_s < self._p.rest_time_s:
            return
        ocv_pct = ocv_soc_pct(cell_avg_v, self._p.ocv_table)
        if self._p.ocv_trusted_below_pct < ocv_pct < self._p.ocv_trusted_above_pct:
            return  # flat part of the curve: the voltage says nothing reliable
        drift = ocv_pct - estimate_pct
        self._drift = abs(drift) > self._p.drift_threshold_pct
        self._delta_pct = drift if self._drift else 0.0
