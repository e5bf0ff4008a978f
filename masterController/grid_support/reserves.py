"""Stacking: the power and energy headroom the contracted products need (FCR TR Table 10), the
maintained capacities when headroom is short (eq 29-31), and node shares of a contract."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from masterController.control.allocator import NodeState
from masterController.control.snapshot import SiteSnapshot
from masterController.grid_support.frequency_response import Share
from sitecontroller.config.control import GridServicesConfig


@dataclass(frozen=True, slots=True)
class Reserve:
    """Columns of Table 10 summed over the enabled products (FFR adds its step and support energy)."""

    discharge_w: float = 0.0
    charge_w: float = 0.0
    energy_up_wh: float = 0.0
    energy_down_wh: float = 0.0

    def apply_to(self, snapshot: SiteSnapshot, capacity_wh: float) -> SiteSnapshot:
        """The snapshot with this reserve filled in, so every mode leaves it alone."""
        low_pct, high_pct = self.soc_window_pct(capacity_wh)
        return replace(
            snapshot,
            reserve_discharge_w=self.discharge_w,
            reserve_charge_w=self.charge_w,
            reserve_soc_low_pct=low_pct,
            reserve_soc_high_pct=high_pct,
        )

    def soc_window_pct(self, capacity_wh: float) -> tuple[float, float]:
        """SoC band the baseline must stay inside so the reserve energy is always there."""
        if capacity_wh <= 0:
            return 0.0, 100.0
        low = min(100.0, self.energy_up_wh / capacity_wh * 100.0)
        high = max(0.0, 100.0 - self.energy_down_wh / capacity_wh * 100.0)
        return low, high


def reserve_for(services: GridServicesConfig) -> Reserve:
    discharge_w = charge_w = up_wh = down_wh = 0.0
    n = services.fcrn
    if n.enabled:
        discharge_w += (1.0 + n.nem_gain) * n.capacity_w
        charge_w += (1.0 + n.nem_gain) * n.capacity_w
        up_wh += n.capacity_w  # 1 h of C each way
        down_wh += n.capacity_w
    up = services.fcrd_up
    if up.enabled:
        discharge_w += up.capacity_w
        charge_w += 0.2 * up.capacity_w
        up_wh += up.capacity_w / 3.0  # 20 min
    down = services.fcrd_down
    if down.enabled:
        discharge_w += 0.2 * down.capacity_w
        charge_w += down.capacity_w
        down_wh += down.capacity_w / 3.0
    ffr = services.ffr
    if ffr.enabled:
        discharge_w += ffr.capacity_w
        up_wh += ffr.capacity_w * ffr.support_duration_s / 3600.0
    return Reserve(discharge_w, charge_w, up_wh, down_wh)


@dataclass(frozen=True, slots=True)
class Maintained:
    fcrn_w: float
    fcrd_up_w: float
    fcrd_down_w: float


def maintained_capacity(
    p_max_w: float, p_min_w: float, baseline_w: float, services: GridServicesConfig, frr_w: float = 0.0
) -> Maintained:
    """TR eq 29-31: what can still be delivered around the baseline; FCR-D is cut before FCR-N."""
    c_n = services.fcrn.capacity_w if services.fcrn.enabled else 0.0
    c_up = services.fcrd_up.capacity_w if services.fcrd_up.enabled else 0.0
    c_down = services.fcrd_down.capacity_w if services.fcrd_down.enabled else 0.0
    ffr_w = services.ffr.capacity_w if services.ffr.enabled else 0.0
    n_w = max(0.0, min(p_max_w - baseline_w - frr_w, baseline_w - frr_w - p_min_w, c_n))
    up_w = max(min(p_max_w - baseline_w - frr_w - ffr_w - n_w, c_up), 0.0)
    down_w = max(min(baseline_w - frr_w - n_w - p_min_w, c_down), 0.0)
    return Maintained(n_w, up_w, down_w)


def assign_shares(
    contract_w: float, energy_wh: float, nodes: Sequence[NodeState], direction: str
) -> dict[str, Share]:
    """Split a contract over the online, healthy nodes by their power limit in the product's
    direction ("up", "down" or "both": the smaller of the two); energy by capacity."""
    if direction not in ("up", "down", "both"):
        raise ValueError(f"direction must be up, down or both, not {direction!r}")

    def power(n: NodeState) -> float:
        if direction == "up":
            return n.max_discharge_w
        if direction == "down":
            return n.max_charge_w
        return min(n.max_discharge_w, n.max_charge_w)

    usable = [n for n in nodes if n.online and n.healthy and power(n) > 0]
    total_w = sum(power(n) for n in usable)
    total_wh = sum(n.capacity_wh for n in usable)
    if total_w < contract_w:
        raise ValueError(f"contract {contract_w:.0f} W exceeds the {total_w:.0f} W the nodes can deliver")
    return {
        n.node_id: Share(
            contract_w * power(n) / total_w,
            energy_wh * n.capacity_wh / total_wh if total_wh > 0 else 0.0,
        )
        for n in usable
    }
