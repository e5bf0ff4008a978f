"""The hardware watchdog (/dev/watchdog), petted only while health checks pass, so a hang reboots.

`HealthGate` collects "I am alive" beats from loops and device drivers; the runtime's systemd
heartbeat can use the same gate. Closing with the magic "V" disarms the watchdog: do that only on
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
from sitecontroller.core.clock import Clock

WDIOC_SETTIMEOUT = 0xC0045706  # _IOWR('W', 6, int)
WDIOC_KEEPALIVE = 0x80045705  # _IOR('W', 5, int)


class HealthGate:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._max_age_s: dict[str, float] = {}
        self._beats: dict[str, float] = {}

    def expect(self, name: str, max_age_s: float) -> None:
        """`name` must beat at least every max_age_s (counted from now) for the node to be healthy."""
        self._max_age_s[name] = max_age_s
        self._beats.setdefault(name, self._clock.monotonic())

    def beat(self, name: str) -> None:
        self._beats[name] = self._clock.monotonic()

    def failing(self) -> list[str]:
        now_s = self._clock.monotonic()
        return sorted(n for n, age_s in self._max_age_s.items() if now_s - self._beats[n] > age_s)

    def healthy(self) -> bool:
        return not self.failing()


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
