"""Cluster-wide aggregates the master reports (telemetry) and the mode controllers may use."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from masterController.membership.node_state import NodeState


@dataclass(frozen=True, slots=True)
class ClusterSummary:
    online_nodes: int
    # Capacity-weighted mean over online battery nodes (plain mean where no capacity is reported).
    mean_soc_pct: float | None
    power_w: float
    max_charge_power_w: float
    max_discharge_power_w: float
    unhealthy: tuple[str, ...]


def summarize(states: Mapping[str, NodeState]) -> ClusterSummary:
    values = list(states.values())
    return ClusterSummary(
        online_nodes=len(values),
        mean_soc_pct=cluster_soc_pct(values),
        power_w=sum(s.power_w for s in values),
        max_charge_power_w=sum(s.max_charge_power_w for s in values),
        max_discharge_power_w=sum(s.max_discharge_power_w for s in values),
        unhealthy=tuple(sorted(s.node_id for s in values if s.health != "ok")),
    )


def cluster_soc_pct(states: Sequence[NodeState]) -> float | None:
    """SoC of the site as one battery: weighted by capacity, so a small node cannot skew it."""
    if not states:
        return None
    weights = [s.capacity_wh if s.capacity_wh > 0 else 1.0 for s in states]
    return sum(s.soc_pct * w for s, w in zip(states, weights, strict=True)) / sum(weights)
