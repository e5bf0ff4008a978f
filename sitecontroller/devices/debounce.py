"""Pure input logic on an injected clock: debounced buttons with long press, and the fail-safe e-stop."""

from __future__ import annotations

from typing import Literal

from sitecontroller.core.clock import Clock

Press = Literal["short", "long"]


class ButtonLogic:
    """Debounces a raw level; "long" once when held past long_press_s, "short" on an earlier release."""

    def __init__(self, clock: Clock, debounce_s: float, long_press_s: float) -> None:
        self._clock = clock
        self._debounce_s = debounce_s
        self._long_press_s = long_press_s
        self._raw = False
        self._raw_since_s = clock.monotonic()
        self.pressed = False
        self._pressed_since_s = 0.0
        self._long_sent = False

    def update(self, raw_pressed: bool) -> Press | None:
        now_s = self._clock.monotonic()
        if raw_pressed != self._raw:
            self._raw, self._raw_since_s = raw_pressed, now_s
        event: Press | None = None
        if self._raw != self.pressed and now_s - self._raw_since_s >= self._debounce_s:
            self.pressed = self._raw
            if self.pressed:
                self._pressed_since_s, self._long_sent = now_s, False
            elif not self._long_sent:
                event = "short"
        if self.pressed and not self._long_sent and now_s - self._pressed_since_s >= self._long_press_s:
            self._long_sent = True
            event = "long"
        return event


class EstopLogic:
    """Stop at once when the chain opens; release only after it stayed closed for release_s (no chatter)."""

    def __init__(self, clock: Clock, release_s: float) -> None:
        self._clock = clock
        self._release_s = release_s
        self.active = True  # until the chain has been seen closed, assume stop
        self._closed_since_s: float | None = None

    def update(self, chain_closed: bool) -> bool:
        now_s = self._clock.monotonic()
        if not chain_closed:
            self.active, self._closed_since_s = True, None
        elif self._closed_since_s is None:
            self._closed_since_s = now_s
        closed_since_s = self._closed_since_s
        if chain_closed and closed_since_s is not None and now_s - closed_since_s >= self._release_s:
            self.active = False
        return self.active
