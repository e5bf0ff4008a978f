"""Side-by-side software releases with an atomic switch and automatic rollback.

Layout under `root`:
    releases/<version>/   an unpacked release (code + its venv), never modified after install
    current -> releases/<version>   the symlink systemd's ExecStart goes through
    release-state.json    {"current", "previous", "pending": {"version", "deadline_wall_s"} | null}

Switching = new symlink under a temp name, `os.replace` over `current` (rename(2) is atomic;
`ln -sfn` is not), then fsync of the directory. A switched-to release stays "pending" until the
health gate confirms it; if the deadline passes first, `rollback` switches back.
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
from pathlib import Path

from sitecontroller.cloud.ota.manifest import ArtifactRejected
from sitecontroller.runtime.atomic import atomic_write_text


class ReleaseStore:
    def __init__(self, root: Path, keep: int = 3) -> None:
        self.root = root
        self._keep = keep
        (root / "releases").mkdir(parents=True, exist_ok=True)

    # --- state ------------------------------------------------------------------------------
    def _state_path(self) -> Path:
        return self.root / "release-state.json"

    def state(self) -> dict[str, object]:
        try:
            return json.loads(self._state_path().read_text())
        except FileNotFoundError:
            return {"current": self.current_version(), "previous": None, "pending": None, "last_result": None}

    def _save(self, state: dict[str, object]) -> None:
        atomic_write_text(self._state_path(), json.dumps(state, indent=1))

    def current_version(self) -> str | None:
        link = self.root / "current"
        return Path(os.readlink(link)).name if link.is_symlink() else None

    # --- install / switch ---------------------------------------------------------------------
    def install(self, version: str, archive: Path) -> Path:
        """Unpack a tar(.gz) release beside the others; refuses unsafe members."""
        target = self.root / "releases" / version
        if target.exists():
            return target
        staging = self.root / "releases" / f".{version}.staging"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        try:
            with tarfile.open(archive) as tar:
                # "data" filter: no absolute paths, no "..", no devices, no links leaving the tree.
                tar.extractall(staging, filter="data")
        except (tarfile.TarError, OSError) as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise ArtifactRejected(f"software archive unusable: {exc}") from exc
        os.replace(staging, target)
        return target

    def _switch(self, version: str) -> None:
        link = self.root / "current"
        tmp = self.root / ".current.tmp"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(Path("releases") / version)
        os.replace(tmp, link)
        fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def activate(self, version: str, now_wall_s: float, health_window_s: float) -> None:
        if not (self.root / "releases" / version).is_dir():
            raise ArtifactRejected(f"release {version} is not installed")
        previous = self.current_version()
        self._switch(version)
        self._save(
            {
                "current": version,
                "previous": previous,
                "last_result": "pending",
                "pending": {"version": version, "deadline_wall_s": now_wall_s + health_window_s},
            }
        )

    def confirm(self) -> None:
        state = self.state()
        state.update(pending=None, last_result="confirmed")
        self._save(state)
        self._prune()

    def rollback(self, reason: str) -> str | None:
        """Back to the previous release; returns it (None if there is nothing to go back to)."""
        state = self.state()
        previous = state.get("previous")
        if not isinstance(previous, str):
            state.update(pending=None, last_result=f"failed, no previous release: {reason}")
            self._save(state)
            return None
        self._switch(previous)
        self._save(
            {
                "current": previous,
                "previous": None,
                "pending": None,
                "last_result": f"rolled_back from {state.get('current')}: {reason}",
            }
        )
        return previous

    def _prune(self) -> None:
        state = self.state()
        protected = {state.get("current"), state.get("previous")}
        releases = sorted(
            (p for p in (self.root / "releases").iterdir() if not p.name.startswith(".")),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for old in releases[self._keep :]:
            if old.name not in protected:
                shutil.rmtree(old, ignore_errors=True)
