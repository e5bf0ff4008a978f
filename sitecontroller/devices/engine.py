"""The register-map engine: polls a device by groups, keeps converted values with their age,
and writes commands with range checks and read-back.

It knows nothing about inverters or meters; drivers ask it for named values and commands.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sitecontroller.core.clock import Clock
from sitecontroller.devices import codec
from sitecontroller.devices.readplan import Block, plan_reads
from sitecontroller.devices.regmap import Command, Point, RegisterMap, Step
from sitecontroller.devices.transport import DeviceIOError, Transport
from sitecontroller.drivers.base import DeviceCommandError

Value = float | str
MAX_WRITE_REGISTERS = 123  # the Modbus limit for write-multiple-registers


@dataclass(frozen=True, slots=True)
class _Sample:
    value: Value | None  # None: the device said "not available"
    at_s: float


@dataclass
class _Run:
    """Registers written in one request."""

    table: str
    address: int
    registers: list[int]
    readback: bool
    names: list[str]


class RegisterDevice:
    def __init__(self, regmap: RegisterMap, transport: Transport, unit: int, clock: Clock) -> None:
        self.regmap = regmap
        self.transport = transport
        self.unit = unit
        self._clock = clock
        self._samples: dict[str, _Sample] = {}
        self._raw: dict[str, int | float | str] = {}
        self._plans: dict[str, list[Block]] = {
            group: plan_reads(regmap, [n for n, p in regmap.points.items() if p.group == group])
            for group in regmap.groups
        }
        self._polled_at: dict[str, float] = {}
        self._sf_names = {p.scale_factor for p in regmap.points.values() if p.scale_factor is not None}

    # ---- reading -------------------------------------------------------------------------
    async def poll_due(self) -> None:
        """Poll every group whose interval has passed (interval 0 = every call). Raises DeviceIOError."""
        now_s = self._clock.monotonic()
        for group, interval_s in self.regmap.groups.items():
            last_s = self._polled_at.get(group)
            if last_s is None or now_s - last_s >= interval_s:
                await self.read_blocks(self._plans[group])
                self._polled_at[group] = now_s

    async def read_points(self, names: list[str]) -> dict[str, Value | None]:
        await self.read_blocks(plan_reads(self.regmap, names))
        return {name: self._samples[name].value for name in names}

    async def read_blocks(self, blocks: list[Block]) -> None:
        answers = [
            (block, await self.transport.read(block.table, block.start, block.count, self.unit))
            for block in blocks
        ]
        now_s = self._clock.monotonic()
        # scale factors first (SunSpec puts them after the values): values are scaled with fresh ones
        sf_names = self._sf_names
        for pass_sf in (True, False):
            for block, registers in answers:
                for name in block.points:
                    if (name in sf_names) == pass_sf:
                        point = self.regmap.points[name]
                        offset = point.address - block.start
                        self._store(name, registers[offset : offset + point.size], now_s)

    def _store(self, name: str, registers: list[int], now_s: float) -> None:
        point = self.regmap.points[name]
        if codec.is_not_available(point, registers):
            self._samples[name] = _Sample(None, now_s)
            return
        raw = codec.decode_raw(point, registers)
        self._raw[name] = raw
        if isinstance(raw, str):
            self._samples[name] = _Sample(raw, now_s)
            return
        sf = self._scale_factor(point.scale_factor)
        self._samples[name] = _Sample(None if sf is None else codec.to_site(point, raw, sf), now_s)

    def _scale_factor(self, sf_name: str | None) -> int | None:
        if sf_name is None:
            return 0
        raw = self._raw.get(sf_name)
        sample = self._samples.get(sf_name)
        return None if raw is None or sample is None or sample.value is None else int(raw)

    def value(self, name: str, max_age_s: float | None = None) -> Value | None:
        """The converted value, or None when never read, not available, or older than max_age_s."""
        sample = self._samples.get(name)
        if sample is None:
            return None
        if max_age_s is not None and self._clock.monotonic() - sample.at_s > max_age_s:
            return None
        return sample.value

    def number(self, name: str, max_age_s: float | None = None) -> float | None:
        value = self.value(name, max_age_s)
        return value if isinstance(value, float) else None

    # ---- writing -------------------------------------------------------------------------
    async def write(self, name: str, value: float, readback: bool = True) -> None:
        """Range-check, encode and write one point; with readback, confirm the device holds it."""
        point, registers = await self._encode(name, value)
        await self._send(_Run(point.table, point.address, registers, readback and point.readable, [name]))

    async def _encode(self, name: str, value: float) -> tuple[Point, list[int]]:
        point = self.regmap.points.get(name)
        if point is None or not point.writable:
            raise DeviceCommandError(f"{self.regmap.name}: no writable register {name!r}")
        try:
            codec.check_range(name, point, value)
            sf = 0
            if point.scale_factor is not None:
                if point.scale_factor not in self._raw:  # scale factors are constant: read once
                    await self.read_points([point.scale_factor])
                sf = int(self._raw[point.scale_factor])
            return point, codec.encode_raw(point, codec.from_site(point, value, sf))
        except codec.EncodeError as exc:
            raise DeviceCommandError(f"{self.regmap.name}: refused: {exc}") from exc
        except DeviceIOError as exc:
            raise DeviceCommandError(f"{self.regmap.name}: {name}: {exc}") from exc

    async def _send(self, run: _Run) -> None:
        names = ", ".join(run.names)
        try:
            await self.transport.write(run.table, run.address, run.registers, self.unit)
            if run.readback:
                echoed = await self.transport.read(run.table, run.address, len(run.registers), self.unit)
                if echoed != run.registers:
                    raise DeviceCommandError(
                        f"{self.regmap.name}: {names} read back {echoed}, wrote {run.registers}"
                    )
        except DeviceIOError as exc:
            raise DeviceCommandError(f"{self.regmap.name}: {names}: {exc}") from exc

    def has_command(self, name: str) -> bool:
        return name in self.regmap.commands

    def check_command(self, name: str, args: Mapping[str, float] | None = None) -> list[tuple[Step, float]]:
        """The writes `name` would make, each range-checked; raises DeviceCommandError without I/O."""
        command: Command | None = self.regmap.commands.get(name)
        if command is None:
            raise DeviceCommandError(
                f"{self.regmap.name}: the map declares no register for {name!r}; command refused"
            )
        writes = [(step, self._step_value(name, step, args or {})) for step in command.steps]
        for step, value in writes:
            try:
                codec.check_range(step.write, self.regmap.points[step.write], value)
            except codec.EncodeError as exc:
                raise DeviceCommandError(f"{self.regmap.name}: {name} refused: {exc}") from exc
        return writes

    async def command(self, name: str, args: Mapping[str, float] | None = None) -> None:
        """Check every step first, so a bad argument never leaves a half-written sequence.

        Steps that write adjacent holding registers in ascending order go out as one
        write-multiple (and one read-back): P and Q setpoints take 2 round trips, not 4.
        """
        runs: list[_Run] = []
        for step, value in self.check_command(name, args):
            point, registers = await self._encode(step.write, value)
            readback = step.readback and point.readable
            last = runs[-1] if runs else None
            if (
                last is not None
                and point.table == last.table == "holding"
                and last.readback == readback
                and point.address == last.address + len(last.registers)
                and len(last.registers) + len(registers) <= MAX_WRITE_REGISTERS
            ):
                last.registers += registers
                last.names.append(step.write)
            else:
                runs.append(_Run(point.table, point.address, registers, readback, [step.write]))
        for run in runs:
            await self._send(run)

    def _step_value(self, command: str, step: Step, args: Mapping[str, float]) -> float:
        if step.value is not None:
            return step.value
        assert step.arg is not None  # the Step validator guarantees one of the two
        if step.arg not in args:
            raise DeviceCommandError(f"{self.regmap.name}: command {command} needs argument {step.arg!r}")
        return args[step.arg]
