"""A node in a cluster: its power comes from the master's lease, and when it leads, its mode
controller and the allocator decide for the whole site.

Mode and Run/Sleep follow the master's directive, so whichever node leads next continues the same
mode. Without a valid lease the node requests 0 W (the safe local mode); the state machine, the
safety chain and the limiter apply exactly as on a standalone node.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping, Sequence

from masterController.cluster_service import ClusterService
from masterController.control.allocator import Allocation, SiteLimits, allocate
from masterController.control.allocator import NodeState as AllocNode
from masterController.control.mode_manager import ControlOutput, ModeCommandError, ModeManager
from masterController.control.snapshot import SiteSnapshot
from masterController.grid_support.characteristics import Fcr
from masterController.grid_support.frequency_response import FrequencyResponse, Share
from masterController.grid_support.reserves import assign_shares
from masterController.master.setpoint import RunState
from masterController.membership.node_state import NodeState
from masterController.membership.summary import cluster_soc_pct
from sitecontroller.config.control import GridServicesConfig
from sitecontroller.core.clock import Clock
from sitecontroller.node.core import ControlInputs, PowerRequest
from sitecontroller.state.machine import Request, RequestRefused, StateMachine

log = logging.getLogger(__name__)


class MasterDecision:
    """The master's `decide`: one site snapshot from the node states, the mode, the allocation."""

    def __init__(self, modes: ModeManager, clock: Clock) -> None:
        self._modes = modes
        self._clock = clock
        self.last: tuple[ControlOutput, Allocation] | None = None

    def __call__(self, node_states: Mapping[str, NodeState], now_s: float) -> dict[str, float]:
        states = list(node_states.values())
        if not states:
            return {}
        grid_w = next((s.grid_power_w for s in states if s.grid_power_w is not None), None)
        view = SiteSnapshot(
            now_s=now_s,
            wall_s=self._clock.wall(),
            grid_power_w=0.0 if grid_w is None else grid_w,
            battery_power_w=sum(s.power_w for s in states),
            soc_pct=cluster_soc_pct(states) or 0.0,
            max_discharge_w=sum(s.max_discharge_power_w for s in states),
            max_charge_w=sum(s.max_charge_power_w for s in states),
            meter_valid=grid_w is not None,
        )
        out = self._modes.step(view)
        nodes = allocation_nodes(states)
        limits = SiteLimits.from_grid(self._modes.config.site, view.grid_without_battery_w)
        allocation = allocate(out.decision.power_w, nodes, limits, allow_sleep=out.decision.nodes_may_sleep)
        self.last = (out, allocation)
        return {n.node_id: n.power_w for n in allocation.nodes}


def allocation_nodes(states: Sequence[NodeState]) -> list[AllocNode]:
    return [
        AllocNode(
            node_id=s.node_id,
            soc_pct=s.soc_pct,
            max_discharge_w=s.max_discharge_power_w,
            max_charge_w=s.max_charge_power_w,
            capacity_wh=s.capacity_wh if s.capacity_wh > 0 else 1.0,
            sleeping=s.mode == "sleep",
            healthy=s.health == "ok",
        )
        for s in states
    ]


# Each contracted product and the direction its power flows in (for splitting it over the nodes).
SERVICE_DIRECTIONS = {"fcrn": "both", "fcrd_up": "up", "fcrd_down": "down", "ffr": "up"}
_PRODUCT_KEYS = {"fcrn": str(Fcr.N), "fcrd_up": str(Fcr.D_UP), "fcrd_down": str(Fcr.D_DOWN), "ffr": "ffr"}


def service_shares(
    services: GridServicesConfig, states: Sequence[NodeState]
) -> dict[str, dict[str, tuple[float, float]]]:
    """The master's split of every enabled contract over the nodes online now: node -> product -> share.
    A contract the nodes cannot cover is left out and logged (never over-committed)."""
    nodes = allocation_nodes(states)
    shares: dict[str, dict[str, tuple[float, float]]] = {n.node_id: {} for n in nodes}
    for name, direction in SERVICE_DIRECTIONS.items():
        product = getattr(services, name)
        if not product.enabled or product.capacity_w <= 0:
            continue
        energy_wh = getattr(product, "energy_wh", 0.0)
        try:
            split = assign_shares(product.capacity_w, energy_wh, nodes, direction)
        except ValueError as exc:
            log.error("grid service %s not assigned: %s", name, exc)
            continue
        for node_id, share in split.items():
            shares[node_id][_PRODUCT_KEYS[name]] = (share.capacity_w, share.energy_wh)
    return shares


def apply_shares(response: FrequencyResponse, mine: Mapping[str, tuple[float, float]]) -> None:
    """This node's shares from the master; a product it no longer has goes to 0 (disabled)."""
    for key in _PRODUCT_KEYS.values():
        capacity_w, energy_wh = mine.get(key, (0.0, 0.0))
        response.assign(Fcr(key) if key != "ffr" else "ffr", Share(capacity_w, energy_wh))


class ClusterPowerSource:
    """The node's power request: the master's valid lease, or 0 W (safe local mode)."""

    def __init__(self, cluster: ClusterService) -> None:
        self._cluster = cluster

    def __call__(self, inputs: ControlInputs) -> PowerRequest:
        lease = self._cluster.current_setpoint()
        if lease is None:
            return PowerRequest(0.0, "no valid master setpoint: safe local mode")
        return PowerRequest(lease.power_w, f"master {lease.leader_id} (term {lease.term}, seq {lease.seq})")


def follow_directive(cluster: ClusterService, modes: ModeManager, machine: StateMachine) -> None:
    """Slow cycle: lead with our own mode, or take the master's mode and Run/Sleep (within our rules)."""
    if cluster.role == "leader":
        cluster.set_site_mode(modes.mode.value)
        return
    directive = cluster.master_directive()
    if directive is None:
        return
    if directive.site_mode and directive.site_mode != modes.mode.value:
        # A mode this node cannot run (e.g. backup not enabled here) is refused: it follows setpoints anyway.
        with contextlib.suppress(ModeCommandError):
            modes.request_mode(directive.site_mode, "fallback")
    wanted = {RunState.RUN: Request.RUN, RunState.SLEEP: Request.SLEEP}.get(directive.run_state)
    if wanted is not None and machine.state.value in ("Run", "Sleep") and machine.state.value != wanted.value:
        with contextlib.suppress(RequestRefused):  # the node's own safety rules win
            machine.request(wanted, "master")
