"""The port through which the cloud reads and changes the site parameters.

Twin desired properties, `Setup_Device` and device-configuration artifacts all end here: a
candidate document is validated WHOLE against the site schema; either all of it is put in force
(and cached for offline operation) or nothing changes and every problem is returned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

Problems = list[tuple[str, str]]


class SiteParameters(Protocol):
    def current(self) -> dict[str, Any]:
        """JSON form of the parameters in force."""
        ...

    def apply(self, candidate: dict[str, Any], version: int | None) -> Problems:
        """Validate the whole candidate; on success put it in force and cache it and return []."""
        ...


def problems_of(exc: Exception) -> Problems:
    """(field path, message) pairs from a pydantic ValidationError or a ConfigError-like error."""
    if isinstance(exc, ValidationError):
        return [(".".join(str(p) for p in err["loc"]) or "<root>", err["msg"]) for err in exc.errors()]
    problems = getattr(exc, "problems", None)  # sitecontroller.config.loader.ConfigError: [Problem]
    if isinstance(problems, list) and problems:
        return [(getattr(p, "path", "") or "<root>", getattr(p, "message", str(p))) for p in problems]
    return [("<root>", str(exc))]


class ValidatedSiteParameters:
    """SiteParameters over a validator (e.g. `sitecontroller.config.loader.validate_site`)."""

    def __init__(
        self,
        validate: Callable[[dict[str, Any]], BaseModel],
        initial: BaseModel,
        on_applied: Callable[[BaseModel, int | None], None] | None = None,
    ) -> None:
        self._validate = validate
        self._current = initial
        self._on_applied = on_applied
        self.applied_version: int | None = None

    @property
    def model(self) -> BaseModel:
        return self._current

    def current(self) -> dict[str, Any]:
        return self._current.model_dump(mode="json")

    def apply(self, candidate: dict[str, Any], version: int | None) -> Problems:
        try:
            model = self._validate(candidate)
        except Exception as exc:  # the validator's error type is the schema owner's business
            return problems_of(exc)
        self._current = model
        self.applied_version = version
        if self._on_applied is not None:
            self._on_applied(model, version)
        return []
