"""Read, parse and validate site parameters, reporting every problem with its field path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sitecontroller.config.site import SiteConfig
from sitecontroller.core import jsonc


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigError(ValueError):
    def __init__(self, problems: list[Problem], origin: str = "") -> None:
        self.problems = problems
        self.origin = origin
        head = f"{origin}: " if origin else ""
        super().__init__(head + "; ".join(str(p) for p in problems))


def parse_text(text: str, origin: str = "") -> Any:
    """JSON with comments and trailing commas (JSON5), as people edit it."""
    try:
        return jsonc.loads(text)
    except ValueError as exc:
        raise ConfigError([Problem("", f"not valid JSON: {exc}")], origin) from exc


def validate_site(data: Any, origin: str = "") -> SiteConfig:
    if not isinstance(data, dict):
        raise ConfigError([Problem("", "the top level must be an object")], origin)
    try:
        return SiteConfig.from_data(data)
    except ValidationError as exc:
        raise ConfigError([_problem(err) for err in exc.errors()], origin) from exc


def load_site(path: Path) -> SiteConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([Problem("", f"cannot read: {exc.strerror}")], str(path)) from exc
    return validate_site(parse_text(text, str(path)), str(path))


def merge_patch(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """RFC 7386 JSON merge patch: what a twin desired-properties patch means."""
    merged = dict(base)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_patch(merged[key], value)
        else:
            merged[key] = value
    return merged


def _problem(error: Any) -> Problem:
    path = ".".join(str(part) for part in error["loc"])
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    elif "input" in error and error["type"] not in {"missing", "value_error"}:
        message = f"{message} (got {error['input']!r})"
    return Problem(path, message)
