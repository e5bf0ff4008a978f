"""The CAN BMS service: the bus task plus the publish loop that puts a BmsReading under "bms".

Only a reading built from fresh frames is published. When every rack has gone silent the service
invalidates "bms" at once, so the safety chain trips as soon as the per-frame timeout notices,
and in any case no later than `timeout_s` after the last published reading.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import can

from sitecontroller.bms.binding import Binding, load_binding
from sitecontroller.bms.controller import BmsController
from sitecontroller.can.bus import BusFactory, open_bus
from sitecontroller.can.controller import BusFailure, CanBusController
from sitecontroller.config.bms import BmsConfig
from sitecontroller.core.clock import Clock
from sitecontroller.core.datastore import DataStore
from sitecontroller.core.readings import BmsReading
from sitecontroller.runtime.sysinfo import SysInfo
from sitecontroller.safety.errors import ErrorHandler

log = logging.getLogger(__name__)

SOURCE = "bms"
BALANCE_COMMAND_PERIOD_S = 1.0


def binding_for(config: BmsConfig) -> Binding:
    return load_binding(
        config.type,
        Path(config.dbc_dir) if config.dbc_dir else None,
        Path(config.dbc_file) if config.dbc_file else None,
    )


class CanBmsService:
    def __init__(
        self,
        config: BmsConfig,
        clock: Clock,
        store: DataStore,
        errors: ErrorHandler,
        sysinfo: SysInfo,
        *,
        bus_factory: BusFactory = open_bus,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.binding = binding_for(config)
        layout = self.binding.rack_layout
        self.can = CanBusController(
            config.can,
            self.binding.db.messages,
            clock,
            rack_mask=layout.mask if layout else 0,
            rack_shift=layout.shift if layout else 0,
            min_dlc=self.binding.min_dlc,
            bus_factory=bus_factory,
            sleep=sleep,
        )
        self.controller = BmsController(self.binding, config, clock, errors, sysinfo)
        self._config = config
        self._clock = clock
        self._store = store
        self._sleep = sleep
        self._published = False
        self._last_balance_s: float | None = None
        self._balance_was_active = False
        store.expect(SOURCE, config.timeout_s)

    def step(self) -> BmsReading | None:
        """One publish cycle: build the reading from the cache and put it (or invalidate)."""
        health = self.can.health()
        # Before the first open attempt the bus is not failing, only not open yet.
        bus_ok = health.bus_ok or not health.last_failure
        reading = self.controller.update(self.can, bus_ok, health.counters.decode_failures)
        if reading is not None:
            self._store.put(SOURCE, reading)
            self._published = True
        elif self._published:
            self._store.invalidate(SOURCE)
            self._published = False
        self._command_balancing()
        return reading

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self.can.run())
            while True:
                self.step()
                await self._sleep(self._config.publish_period_s)

    def _command_balancing(self) -> None:
        ref = self.binding.balance_command
        decision = self.controller.balance
        if ref is None or not (decision.active or self._balance_was_active):
            return
        now_s = self._clock.monotonic()
        due = self._last_balance_s is None or now_s - self._last_balance_s >= BALANCE_COMMAND_PERIOD_S
        if decision.active and not due and self._balance_was_active:
            return
        message = self.binding.message(ref.message)
        data = message.encode(
            {
                ref.enable: int(decision.active),
                ref.target_v: round(decision.target_v, 3),
                ref.duration_min: min(65535, int(decision.remaining_s // 60)),
            }
        )
        try:
            for rack in self._config.racks:
                self.can.send(
                    can.Message(
                        arbitration_id=self.binding.frame_id(ref.message, rack),
                        data=data,
                        is_extended_id=message.is_extended_frame,
                    )
                )
        except BusFailure as exc:
            log.warning("balance command not sent: %s", exc)
            return
        self._last_balance_s = now_s
        self._balance_was_active = decision.active
