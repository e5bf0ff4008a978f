"""One FCR product (N, D-up or D-down) on one node: droop, plus NEM/AEM when it is a LER."""

from __future__ import annotations

from masterController.grid_support.characteristics import F0_HZ, Fcr, fcr_power_w
from masterController.grid_support.energy_management import EnergyManagement, ler_thresholds


class FcrProduct:
    def __init__(
        self, product: Fcr, capacity_w: float, energy_wh: float, nem_gain: float, energy_management: bool
    ) -> None:
        if capacity_w < 0 or energy_wh < 0:
            raise ValueError("capacity and energy must not be negative")
        self.product = product
        self.capacity_w = capacity_w
        self.energy_wh = energy_wh
        # FCR-D's NEM gain is fixed at 0.20 by the TR; FCR-N's is the provider's choice (0.34..0.50).
        self.nem_gain = nem_gain if product is Fcr.N else 0.2
        self.em = (
            EnergyManagement(product, ler_thresholds(product, capacity_w, energy_wh))
            if energy_management and energy_wh > 0 and capacity_w > 0
            else None
        )
        self.droop_w = 0.0
        self.nem_w = 0.0

    def update(self, freq_hz: float, soc: float, now_s: float) -> float:
        """Power (W, + = discharge) for this product. `soc` is the reservoir fraction 0..1."""
        em = self.em
        if em is None:
            self.droop_w = fcr_power_w(self.product, self.capacity_w, F0_HZ[self.product], freq_hz)
            self.nem_w = 0.0
            return self.droop_w
        freq_ref_hz = em.update(freq_hz, soc, now_s)
        self.droop_w = fcr_power_w(self.product, self.capacity_w, freq_ref_hz, freq_hz)
        self.nem_w = self.nem_gain * self.capacity_w * em.nem_current
        total_w = self.droop_w + self.nem_w
        # Output limits of the TR (§4.3): NEM may push FCR-D only 0.2·C the "wrong" way.
        nem_max_w = self.nem_gain * self.capacity_w
        if self.product is Fcr.D_UP:
            return max(total_w, -nem_max_w)
        if self.product is Fcr.D_DOWN:
            return min(total_w, nem_max_w)
        return min(max(total_w, -self.capacity_w - nem_max_w), self.capacity_w + nem_max_w)

    def endurance_min(self, soc: float, baseline_w: float = 0.0) -> tuple[float, float]:
        """Remaining full-activation endurance up/down in minutes (TR eq 27-28), 0 while AEM is on."""
        if self.energy_wh <= 0 or (self.em is not None and self.em.aem_on):
            return 0.0, 0.0
        up_w = baseline_w + self.capacity_w
        down_w = self.capacity_w - baseline_w
        up_min = soc * self.energy_wh / up_w * 60.0 if up_w > 0 else float("inf")
        down_min = (1.0 - soc) * self.energy_wh / down_w * 60.0 if down_w > 0 else float("inf")
        # A one-directional product is only limited in its own direction.
        if self.product is Fcr.D_UP:
            return up_min, float("inf")
        if self.product is Fcr.D_DOWN:
            return float("inf"), down_min
        return up_min, down_min
