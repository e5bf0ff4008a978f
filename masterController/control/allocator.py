"""Split the site setpoint across nodes.

Rules, in order:
1. Only online, healthy nodes get power; the site total is clipped to the grid-connection window
   (import/export limits and the fuse) before anything else.
2. Sleeping nodes are woken only when the awake ones cannot cover the request (best SoC first); they
   deliver from the next cycle, so this cycle's shortfall is reported as clipped.
3. With `allow_sleep`, only as many awake nodes as needed (plus a margin) carry the power; the rest are
   reported as `may_sleep`.
4. The power is shared by available energy: discharge by energy above the SoC floor, charge by room
   below the ceiling. Every node then reaches the floor (or ceiling) at the same time, which is what
   makes SoCs converge. A node that hits its own limit is capped and the rest is shared again.
Whatever cannot be delivered is reported in `clipped_w` with the reason; nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sitecontroller.config.control import SiteLimitsConfig

_SLEEP_MARGIN = 0.2  # keep 20 % headroom on the nodes left running when others may sleep


@dataclass(frozen=True, slots=True)
class NodeState:
    node_id: str
    soc_pct: float
    max_discharge_w: float
    max_charge_w: float
    capacity_wh: float
    online: bool = True
    sleeping: bool = False
    healthy: bool = True


@dataclass(frozen=True, slots=True)
class SiteLimits:
    """The window the sum of battery power must stay in (positive = discharge)."""

    min_power_w: float
    max_power_w: float
    soc_floor_pct: float = 0.0
    soc_ceiling_pct: float = 100.0

    @staticmethod
    def from_grid(config: SiteLimitsConfig, grid_without_battery_w: float) -> SiteLimits:
        """grid = net - battery must stay within [-export cap, import cap]; the fuse caps both."""
        import_cap_w = min(config.grid_import_limit_w, config.fuse_limit_w)
        export_cap_w = min(config.grid_export_limit_w, config.fuse_limit_w)
        return SiteLimits(
            min_power_w=grid_without_battery_w - import_cap_w,
            max_power_w=grid_without_battery_w + export_cap_w,
            soc_floor_pct=config.soc_min_pct,
            soc_ceiling_pct=config.soc_max_pct,
        )


@dataclass(frozen=True, slots=True)
class NodeAllocation:
    node_id: str
    power_w: float
    explanation: str


@dataclass(frozen=True, slots=True)
class Allocation:
    requested_w: float
    allocated_w: float
    clipped_w: float
    clip_reason: str
    nodes: tuple[NodeAllocation, ...]
    wake: tuple[str, ...]
    may_sleep: tuple[str, ...]

    def power_of(self, node_id: str) -> float:
        for node in self.nodes:
            if node.node_id == node_id:
                return node.power_w
        raise KeyError(node_id)


def _limit(node: NodeState, discharge: bool) -> float:
    return max(0.0, node.max_discharge_w if discharge else node.max_charge_w)


def _weight(node: NodeState, discharge: bool, limits: SiteLimits) -> float:
    if discharge:
        return node.capacity_wh * max(0.0, node.soc_pct - limits.soc_floor_pct)
    return node.capacity_wh * max(0.0, limits.soc_ceiling_pct - node.soc_pct)


def _preference(discharge: bool) -> Callable[[NodeState], tuple[float, str]]:
    """Discharge the fullest nodes first, charge the emptiest first; node id breaks ties."""
    if discharge:
        return lambda n: (-n.soc_pct, n.node_id)
    return lambda n: (n.soc_pct, n.node_id)


def _share(amount_w: float, nodes: list[NodeState], discharge: bool, limits: SiteLimits) -> dict[str, float]:
    """Water-filling: proportional to weight, capped at each node's limit, remainder re-shared."""
    shares: dict[str, float] = {}
    free = list(nodes)
    remaining_w = amount_w
    while free and remaining_w > 0:
        weights = {n.node_id: _weight(n, discharge, limits) for n in free}
        total = sum(weights.values())
        if total <= 0:  # everyone at the floor/ceiling but still allowed: share by limit instead
            weights = {n.node_id: _limit(n, discharge) for n in free}
            total = sum(weights.values())
            if total <= 0:
                break
        capped = [n for n in free if remaining_w * weights[n.node_id] / total >= _limit(n, discharge)]
        if not capped:
            for n in free:
                shares[n.node_id] = remaining_w * weights[n.node_id] / total
            return shares
        for n in capped:
            shares[n.node_id] = _limit(n, discharge)
            remaining_w -= shares[n.node_id]
            free.remove(n)
    for n in free:
        shares.setdefault(n.node_id, 0.0)
    return shares


def allocate(
    site_setpoint_w: float, nodes: Sequence[NodeState], limits: SiteLimits, allow_sleep: bool = False
) -> Allocation:
    explanation: dict[str, str] = {}
    power: dict[str, float] = {n.node_id: 0.0 for n in nodes}
    usable = []
    for n in sorted(nodes, key=lambda n: n.node_id):
        if not n.online:
            explanation[n.node_id] = "offline: 0 W"
        elif not n.healthy:
            explanation[n.node_id] = "unhealthy: 0 W"
        else:
            usable.append(n)

    reasons: list[str] = []
    target_w = site_setpoint_w
    if limits.min_power_w > limits.max_power_w:
        target_w = 0.0
        reasons.append("grid-connection window empty (net load beyond the import limit and no export room)")
    elif target_w > limits.max_power_w:
        target_w = limits.max_power_w
        reasons.append(f"grid export/fuse limit allows at most {limits.max_power_w:.0f} W discharge")
    elif target_w < limits.min_power_w:
        target_w = limits.min_power_w
        reasons.append(f"grid import/fuse limit allows at most {-limits.min_power_w:.0f} W charge")

    discharge = target_w > 0
    amount_w = abs(target_w)
    order = _preference(discharge)
    awake = sorted((n for n in usable if not n.sleeping), key=order)
    asleep = sorted((n for n in usable if n.sleeping), key=order)
    awake_cap_w = sum(_limit(n, discharge) for n in awake)

    wake: list[str] = []
    cap_with_woken_w = awake_cap_w
    for n in asleep:
        if cap_with_woken_w >= amount_w:
            break
        if _limit(n, discharge) > 0:
            wake.append(n.node_id)
            cap_with_woken_w += _limit(n, discharge)
    for n in asleep:
        explanation[n.node_id] = (
            "sleeping: woken, delivers from next cycle" if n.node_id in wake else "sleeping"
        )

    active = awake
    may_sleep: list[str] = []
    if allow_sleep:
        needed_w = amount_w * (1.0 + _SLEEP_MARGIN)
        active, cap_w = [], 0.0
        for n in awake:
            if amount_w > 0 and cap_w < needed_w:
                active.append(n)
                cap_w += _limit(n, discharge)
            else:
                may_sleep.append(n.node_id)
                explanation[n.node_id] = "not needed: 0 W, may sleep"

    deliverable_w = min(amount_w, sum(_limit(n, discharge) for n in active))
    if deliverable_w < amount_w:
        reasons.append("waiting for woken nodes" if wake else "nodes at their power limits")
    shares = _share(deliverable_w, active, discharge, limits)
    sign = 1.0 if discharge else -1.0
    total_weight = sum(_weight(n, discharge, limits) for n in active)
    for n in active:
        share_w = shares.get(n.node_id, 0.0)
        power[n.node_id] = sign * share_w
        if amount_w == 0:
            explanation[n.node_id] = "site setpoint 0 W"
        elif share_w >= _limit(n, discharge) > 0:
            explanation[n.node_id] = (
                f"SoC {n.soc_pct:.1f} %: at its {'discharge' if discharge else 'charge'} limit"
            )
        else:
            basis = "energy above floor" if discharge else "room below ceiling"
            fraction = _weight(n, discharge, limits) / total_weight if total_weight > 0 else 0.0
            explanation[n.node_id] = f"SoC {n.soc_pct:.1f} %: {fraction:.0%} weight by {basis}"

    allocated_w = sum(power.values())
    clipped_w = site_setpoint_w - allocated_w
    return Allocation(
        requested_w=site_setpoint_w,
        allocated_w=allocated_w,
        clipped_w=clipped_w,
        clip_reason="; ".join(reasons),
        nodes=tuple(NodeAllocation(n.node_id, power[n.node_id], explanation[n.node_id]) for n in nodes),
        wake=tuple(wake),
        may_sleep=tuple(may_sleep),
    )


def split_reactive(reactive_power_var: float, nodes: Sequence[NodeState]) -> dict[str, float]:
    """Share a reactive-power setpoint over the awake, online, healthy nodes by their rating
    (the larger of the charge and discharge limit); everyone else gets 0 var."""
    usable = [n for n in nodes if n.online and n.healthy and not n.sleeping]
    ratings = {n.node_id: max(n.max_discharge_w, n.max_charge_w, 0.0) for n in usable}
    total = sum(ratings.values())
    return {
        n.node_id: reactive_power_var * ratings[n.node_id] / total
        if total > 0 and n.node_id in ratings
        else 0.0
        for n in nodes
    }
