"""Inverter driver over a register map: InverterReading as "inverter", commands as map sequences.

What the map cannot say lives here: the sign-split setpoint arguments (for devices with separate
charge/discharge registers), ramp-rate limiting, the heartbeat register kept alive, flags raised
as errors. Commands without a register in the map are refused with a clear DeviceCommandError.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable

from sitecontroller.config.devices import InverterConfig
from sitecontroller.core.clock import Clock
from sitecontroller.core.datastore import DataStore
from sitecontroller.core.readings import InverterReading, InverterState
from sitecontroller.devices.engine import RegisterDevice
from sitecontroller.devices.errors import FLAG_ERRORS, INVERTER_COMMAND_FAILED
from sitecontroller.devices.poll_loop import PollLoop
from sitecontroller.devices.ramp import RampLimiter
from sitecontroller.devices.reading_fields import current, reading_fields
from sitecontroller.devices.regmap import Flag
from sitecontroller.drivers.base import DeviceCommandError
from sitecontroller.safety.errors import ErrorHandler

log = logging.getLogger(__name__)
SOURCE = "inverter"
_FIELDS = {f.name for f in dataclasses.fields(InverterReading)} - {"state", "fault_code", "flags"}
_RUNNING = (InverterState.RUNNING, InverterState.GRID_FORMING)
HEARTBEAT_MAX = 0x7FFF  # counter 1..HEARTBEAT_MAX; never 0, which some devices read as "heartbeat off"


class MapInverter:
    def __init__(
        self,
        device: RegisterDevice,
        store: DataStore,
        clock: Clock,
        config: InverterConfig,
        errors: ErrorHandler | None = None,
    ) -> None:
        regmap = device.regmap
        unknown = set(regmap.reading) - _FIELDS
        if unknown or "power_w" not in regmap.reading or regmap.state is None:
            raise ValueError(f"map {regmap.name}: needs power_w and a state; unknown {sorted(unknown)}")
        if regmap.heartbeat is not None and config.heartbeat_interval_s >= regmap.heartbeat.max_interval_s:
            raise ValueError(
                f"heartbeat_interval_s {config.heartbeat_interval_s} must be below the device's "
                f"{regmap.heartbeat.max_interval_s} s"
            )
        self.device = device
        self.config = config
        self._clock = clock
        self._errors = errors
        self._ramp = RampLimiter(clock, config.ramp_w_per_s)
        self._heartbeat = 0
        self.loop = PollLoop(
            device, store, SOURCE, clock, config.poll_interval_s, config.timeout_s, self.reading
        )

    # ---- reading -------------------------------------------------------------------------
    def _number(self, name: str | None) -> float | None:
        return None if name is None else current(self.device, name, self.config.timeout_s)

    def reading(self) -> InverterReading | None:
        fields = reading_fields(self.device, self.config.timeout_s)
        state, fault_code = self._state()
        if state is None or fields["power_w"] is None:
            return None
        flags = frozenset(name for name, flag in self.device.regmap.flags.items() if self._flag_set(flag))
        self._raise_flag_errors(flags)
        return InverterReading(
            state=state,
            fault_code=fault_code,
            flags=flags,
            **{k: v for k, v in fields.items() if v is not None},  # type: ignore[arg-type]
        )

    def _state(self) -> tuple[InverterState | None, int | None]:
        rule = self.device.regmap.state
        assert rule is not None  # checked in __init__
        fault = self._number(rule.fault)
        if rule.fault is not None and fault is None:
            return None, None
        if fault:
            return InverterState.FAULT, int(fault)
        if rule.point is None:
            return InverterState(rule.default), None
        raw = self._number(rule.point)
        if raw is None:
            return None, None
        state = InverterState(rule.values.get(str(int(raw)), rule.default))
        if state is not InverterState.FAULT:
            return state, None
        code = self._number(rule.code)
        return state, int(raw if code is None else code)

    def _flag_set(self, flag: Flag) -> bool:
        value = self._number(flag.point)
        return value is not None and int(value) & flag.mask != 0

    def _raise_flag_errors(self, flags: frozenset[str]) -> None:
        if self._errors is None:
            return
        for name, definition in FLAG_ERRORS.items():
            if name in self.device.regmap.flags:
                self._errors.set(definition, name in flags)

    # ---- commands ------------------------------------------------------------------------
    async def set_power(self, power_w: float, reactive_power_var: float = 0.0) -> None:
        """Positive = discharge. Refuses beyond the configured ratings; ramps by ramp_w_per_s."""
        cfg = self.config
        if not abs(power_w) <= cfg.max_power_w:
            raise DeviceCommandError(f"set_power {power_w} W refused: beyond max_power_w {cfg.max_power_w}")
        if not abs(reactive_power_var) <= cfg.max_reactive_power_var:
            raise DeviceCommandError(
                f"set_power {reactive_power_var} var refused: beyond max_reactive_power_var "
                f"{cfg.max_reactive_power_var}"
            )
        # the target itself must be legal for the device, not only the ramped step towards it
        self.device.check_command("set_power", self._power_args(power_w, reactive_power_var))
        previous = self._ramp.value
        args = self._power_args(self._ramp.limit(power_w), reactive_power_var)
        try:
            await self._command("set_power", args)
        except DeviceCommandError:
            self._ramp.reset(previous)  # the device did not take it: ramp from what it has
            raise

    def _power_args(self, power_w: float, reactive_power_var: float) -> dict[str, float]:
        """Every form a map may want the setpoint in: signed W, split by direction, % of rating."""
        max_w = self.config.max_power_w
        return {
            "power_w": power_w,
            "reactive_power_var": reactive_power_var,
            "discharge_w": max(power_w, 0.0),
            "charge_w": max(-power_w, 0.0),
            "power_pct": 100.0 * power_w / max_w,
            "discharge_pct": 100.0 * max(power_w, 0.0) / max_w,
            "charge_pct": 100.0 * max(-power_w, 0.0) / max_w,
        }

    async def startup(self, timeout_s: float = 30.0) -> None:
        """Start-up sequence: reset a standing fault, start, wait until the device reports running."""
        if await self.loop.cycle():
            reading = self.reading()
            if reading is not None and reading.state is InverterState.FAULT:
                await self.reset_fault()
        await self.start()
        await self._wait_for(lambda r: r.state in _RUNNING, timeout_s, "running")

    async def shutdown(self, timeout_s: float = 30.0) -> None:
        """Shutdown sequence: 0 W at once, wait until the power has fallen to 1 % of rating, then stop."""
        await self.set_power(0.0)
        idle_w = 0.01 * self.config.max_power_w
        await self._wait_for(lambda r: abs(r.power_w) <= idle_w, timeout_s, "0 W")
        await self.stop()

    async def _wait_for(self, done: Callable[[InverterReading], bool], timeout_s: float, what: str) -> None:
        deadline_s = self._clock.monotonic() + timeout_s
        while True:
            if await self.loop.cycle():
                reading = self.reading()
                if reading is not None and done(reading):
                    return
            if self._clock.monotonic() >= deadline_s:
                raise DeviceCommandError(f"{self.device.regmap.name}: not {what} within {timeout_s} s")
            await asyncio.sleep(self.config.poll_interval_s)

    async def set_power_factor(self, power_factor: float) -> None:
        """Positive = over-excited (the inverter supplies reactive power), negative = under-excited.

        Maps get `power_factor` (signed), `power_factor_abs` and `excitation` (0 over-, 1 under-excited,
        SunSpec's Ext enum).
        """
        if not -1.0 <= power_factor <= 1.0 or power_factor == 0.0:
            raise DeviceCommandError(f"power factor {power_factor} refused: must be in [-1, 1] and non-zero")
        args = {
            "power_factor": power_factor,
            "power_factor_abs": abs(power_factor),
            "excitation": 0.0 if power_factor > 0 else 1.0,
        }
        await self._command("set_power_factor", args)

    async def start(self) -> None:
        self._ramp.reset(0.0)
        await self._command("start")

    async def stop(self) -> None:
        await self._command("stop")
        self._ramp.reset(0.0)

    async def reset_fault(self) -> None:
        await self._command("reset_fault")

    async def start_grid_forming(self) -> None:
        """Black start / grid-forming (backup mode); refused where the map declares no register."""
        self._ramp.reset(0.0)
        await self._command("start_grid_forming")

    def supports(self, command: str) -> bool:
        return self.device.has_command(command)

    async def _command(self, name: str, args: dict[str, float] | None = None) -> None:
        try:
            await self.device.command(name, args)
        except DeviceCommandError as exc:
            if self._errors is not None and self.device.has_command(name):
                self._errors.raise_error(INVERTER_COMMAND_FAILED, str(exc))
            raise
        if self._errors is not None:
            self._errors.clear(INVERTER_COMMAND_FAILED)

    # ---- heartbeat -----------------------------------------------------------------------
    async def beat(self) -> None:
        """Write the next heartbeat counter value (the device trips when it stops changing)."""
        heartbeat = self.device.regmap.heartbeat
        if heartbeat is None:
            return
        self._heartbeat = self._heartbeat % HEARTBEAT_MAX + 1
        await self.device.write(heartbeat.point, float(self._heartbeat), readback=False)

    async def _heartbeat_loop(self) -> None:
        heartbeat = self.device.regmap.heartbeat
        if heartbeat is None:
            return
        while True:
            try:
                await self.beat()
            except DeviceCommandError as exc:
                log.warning("inverter heartbeat: %s", exc)
            await asyncio.sleep(self.config.heartbeat_interval_s)

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(self.loop.run())
            group.create_task(self._heartbeat_loop())
