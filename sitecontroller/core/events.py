"""The product's events and a small synchronous bus.

Pure modules return events; the runtime publishes them. Subscribers must be quick and must not
raise: telemetry, the status page and the audit log hang off this bus, never the control loops.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Event:
    at_wall_s: float


@dataclass(frozen=True, slots=True)
class StateChanged(Event):
    old: str
    new: str
    cause: str


@dataclass(frozen=True, slots=True)
class ModeChanged(Event):
    old: str
    new: str
    cause: str


@dataclass(frozen=True, slots=True)
class PowerChanged(Event):
    setpoint_w: float
    requested_w: float
    limited_by: str


@dataclass(frozen=True, slots=True)
class MeterEvent(Event):
    meter: str
    text: str


@dataclass(frozen=True, slots=True)
class ClimateEvent(Event):
    zone: str
    text: str


@dataclass(frozen=True, slots=True)
class SetupDevice(Event):
    device: str
    text: str
    details: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class GridFormingChanged(Event):
    active: bool
    cause: str


@dataclass(frozen=True, slots=True)
class ClusterChanged(Event):
    """Role changes of this node and members going online/offline, as the cluster service saw them."""

    kind: str
    details: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ErrorChanged(Event):
    error_id: str
    severity: str
    source: str
    text: str
    raised: bool


@dataclass(frozen=True, slots=True)
class CommandAudit(Event):
    """Every accepted or refused external command: who, what, the result."""

    origin: str
    command: str
    arguments: dict[str, object]
    accepted: bool
    reason: str


Handler = Callable[[Event], None]


class EventBus:
    def __init__(self) -> None:
        self._handlers: list[tuple[type[Event], Handler]] = []

    def subscribe(self, handler: Handler, kind: type[Event] = Event) -> None:
        self._handlers.append((kind, handler))

    def publish(self, event: Event) -> None:
        for kind, handler in self._handlers:
            if isinstance(event, kind):
                try:
                    handler(event)
                except Exception:
                    log.exception("event handler %r failed on %s", handler, type(event).__name__)
