"""ErrorHandler: stable error ids, severities, sources, active-error tracking.

Pure: persistence is an injected callback, so the handler runs the same in tests, the
simulator and on the Pi. A Critical error demands an emergency stop until it clears and is reset.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from sitecontroller.core.clock import Clock


class Severity(IntEnum):
    WARNING = 1
    ERROR = 2
    CRITICAL = 3


class Source(StrEnum):
    BMS = "bms"
    INVERTER = "inverter"
    CAN = "can"
    COMMUNICATION = "communication"
    SENSOR = "sensor"
    BUTTON = "button"
    CLIMATE = "climate"
    MODBUS = "modbus"
    RASPBERRY_PI = "raspberry_pi"
    MOTHERBOARD = "motherboard"
    METER = "meter"
    GRID = "grid"
    CLUSTER = "cluster"
    CLOUD = "cloud"
    CONFIG = "config"


@dataclass(frozen=True, slots=True)
class ErrorDef:
    """One kind of error. `id` is stable across releases: the cloud and SCADA key on it."""

    id: str
    severity: Severity
    source: Source
    text: str
    only_in_states: frozenset[str] | None = None


_REGISTRY: dict[str, ErrorDef] = {}


def define_error(
    error_id: str,
    severity: Severity,
    source: Source,
    text: str,
    only_in_states: Iterable[str] | None = None,
) -> ErrorDef:
    """Declare an error kind once, at import time; a duplicate id is a programming error."""
    if error_id in _REGISTRY:
        raise ValueError(f"error id {error_id!r} is defined twice")
    definition = ErrorDef(
        error_id, severity, source, text, None if only_in_states is None else frozenset(only_in_states)
    )
    _REGISTRY[error_id] = definition
    return definition


def error_definitions() -> dict[str, ErrorDef]:
    return dict(_REGISTRY)


@dataclass(frozen=True, slots=True)
class ActiveError:
    id: str
    severity: Severity
    source: Source
    text: str
    raised_at_wall_s: float
    detail: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "severity": self.severity.name.lower(),
            "source": self.source.value,
            "text": self.text,
            "detail": self.detail,
            "raised_at": self.raised_at_wall_s,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> ActiveError:
        return cls(
            id=str(data["id"]),
            severity=Severity[str(data["severity"]).upper()],
            source=Source(str(data["source"])),
            text=str(data["text"]),
            raised_at_wall_s=float(data["raised_at"]),  # type: ignore[arg-type]
            detail=str(data.get("detail", "")),
        )


Listener = Callable[[ActiveError, bool], None]


class ErrorHandler:
    def __init__(
        self,
        clock: Clock,
        persist: Callable[[list[ActiveError]], None] | None = None,
        restored: Iterable[ActiveError] = (),
    ) -> None:
        self._clock = clock
        self._persist = persist
        self._active: dict[str, ActiveError] = {e.id: e for e in restored}
        self._listeners: list[Listener] = []
        self._state = "Init"

    def subscribe(self, listener: Listener) -> None:
        """`listener(error, raised)` hears every raise (True) and clear (False)."""
        self._listeners.append(listener)

    def set_state(self, state: str) -> None:
        self._state = state

    def raise_error(self, definition: ErrorDef, detail: str = "") -> bool:
        """Raise `definition`; returns True when it was not already active."""
        if definition.only_in_states is not None and self._state not in definition.only_in_states:
            return False
        if definition.id in self._active:
            return False
        error = ActiveError(
            definition.id, definition.severity, definition.source, definition.text, self._clock.wall(), detail
        )
        self._active[definition.id] = error
        self._changed(error, raised=True)
        return True

    def clear(self, definition: ErrorDef) -> bool:
        error = self._active.pop(definition.id, None)
        if error is None:
            return False
        self._changed(error, raised=False)
        return True

    def set(self, definition: ErrorDef, active: bool, detail: str = "") -> None:
        """Raise or clear from a boolean condition (what the Monitor evaluates every tick)."""
        if active:
            self.raise_error(definition, detail)
        else:
            self.clear(definition)

    def is_active(self, definition: ErrorDef) -> bool:
        return definition.id in self._active

    def active(self) -> list[ActiveError]:
        return sorted(self._active.values(), key=lambda e: (-e.severity, e.id))

    def worst(self) -> Severity | None:
        return max((e.severity for e in self._active.values()), default=None)

    @property
    def emergency_stop(self) -> bool:
        return self.worst() == Severity.CRITICAL

    def _changed(self, error: ActiveError, raised: bool) -> None:
        if self._persist is not None:
            self._persist(self.active())
        for listener in self._listeners:
            listener(error, raised)
