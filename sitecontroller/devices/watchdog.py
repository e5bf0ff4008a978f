"""The hardware watchdog (/dev/watchdog), petted only while health checks pass, so a hang reboots.

The runtime's `HealthGate` collects "I am alive" beats from loops and device drivers; the systemd
heartbeat and this watchdog both read it. Closing with the magic "V" disarms the watchdog: do that only on
a clean shutdown, never on a crash path.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import struct
from collections.abc import Callable

from sitecontroller.config.devices import WatchdogConfig
from sitecontroller.runtime.health import HealthGate

WDIOC_SETTIMEOUT = 0xC0045706  # _IOWR('W', 6, int)
WDIOC_KEEPALIVE = 0x80045705  # _IOR('W', 5, int)


class HardwareWatchdog:
    def __init__(
        self,
        config: WatchdogConfig,
        ioctl: Callable[[int, int, bytes], bytes] = fcntl.ioctl,  # type: ignore[assignment]
    ) -> None:
        self._config = config
        self._ioctl = ioctl
        self._fd: int | None = os.open(config.device, os.O_WRONLY)
        # a driver with a fixed timeout refuses this; petting at pet_interval_s still works
        with contextlib.suppress(OSError):
            self._ioctl(self._fd, WDIOC_SETTIMEOUT, struct.pack("i", config.timeout_s))
        self.pets = 0

    def pet(self) -> None:
        if self._fd is None:
            raise RuntimeError("watchdog already closed")
        os.write(self._fd, b"\0")
        self.pets += 1

    def close(self) -> None:
        """Disarm (magic close) and release the device; only for a clean, intended shutdown."""
        if self._fd is not None:
            os.write(self._fd, b"V")
            os.close(self._fd)
            self._fd = None

    async def run(self, gate: HealthGate) -> None:
        """Pet while the gate is healthy; stop petting (and let the board reboot) when it is not."""
        while True:
            if gate.healthy():
                self.pet()
            await asyncio.sleep(self._config.pet_interval_s)
