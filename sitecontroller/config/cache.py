"""The last good site parameters, kept on disk so a node restarts into them without the cloud."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from sitecontroller.config.loader import ConfigError, load_site
from sitecontroller.config.site import SiteConfig
from sitecontroller.runtime.atomic import atomic_write_text

log = logging.getLogger(__name__)


class ParameterCache:
    def __init__(self, path: Path) -> None:
        self._path = path

    @property
    def path(self) -> Path:
        return self._path

    def save(self, config: SiteConfig) -> None:
        atomic_write_text(self._path, json.dumps(config.model_dump(mode="json"), indent=1))

    def load(self) -> SiteConfig | None:
        """The cached parameters, or None when there are none or they no longer validate."""
        if not self._path.exists():
            return None
        try:
            return load_site(self._path)
        except ConfigError as exc:
            log.error("ignoring cached parameters: %s", exc)
            return None
