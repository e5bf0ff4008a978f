"""Recording of cluster events (role, vote, lease, setpoint send/apply) for offline invariant checks.

A recorder is any `Callable[[dict], None]`; `JsonlHistory` appends one JSON line per event and
flushes it to the OS at once, so a `kill -9` loses nothing already recorded.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import IO

from masterController.raft.storage import HardState, HardStateStore

Recorder = Callable[[dict], None]


class JsonlHistory:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = open(path, "a", encoding="utf-8")  # noqa: SIM115 - lives as long as the node

    def __call__(self, event: dict) -> None:
        self._file.write(json.dumps(event) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


class RecordingStore:
    """Wraps the durable store: records every hard-state write after it succeeded."""

    def __init__(self, inner: HardStateStore, record: Callable[[HardState], None]) -> None:
        self._inner = inner
        self._record = record

    def load(self) -> HardState:
        return self._inner.load()

    def save(self, state: HardState) -> None:
        self._inner.save(state)
        self._record(state)
