"""The node's fast-loop frequency response: the sum of the contracted products (stacking) and LFSM.

The master only assigns this node its share of each contracted capacity (`assign`); the response
itself runs here, every fast-loop tick, on the locally measured frequency, so it never waits for
the network. The result is an offset added to the master's baseline setpoint; ramp limits must not
be applied to it (the FCR TR forbids artificial delay).
"""

from __future__ import annotations

from dataclasses import dataclass

from masterController.grid_support.characteristics import Fcr, lfsm_power_w
from masterController.grid_support.fcr import FcrProduct
from masterController.grid_support.ffr import Ffr
from sitecontroller.config.control import FcrConfig, GridServicesConfig

# Outside this a frequency reading is a measurement failure, not a grid event (the grid trips first).
_MIN_VALID_HZ = 45.0
_MAX_VALID_HZ = 55.0


@dataclass(frozen=True, slots=True)
class Share:
    """This node's part of one contracted product."""

    capacity_w: float
    energy_wh: float


@dataclass(slots=True)
class ResponseDetail:
    """What the last tick decided, per product, for the operation log and telemetry."""

    fcr_w: dict[Fcr, float]
    nem_w: dict[Fcr, float]
    ffr_w: float = 0.0
    lfsm_w: float = 0.0
    total_w: float = 0.0


class FrequencyResponse:
    def __init__(self, config: GridServicesConfig, rated_power_w: float) -> None:
        if rated_power_w <= 0:
            raise ValueError("rated power must be positive")
        self._config = config
        self._rated_w = rated_power_w
        self.products: dict[Fcr, FcrProduct] = {}
        self.ffr: Ffr | None = None
        lfsm = config.lfsm
        self._lfsm_on = lfsm.over_enabled or lfsm.under_enabled
        self.detail = ResponseDetail(fcr_w={}, nem_w={})
        self._shares: dict[str, Share] = {}

    def _fcr_config(self, product: Fcr) -> FcrConfig:
        return {Fcr.N: self._config.fcrn, Fcr.D_UP: self._config.fcrd_up, Fcr.D_DOWN: self._config.fcrd_down}[
            product
        ]

    def assign(self, product: Fcr | str, share: Share) -> None:
        """Set this node's share of an FCR product or of FFR ("ffr"). A zero capacity disables it.
        Re-sending the same share changes nothing (the master may repeat it every cycle); a different
        share restarts the product, energy management included (a new market period)."""
        key = str(product)
        if self._shares.get(key) == share:
            return
        self._shares[key] = share
        if product == "ffr":
            f = self._config.ffr
            self.ffr = (
                Ffr(
                    share.capacity_w,
                    f.activation_level_hz,
                    f.support_duration_s,
                    f.deactivation_rate_pct_per_s,
                    f.rearm_s,
                )
                if f.enabled and share.capacity_w > 0
                else None
            )
            return
        fcr = Fcr(product)
        cfg = self._fcr_config(fcr)
        if not cfg.enabled or share.capacity_w <= 0:
            self.products.pop(fcr, None)
            self.detail.fcr_w.pop(fcr, None)
            self.detail.nem_w.pop(fcr, None)
            return
        self.products[fcr] = FcrProduct(
            fcr, share.capacity_w, share.energy_wh, cfg.nem_gain, cfg.energy_management
        )

    def update(self, freq_hz: float, now_s: float, soc_pct: float) -> float:
        """Offset in W (+ = discharge) for this tick. `soc_pct` is the node's SoC.
        An implausible frequency or SoC (a failed measurement, NaN) gives 0 W for this tick."""
        detail = self.detail
        if not (_MIN_VALID_HZ <= freq_hz <= _MAX_VALID_HZ and 0.0 <= soc_pct <= 100.0):
            detail.total_w = 0.0
            return 0.0
        soc = soc_pct / 100.0
        total_w = 0.0
        for product, fcr in self.products.items():
            power_w = fcr.update(freq_hz, soc, now_s)
            detail.fcr_w[product] = power_w
            detail.nem_w[product] = fcr.nem_w
            total_w += power_w
        detail.ffr_w = self.ffr.update(freq_hz, now_s) if self.ffr is not None else 0.0
        total_w += detail.ffr_w
        if self._lfsm_on:
            lf = self._config.lfsm
            detail.lfsm_w = lfsm_power_w(
                freq_hz,
                self._rated_w,
                f1_hz=lf.f1_hz,
                f2_hz=lf.f2_hz,
                f3_hz=lf.f3_hz,
                f4_hz=lf.f4_hz,
                droop_pct=lf.droop_pct,
                over=lf.over_enabled,
                under=lf.under_enabled,
            )
            total_w += detail.lfsm_w
        rated_w = self._rated_w
        total_w = min(max(total_w, -rated_w), rated_w)
        detail.total_w = total_w
        return total_w
