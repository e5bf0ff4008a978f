"""The setpoint contract: every batch is stamped so receivers can refuse stale or foreign ones."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class RunState(StrEnum):
    RUN = "run"
    SLEEP = "sleep"
    # A new leader's first TTL: it is the leader, but commands nothing; nodes stay in safe local mode.
    HOLD = "hold"


@dataclass(frozen=True, slots=True)
class SetpointBatch:
    term: int
    leader_id: str
    # Strictly increasing within a term.
    seq: int
    ttl_ms: int
    config_version: int
    run_state: RunState
    # node_id -> AC power, positive = discharge. A node absent here has no command (safe mode).
    setpoints_w: Mapping[str, float]
    # The operating mode the master runs (e.g. "peak_shaving"), shown on every node's status.
    site_mode: str = ""
