"""Term and vote on disk: write a temp file, fsync it, rename it over the old one, fsync the directory."""

from __future__ import annotations

import json
import os
from pathlib import Path

from masterController.raft.storage import HardState

STATE_FILE_NAME = "election_state.json"
FORMAT_VERSION = 1


class CorruptStateError(RuntimeError):
    """The state file exists but cannot be trusted: refusing to start beats voting twice."""


class FileHardStateStore:
    def __init__(self, state_dir: Path) -> None:
        self._dir = state_dir
        self._path = state_dir / STATE_FILE_NAME

    def load(self) -> HardState:
        try:
            raw = self._path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return HardState()
        try:
            data = json.loads(raw)
            if data.get("v") != FORMAT_VERSION:
                raise ValueError(f"unknown format version {data.get('v')!r}")
            term, voted_for = data["term"], data["voted_for"]
            if not isinstance(term, int) or isinstance(term, bool) or term < 0:
                raise ValueError(f"bad term {term!r}")
            if voted_for is not None and not isinstance(voted_for, str):
                raise ValueError(f"bad voted_for {voted_for!r}")
        except (ValueError, KeyError, AttributeError) as exc:
            raise CorruptStateError(f"{self._path}: {exc}") from exc
        return HardState(term=term, voted_for=voted_for)

    def save(self, state: HardState) -> None:
        self._dir.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_suffix(".tmp")
        payload = json.dumps({"v": FORMAT_VERSION, "term": state.term, "voted_for": state.voted_for})
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self._path)
        dir_fd = os.open(self._dir, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
