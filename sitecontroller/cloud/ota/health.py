"""Health gate after a software switch: confirm only when the node proved itself, else roll back.

Pure: the caller passes the facts and the time; the gate answers what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Decision = Literal["none", "wait", "confirm", "rollback"]


@dataclass(frozen=True, slots=True)
class HealthFacts:
    state: str
    hub_connected: bool
    cluster_ok: bool


def decide(pending: dict[str, object] | None, facts: HealthFacts, now_wall_s: float) -> Decision:
    if not pending:
        return "none"
    if facts.state == "Run" and facts.hub_connected and facts.cluster_ok:
        return "confirm"
    deadline = pending.get("deadline_wall_s")
    if isinstance(deadline, int | float) and now_wall_s >= deadline:
        return "rollback"
    return "wait"
