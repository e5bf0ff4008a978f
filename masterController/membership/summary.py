"""Cluster-wide aggregates the master reports (telemetry) and the mode controllers may use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from masterController.membership.node_state import NodeState


@dataclass(frozen=True, slots=True)
class ClusterSummary:
    online_nodes: int
    # Plain mean over online battery nodes: node states carry no capacity, so equal racks are assumed.
    mean_soc_pct: float | None
    power_w: float
    max_charge_power_w: float
    max_discharge_power_w: float
    unhealthy: tuple[str, ...]


def summarize(states: Mapping[str, NodeState]) -> ClusterSummary:
    values = list(states.values())
    return ClusterSummary(
        online_nodes=len(values),
        mean_soc_pct=sum(s.soc_pct for s in values) / len(values) if values else None,
        power_w=sum(s.power_w for s in values),
        max_charge_power_w=sum(s.max_charge_power_w for s in values),
        max_discharge_power_w=sum(s.max_discharge_power_w for s in values),
        unhealthy=tuple(sorted(s.node_id for s in values if s.health != "ok")),
    )
