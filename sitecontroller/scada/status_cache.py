"""The node's status as the server serves it: a snapshot refreshed on read, at most every `max_age_s`.

Reading the status is cheap and synchronous (the daemon's `status()`), so a request never waits for
the control loops and the loops never wait for a request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from sitecontroller.core.clock import Clock
from sitecontroller.scada.errors import ExceptionCode, ModbusError

log = logging.getLogger(__name__)

StatusProvider = Callable[[], Mapping[str, object]]


class StatusCache:
    def __init__(self, provider: StatusProvider, clock: Clock, max_age_s: float) -> None:
        self._provider = provider
        self._clock = clock
        self._max_age_s = max_age_s
        self._status: Mapping[str, object] | None = None
        self._fetched_s = 0.0
        self.generation = 0  # changes whenever the served snapshot changes

    def get(self) -> Mapping[str, object]:
        now_s = self._clock.monotonic()
        if self._status is None or now_s - self._fetched_s >= self._max_age_s:
            try:
                self._status = self._provider()
            except Exception as exc:  # a status bug must not take the server down
                log.exception("status provider failed")
                if self._status is None:
                    raise ModbusError(ExceptionCode.DEVICE_FAILURE, f"no status yet: {exc}") from exc
            self._fetched_s = now_s
            self.generation += 1
        return self._status

    def invalidate(self) -> None:
        """After an accepted write: the next read shows its effect (read-back within 1 s)."""
        self._fetched_s = float("-inf")
