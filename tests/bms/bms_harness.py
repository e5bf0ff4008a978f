"""A CAN BMS service and a BMS emulator joined by a real python-can virtual bus, on a SimClock."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

import can

from sitecontroller.bms.can_service import CanBmsService
from sitecontroller.config.bms import BmsConfig, CanConfig
from sitecontroller.core.clock import SimClock
from sitecontroller.core.datastore import DataStore
from sitecontroller.core.readings import BmsReading
from sitecontroller.runtime.sysinfo import SysInfo
from sitecontroller.safety.errors import ErrorHandler
from sitecontroller.sim.bms_emulator import BmsEmulator


@dataclass
class FakeRack:
    rack_id: int
    soc_pct: float = 50.0
    current_a: float = 0.0
    voltage_v: float = 52.8
    cell_voltages_v: Sequence[float] = (3.30,) * 16
    cell_temps_c: Sequence[float] = (25.0,) * 16
    online: bool = True


@dataclass
class FakeBattery:
    racks: list[FakeRack] = field(default_factory=lambda: [FakeRack(0)])


async def until(condition, timeout_s: float = 3.0) -> None:
    """Bounded wait for the real bus thread (not for simulated time)."""
    for _ in range(int(timeout_s / 0.005)):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not reached on the bus")


class Harness:
    def __init__(self, bms_type: str, battery: object, **config: object) -> None:
        self.clock = SimClock()
        self.store = DataStore(self.clock)
        self.errors = ErrorHandler(self.clock)
        self.sysinfo = SysInfo()
        self.channel = f"bms-{uuid.uuid4().hex}"
        self.config = BmsConfig.model_validate(
            {"type": bms_type, "can": CanConfig(interface="virtual", channel=self.channel), **config}
        )
        self.service = CanBmsService(self.config, self.clock, self.store, self.errors, self.sysinfo)
        self.tx = can.Bus(interface="virtual", channel=self.channel)
        self.emulator = BmsEmulator(self.service.binding, lambda: battery, self.tx)
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Harness:
        self._task = asyncio.create_task(self.service.can.run())
        await until(lambda: self.service.can.health().bus_ok)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self.tx.shutdown()

    async def deliver(self, frames: Sequence[can.Message]) -> None:
        target = self.service.can.health().counters.frames + len(frames)
        for frame in frames:
            self.tx.send(frame)
        await until(lambda: self.service.can.health().counters.frames >= target)

    async def cycle(self, dt_s: float = 0.5) -> BmsReading | None:
        """Advance simulated time, let the BMS send everything once, run one publish step."""
        self.clock.advance(dt_s)
        await self.deliver(self.emulator.all_frames())
        return self.service.step()

    def active_ids(self) -> set[str]:
        return {e.id for e in self.errors.active()}
