"""The master controller (pure): decides and stamps setpoint batches while this node leads."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping

from masterController.master.setpoint import RunState, SetpointBatch
from masterController.membership.node_state import NodeState
from masterController.raft.core import ElectionStatus
from masterController.raft.messages import Role
from sitecontroller.config.cluster import ClusterConfig

# decide(online node states, now_s) -> node_id -> setpoint_w (positive = discharge). The lead wires
# the mode controller and the power allocator into this.
Decide = Callable[[Mapping[str, NodeState], float], Mapping[str, float]]

log = logging.getLogger(__name__)


class MasterController:
    def __init__(self, node_id: str, config: ClusterConfig, decide: Decide) -> None:
        self._id = node_id
        self._cfg = config
        self._decide = decide
        self._run_state = RunState.RUN
        self._site_mode = ""
        self._term = 0
        self._seq = 0

    def set_run_state(self, run_state: RunState) -> None:
        """Site-wide Run/Sleep request (cloud, SCADA or the local operator via the daemon)."""
        if run_state is RunState.HOLD:
            raise ValueError("hold is the election's own state, not an operator command")
        self._run_state = run_state

    def set_site_mode(self, site_mode: str) -> None:
        """Name of the active mode controller, synchronised to every node with the setpoints."""
        if len(site_mode) > 64:
            raise ValueError("site mode names are at most 64 characters")
        self._site_mode = site_mode

    def next_batch(
        self, status: ElectionStatus, node_states: Mapping[str, NodeState], now_s: float
    ) -> SetpointBatch | None:
        """The batch to publish now, or None: only a leader holding its lease ever commands."""
        if status.role is not Role.LEADER or not status.lease_valid or status.leader_since_s is None:
            return None
        if status.term != self._term:
            self._term, self._seq = status.term, 0
        self._seq += 1
        ttl_ms = round(self._cfg.setpoint_ttl_s * 1000)
        if now_s < status.leader_since_s + self._cfg.setpoint_ttl_s:
            # A stale setpoint of the previous leader may still run inside its TTL somewhere.
            return self._batch(ttl_ms, RunState.HOLD, {})
        setpoints_w = self._checked(self._decide(node_states, now_s), node_states)
        return self._batch(ttl_ms, self._run_state, setpoints_w)

    def _batch(self, ttl_ms: int, run_state: RunState, setpoints_w: Mapping[str, float]) -> SetpointBatch:
        return SetpointBatch(
            term=self._term,
            leader_id=self._id,
            seq=self._seq,
            ttl_ms=ttl_ms,
            config_version=self._cfg.config_version,
            run_state=run_state,
            setpoints_w=dict(setpoints_w),
            site_mode=self._site_mode,
        )

    @staticmethod
    def _checked(raw: Mapping[str, float], node_states: Mapping[str, NodeState]) -> dict[str, float]:
        """Drop what no node may run: unknown or offline targets, non-finite numbers (they get safe mode)."""
        checked = {}
        for node_id, power_w in raw.items():
            if node_id not in node_states:
                log.warning("decide() commanded %r, which is not an online battery node: dropped", node_id)
            elif not isinstance(power_w, int | float) or not math.isfinite(power_w):
                log.error("decide() gave %r for node %r: dropped (safe mode there)", power_w, node_id)
            else:
                checked[node_id] = float(power_w)
        return checked
