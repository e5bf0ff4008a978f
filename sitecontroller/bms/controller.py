"""BmsController: from the latest CAN frames to one BmsReading per update, plus the BMS errors.

Pure: it reads frames through a `FrameSource` (the CAN controller's cache), takes time from the
injected clock and writes battery history into sysinfo. It returns None when no rack is online;
the service then stops publishing and the "bms" source goes stale, which trips the safety chain.
"""

from __future__ import annotations

from dataclasses import replace

from sitecontroller.bms import errors as e
from sitecontroller.bms.aggregate import aggregate
from sitecontroller.bms.balancing import BalanceDecision, BalancingController
from sitecontroller.bms.binding import Binding
from sitecontroller.bms.fullness import FullnessDetector
from sitecontroller.bms.ntc import compensate_c, compensate_opt
from sitecontroller.bms.racks import FrameSource, RackSample, read_rack
from sitecontroller.bms.soc import SocTracker
from sitecontroller.config.bms import BmsConfig
from sitecontroller.core.clock import Clock
from sitecontroller.core.readings import BmsReading
from sitecontroller.runtime.sysinfo import SysInfo
from sitecontroller.safety.errors import ErrorHandler

# A decode failure keeps its warning up this long after the last bad frame.
DECODE_FAILURE_HOLD_S = 60.0


class BmsController:
    def __init__(
        self, binding: Binding, config: BmsConfig, clock: Clock, errors: ErrorHandler, sysinfo: SysInfo
    ) -> None:
        unknown = (set(binding.protections) - set(e.PROTECTION_ERRORS)) | (
            set(binding.alarms) - set(e.ALARM_ERRORS)
        )
        if unknown:
            raise ValueError(
                f"binding {binding.protocol} names flags without an error kind: {sorted(unknown)}"
            )
        if binding.rack_layout is None and config.racks != (0,):
            raise ValueError(f"{binding.protocol} reports one pack: set racks = [0], not {config.racks}")
        self._binding = binding
        self._config = config
        self._clock = clock
        self._errors = errors
        self._sysinfo = sysinfo
        self._soc = SocTracker(config.soc, config.rack_capacity_ah * len(config.racks))
        self._soc.restore(sysinfo.soc_delta_pct)
        self._fullness = FullnessDetector(config.fullness, sysinfo)
        self._balancing = BalancingController(config.balancing, sysinfo)
        self._decode_failures = 0
        self._last_decode_failure_s: float | None = None
        self.samples: tuple[RackSample, ...] = ()

    @property
    def balance(self) -> BalanceDecision:
        return self._balancing.decision

    def update(self, frames: FrameSource, bus_ok: bool = True, decode_failures: int = 0) -> BmsReading | None:
        now_s, wall_s = self._clock.monotonic(), self._clock.wall()
        self._bus_errors(bus_ok, decode_failures, now_s)
        self.samples = tuple(
            self._compensated(read_rack(self._binding, frames, r)) for r in self._config.racks
        )
        reading = aggregate(self.samples, self._config.rack_capacity_ah)
        self._rack_errors(reading)
        if reading is None:
            return None
        capacity_ah = sum(s.capacity_ah or self._config.rack_capacity_ah for s in self.samples if s.online)
        soc = self._soc.update(
            reading.soc_pct, reading.current_a, reading.cell_voltage_avg_v, now_s, capacity_ah
        )
        self._errors.set(e.SOC_DRIFT, soc.drift_detected, f"correction {soc.delta_pct:+.1f} %")
        self._sysinfo.soc_delta_pct = soc.delta_pct
        if reading.soh_pct is not None:
            self._sysinfo.soh_pct = reading.soh_pct
        reading = replace(reading, soc_pct=soc.soc_pct)
        self._fullness.update(reading.soc_pct, reading.cell_voltage_max_v, reading.cell_voltage_min_v, wall_s)
        self._balancing.update(
            self._config.cell_balance,
            reading.soc_pct,
            reading.current_a,
            reading.cell_voltage_min_v,
            reading.cell_voltage_max_v,
            now_s,
            wall_s,
        )
        return reading

    def _compensated(self, s: RackSample) -> RackSample:
        ntc = self._config.ntc
        return replace(
            s,
            cell_temp_min_c=compensate_opt(s.cell_temp_min_c, ntc),
            cell_temp_max_c=compensate_opt(s.cell_temp_max_c, ntc),
            cell_temps_c=tuple(None if t is None else compensate_c(t, ntc) for t in s.cell_temps_c),
        )

    def _rack_errors(self, reading: BmsReading | None) -> None:
        offline = [s.rack_id for s in self.samples if not s.online]
        # All racks silent is the whole BMS silent: the stale-data trip covers it, not this warning.
        partial = bool(offline) and len(offline) < len(self.samples)
        self._errors.set(e.RACK_OFFLINE, partial, f"racks offline: {offline}")
        active_p = reading.protections if reading else frozenset()
        active_a = reading.alarms if reading else frozenset()
        for name, definition in e.PROTECTION_ERRORS.items():
            self._errors.set(definition, name in active_p, self._racks_with(name, "protections"))
        for name, definition in e.ALARM_ERRORS.items():
            self._errors.set(definition, name in active_a, self._racks_with(name, "alarms"))

    def _racks_with(self, flag: str, kind: str) -> str:
        racks = [s.rack_id for s in self.samples if flag in getattr(s, kind)]
        return f"racks {racks}" if racks else ""

    def _bus_errors(self, bus_ok: bool, decode_failures: int, now_s: float) -> None:
        self._errors.set(e.CAN_BUS_FAILURE, not bus_ok)
        if decode_failures > self._decode_failures:
            self._last_decode_failure_s = now_s
        self._decode_failures = decode_failures
        recent = (
            self._last_decode_failure_s is not None
            and now_s - self._last_decode_failure_s < DECODE_FAILURE_HOLD_S
        )
        self._errors.set(e.CAN_DECODE_FAILURE, recent, f"{decode_failures} frames failed to decode")
