"""BMS sleep control: when to put the BMS to sleep, when to wake it, and when it is ready again.

Pure state machine on the injected clock. The runtime reports activity (power flowing, a state
change) and demands (cloud command, charge needed); `tick` returns the output command to execute.
The BMS sleeps after `idle_time_s` without activity, or on request (optionally for a fixed time:
the sleep timer). After waking, Run must wait for `ready`, i.e. a fresh BMS reading again; no
fresh reading within `wake_timeout_s` counts as a failed wake and the wake is commanded again.
"""

from __future__ import annotations

from enum import StrEnum

from sitecontroller.config.bms import SleepConfig
from sitecontroller.core.clock import Clock
from sitecontroller.runtime.sysinfo import SysInfo


class SleepState(StrEnum):
    AWAKE = "awake"
    SLEEPING = "sleeping"
    WAKING = "waking"


class SleepCommand(StrEnum):
    SLEEP = "sleep"
    WAKE = "wake"


class BmsSleepController:
    def __init__(self, config: SleepConfig, clock: Clock, sysinfo: SysInfo) -> None:
        self._config = config
        self._clock = clock
        self._sysinfo = sysinfo
        self.state = SleepState.AWAKE
        self._last_activity_s = clock.monotonic()
        self._asleep_since_s = 0.0
        self._wake_at_s: float | None = None
        self._sleep_requested: float | None = None  # duration (inf = until woken)
        self._wake_requested = ""
        self._waking_since_s = 0.0
        self.failed_wakes = 0

    @property
    def ready(self) -> bool:
        """True when the BMS is awake and its data is valid again (Run may start)."""
        return self.state == SleepState.AWAKE

    def activity(self) -> None:
        self._last_activity_s = self._clock.monotonic()

    def request_sleep(self, duration_s: float | None = None) -> None:
        self._sleep_requested = float("inf") if duration_s is None else duration_s

    def request_wake(self, reason: str) -> None:
        self._wake_requested = reason or "request"
        self.activity()

    def tick(self, bms_fresh: bool) -> SleepCommand | None:
        now_s = self._clock.monotonic()
        if self.state == SleepState.AWAKE:
            idle = self._config.idle_time_s > 0 and now_s - self._last_activity_s >= self._config.idle_time_s
            if self._sleep_requested is not None or idle:
                duration_s = self._sleep_requested if self._sleep_requested is not None else float("inf")
                self._sleep_requested, self._wake_requested = None, ""
                self._asleep_since_s = now_s
                self._wake_at_s = None if duration_s == float("inf") else now_s + duration_s
                self.state = SleepState.SLEEPING
                return SleepCommand.SLEEP
            return None
        if self.state == SleepState.SLEEPING:
            timer_done = self._wake_at_s is not None and now_s >= self._wake_at_s
            if self._wake_requested or timer_done:
                self._sysinfo.bms_sleep_time_s += now_s - self._asleep_since_s
                return self._start_waking(now_s)
            return None
        # WAKING: valid data makes the BMS ready; without it the wake is retried.
        if bms_fresh:
            self.state = SleepState.AWAKE
            self._last_activity_s = now_s
            return None
        if now_s - self._waking_since_s >= self._config.wake_timeout_s:
            self.failed_wakes += 1
            return self._start_waking(now_s)
        return None

    def _start_waking(self, now_s: float) -> SleepCommand:
        self._wake_requested = ""
        self._sleep_requested = None
        self._waking_since_s = now_s
        self.state = SleepState.WAKING
        return SleepCommand.WAKE
