"""Active errors persisted across restarts, so a trip is still visible after the daemon comes back."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from sitecontroller.runtime.atomic import atomic_write_text
from sitecontroller.safety.errors import ActiveError

log = logging.getLogger(__name__)


class ErrorStore:
    def __init__(self, path: Path) -> None:
        self._path = path

    def save(self, errors: list[ActiveError]) -> None:
        atomic_write_text(self._path, json.dumps([e.to_json() for e in errors], indent=1))

    def load(self) -> list[ActiveError]:
        try:
            return [ActiveError.from_json(item) for item in json.loads(self._path.read_text())]
        except FileNotFoundError:
            return []
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.error("active-error file %s unreadable (%s); starting with none restored", self._path, exc)
            return []
