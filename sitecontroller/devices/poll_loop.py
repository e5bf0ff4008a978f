"""The loop every Modbus driver runs: poll what is due, publish a reading, go stale on silence.

A failed poll publishes nothing; once the last good poll is older than `timeout_s`, the source
is marked invalid in the DataStore so the Monitor takes the safe branch even before the
DataStore's own age check would.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sitecontroller.core.clock import Clock
from sitecontroller.core.datastore import DataStore
from sitecontroller.devices.engine import RegisterDevice
from sitecontroller.devices.transport import DeviceIOError

log = logging.getLogger(__name__)


class PollLoop:
    def __init__(
        self,
        device: RegisterDevice,
        store: DataStore,
        source: str,
        clock: Clock,
        interval_s: float,
        timeout_s: float,
        build: Callable[[], object | None],
    ) -> None:
        self.device = device
        self.source = source
        self._store = store
        self._clock = clock
        self._interval_s = interval_s
        self._timeout_s = timeout_s
        self._build = build
        self._last_ok_s = clock.monotonic()
        self.last_error = ""

    @property
    def answering(self) -> bool:
        return self._clock.monotonic() - self._last_ok_s <= self._timeout_s

    async def cycle(self) -> bool:
        """One poll; True when a fresh reading was published."""
        try:
            await self.device.poll_due()
        except DeviceIOError as exc:
            if self.last_error != str(exc):
                log.warning("%s: %s", self.source, exc)
            self.last_error = str(exc)
            if not self.answering:
                self._store.invalidate(self.source)
            return False
        reading = self._build()
        if reading is None:
            self._store.invalidate(self.source)
            return False
        self._store.put(self.source, reading)
        self._last_ok_s = self._clock.monotonic()
        self.last_error = ""
        return True

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        next_s = loop.time()
        while True:
            await self.cycle()
            next_s = max(next_s + self._interval_s, loop.time())
            await asyncio.sleep(next_s - loop.time())
