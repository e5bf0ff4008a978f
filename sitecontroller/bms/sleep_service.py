"""Runs the BMS sleep controller once a second and drives its output (relay or IO module).

The composition root reaches the controller through `controller` to report activity, request
sleep or wake, and to ask `ready` before entering Run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sitecontroller.bms.errors import BMS_SLEEP_OUTPUT_FAILURE
from sitecontroller.bms.sleep import BmsSleepController, SleepCommand
from sitecontroller.config.bms import SleepConfig
from sitecontroller.core.clock import Clock
from sitecontroller.core.datastore import DataStore
from sitecontroller.drivers.base import BmsSleepControl, DeviceCommandError
from sitecontroller.runtime.sysinfo import SysInfo
from sitecontroller.safety.errors import ErrorHandler

log = logging.getLogger(__name__)
TICK_S = 1.0


class BmsSleepService:
    def __init__(
        self,
        config: SleepConfig,
        clock: Clock,
        store: DataStore,
        errors: ErrorHandler,
        sysinfo: SysInfo,
        output: BmsSleepControl,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.controller = BmsSleepController(config, clock, sysinfo)
        self._store = store
        self._errors = errors
        self._output = output
        self._sleep = sleep
        self._pending: SleepCommand | None = None

    async def step(self) -> None:
        fresh = self._store.snapshot().fresh("bms") is not None
        command = self.controller.tick(fresh) or self._pending
        if command is None:
            return
        try:
            await (self._output.sleep() if command == SleepCommand.SLEEP else self._output.wake())
        except DeviceCommandError as exc:
            # Retried next tick: a BMS that should sleep must not be left awake by one lost write.
            self._pending = command
            self._errors.raise_error(BMS_SLEEP_OUTPUT_FAILURE, str(exc))
            log.warning("BMS %s command failed: %s", command.value, exc)
            return
        self._pending = None
        self._errors.clear(BMS_SLEEP_OUTPUT_FAILURE)

    async def run(self) -> None:
        while True:
            await self.step()
            await self._sleep(TICK_S)
