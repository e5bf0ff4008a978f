"""Node liveness and the master seen by this node. Pure: fed with states and `now_s`.

The tracker only knows configured members; states from unknown nodes are refused, so a discovered
or spoofed node can never enter the allocation (and the quorum is never computed here at all).
"""

from __future__ import annotations

from dataclasses import dataclass

from masterController.membership.node_state import NodeState
from sitecontroller.config.cluster import ClusterConfig


@dataclass(frozen=True, slots=True)
class MembershipEvent:
    kind: str  # "online", "offline" or "leader"
    node_id: str | None
    detail: str


class MembershipTracker:
    def __init__(self, config: ClusterConfig) -> None:
        self._members = config.member_ids
        self._witnesses = frozenset(m.node_id for m in config.members if m.witness)
        self._offline_after_s = config.offline_after_s
        self._latest: dict[str, tuple[NodeState, float]] = {}
        self._online: set[str] = set()
        self._leader: tuple[int, str | None] = (0, None)

    def observe(self, state: NodeState, now_s: float) -> list[MembershipEvent]:
        if state.node_id not in self._members:
            raise ValueError(f"state from unknown node {state.node_id!r} refused")
        self._latest[state.node_id] = (state, now_s)
        if state.node_id in self._online:
            return []
        self._online.add(state.node_id)
        return [MembershipEvent("online", state.node_id, f"mode={state.mode} health={state.health}")]

    def expire(self, now_s: float) -> list[MembershipEvent]:
        events = []
        for node_id in sorted(self._online):
            heard_s = self._latest[node_id][1]
            if now_s - heard_s >= self._offline_after_s:
                self._online.discard(node_id)
                events.append(MembershipEvent("offline", node_id, f"silent for {now_s - heard_s:.2f} s"))
        return events

    def online_states(self, now_s: float) -> dict[str, NodeState]:
        """Fresh states of battery nodes (witnesses control no battery and are left out)."""
        return {
            node_id: state
            for node_id, (state, heard_s) in self._latest.items()
            if now_s - heard_s < self._offline_after_s and node_id not in self._witnesses
        }

    def observe_leader(self, term: int, leader_id: str | None) -> list[MembershipEvent]:
        if (term, leader_id) == self._leader:
            return []
        self._leader = (term, leader_id)
        return [MembershipEvent("leader", leader_id, f"term={term}")]
