"""NEM and AEM for limited energy reservoirs (FCR TR §3.5, eq 14-23, Table 11).

SOC here is the fraction of the reservoir E available for the product (0..1).
"""

from __future__ import annotations

from dataclasses import dataclass

from masterController.grid_support.characteristics import F0_HZ, Fcr, saturate_freq
from masterController.grid_support.rolling_mean import RollingMean

# Minutes of full activation that set each threshold (Table 11).
_NEM_ENABLE_MIN = {Fcr.N: 30.0, Fcr.D_UP: 20.0, Fcr.D_DOWN: 20.0}
_NEM_DISABLE_MIN = {Fcr.N: 57.5, Fcr.D_UP: 20.0, Fcr.D_DOWN: 20.0}
_AEM_ENABLE_MIN = 5.0
_AEM_DISABLE_MIN = 10.0
# Which side of the reservoir a product manages: FCR-D up only runs empty, FCR-D down only full.
_LOW_SIDE = {Fcr.N: True, Fcr.D_UP: True, Fcr.D_DOWN: False}
_HIGH_SIDE = {Fcr.N: True, Fcr.D_UP: False, Fcr.D_DOWN: True}


@dataclass(frozen=True, slots=True)
class Thresholds:
    """SOC fractions. 'low' thresholds guard the empty side, 'high' ones the full side."""

    nem_enable_low: float
    nem_disable_low: float
    nem_enable_high: float
    nem_disable_high: float
    aem_enable_low: float
    aem_disable_low: float
    aem_enable_high: float
    aem_disable_high: float


def ler_thresholds(product: Fcr, capacity_w: float, energy_wh: float) -> Thresholds:
    if energy_wh <= 0:
        raise ValueError("a limited energy reservoir needs energy_wh > 0")

    def frac(minutes: float) -> float:
        return capacity_w * minutes / 60.0 / energy_wh

    low, high = _LOW_SIDE[product], _HIGH_SIDE[product]
    never_low, never_high = -1.0, 2.0  # thresholds no SOC can cross: that side is not managed
    return Thresholds(
        nem_enable_low=frac(_NEM_ENABLE_MIN[product]) if low else never_low,
        nem_disable_low=frac(_NEM_DISABLE_MIN[product]) if low else never_low,
        nem_enable_high=1.0 - frac(_NEM_ENABLE_MIN[product]) if high else never_high,
        nem_disable_high=1.0 - frac(_NEM_DISABLE_MIN[product]) if high else never_high,
        aem_enable_low=frac(_AEM_ENABLE_MIN) if low else never_low,
        aem_disable_low=frac(_AEM_DISABLE_MIN) if low else never_low,
        aem_enable_high=1.0 - frac(_AEM_ENABLE_MIN) if high else never_high,
        aem_disable_high=1.0 - frac(_AEM_DISABLE_MIN) if high else never_high,
    )


def _hysteresis(active: bool, value: float, enable_below: float, disable_at: float) -> bool:
    """Low-side switch: on below `enable_below`, off again once `value >= disable_at`."""
    return value < enable_below or (active and value < disable_at)


class EnergyManagement:
    """NEM power and the AEM frequency reference for one product, updated from the fast loop."""

    def __init__(self, product: Fcr, thresholds: Thresholds) -> None:
        self.product = product
        self.thresholds = thresholds
        self.nem_low = False
        self.nem_high = False
        self.aem_low = False
        self.aem_high = False
        self.nem_allowed = 0
        self._nem = RollingMean(0.0)
        self._f_ref = RollingMean(F0_HZ[product])

    @property
    def aem_on(self) -> bool:
        return self.aem_low or self.aem_high

    @property
    def nem_current(self) -> float:
        return self._nem.mean

    def update(self, freq_hz: float, soc: float, now_s: float) -> float:
        """Advance the switches and rolling means; return f_ref for the droop."""
        t = self.thresholds
        self.nem_low = _hysteresis(self.nem_low, soc, t.nem_enable_low, t.nem_disable_low)
        self.nem_high = _hysteresis(self.nem_high, -soc, -t.nem_enable_high, -t.nem_disable_high)
        self.aem_low = _hysteresis(self.aem_low, soc, t.aem_enable_low, t.aem_disable_low)
        self.aem_high = _hysteresis(self.aem_high, -soc, -t.aem_enable_high, -t.aem_disable_high)
        # NEM may shift the baseline only inside the normal band (eq 14).
        in_band = 49.9 < freq_hz < 50.1
        self.nem_allowed = (-1 if self.nem_low else 1 if self.nem_high else 0) if in_band else 0
        self._nem.update(float(self.nem_allowed), now_s)
        f_aem = saturate_freq(self.product, freq_hz) if self.aem_on else F0_HZ[self.product]
        return self._f_ref.update(f_aem, now_s)
