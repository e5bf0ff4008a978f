"""What each node publishes about itself, every `state_interval_s`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class NodeState:
    node_id: str
    soc_pct: float
    # Present inverter AC power, positive = discharge.
    power_w: float
    # Largest charge (as a positive number) and discharge power the node can deliver right now.
    max_charge_power_w: float
    max_discharge_power_w: float
    # The node's local state-machine state (e.g. "run", "sleep", "error") and health summary.
    mode: str
    health: str
    version: str
    # Usable energy at SoH 100 %: the master shares power by available energy (SoC balancing).
    capacity_wh: float = 0.0
    # Grid power at the site meter (import positive), from the node that owns the meter only.
    grid_power_w: float | None = None
