"""systemd integration: READY after Init, and a watchdog heartbeat only while every loop is alive."""

from __future__ import annotations

import os

import sdnotify

from sitecontroller.core.clock import Clock


class Heartbeat:
    """Each loop beats; the watchdog is fed only when all of them beat recently (a hung loop starves it)."""

    def __init__(self, clock: Clock, loops: dict[str, float]) -> None:
        self._clock = clock
        self._max_age_s = dict(loops)
        self._last_s: dict[str, float] = {}

    def beat(self, loop: str) -> None:
        self._last_s[loop] = self._clock.monotonic()

    def healthy(self) -> bool:
        now_s = self._clock.monotonic()
        return all(
            loop in self._last_s and now_s - self._last_s[loop] <= max_age_s
            for loop, max_age_s in self._max_age_s.items()
        )


class SystemdNotifier:
    def __init__(self) -> None:
        self._enabled = bool(os.environ.get("NOTIFY_SOCKET"))
        self._notifier = sdnotify.SystemdNotifier() if self._enabled else None

    def _send(self, message: str) -> None:
        if self._notifier is not None:
            self._notifier.notify(message)

    def ready(self, status: str) -> None:
        self._send(f"READY=1\nSTATUS={status}")

    def status(self, status: str) -> None:
        self._send(f"STATUS={status}")

    def watchdog(self) -> None:
        self._send("WATCHDOG=1")

    def stopping(self) -> None:
        self._send("STOPPING=1")
