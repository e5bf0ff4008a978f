"""Static frequency characteristics (FCR TR Table 1; LFSM per EN 50549-1 / RfG). Output in W,
positive = discharge. `capacity_w` is this node's share of the contracted capacity."""

from __future__ import annotations

from enum import StrEnum

NOMINAL_HZ = 50.0


class Fcr(StrEnum):
    N = "fcrn"
    D_UP = "fcrd_up"
    D_DOWN = "fcrd_down"


# Activation start f0 and full-activation deviation Δf_max per product (TR eq 18-23).
F0_HZ = {Fcr.N: 50.0, Fcr.D_UP: 49.9, Fcr.D_DOWN: 50.1}
DF_MAX_HZ = {Fcr.N: 0.1, Fcr.D_UP: 0.4, Fcr.D_DOWN: 0.4}


def saturate_freq(product: Fcr, freq_hz: float) -> float:
    """f_sat of the TR: the frequency as the product's droop sees it."""
    if product is Fcr.N:
        return min(max(freq_hz, 49.9), 50.1)
    if product is Fcr.D_UP:
        return min(freq_hz, 49.9)
    return max(freq_hz, 50.1)


def fcr_power_w(product: Fcr, capacity_w: float, freq_ref_hz: float, freq_hz: float) -> float:
    """P = C/Δf_max·(f_ref - f_sat), limited to the product's direction and ±C.
    With f_ref = f0 this is the plain linear droop; AEM moves f_ref."""
    power_w = capacity_w / DF_MAX_HZ[product] * (freq_ref_hz - saturate_freq(product, freq_hz))
    if product is Fcr.N:
        return min(max(power_w, -capacity_w), capacity_w)
    if product is Fcr.D_UP:
        return min(max(power_w, 0.0), capacity_w)
    return min(max(power_w, -capacity_w), 0.0)


def lfsm_power_w(
    freq_hz: float,
    rated_w: float,
    *,
    f1_hz: float,
    f2_hz: float,
    f3_hz: float,
    f4_hz: float,
    droop_pct: float,
    over: bool,
    under: bool,
) -> float:
    """Droop ΔP = -(f - f_threshold)/(droop·f_nominal)·P_ref beyond f3 (over) or f2 (under),
    saturating where the frequency passes f4 / f1."""
    gain_w_per_hz = rated_w / (droop_pct / 100.0 * NOMINAL_HZ)
    if over and freq_hz > f3_hz:
        return -gain_w_per_hz * (min(freq_hz, f4_hz) - f3_hz)
    if under and freq_hz < f2_hz:
        return gain_w_per_hz * (f2_hz - max(freq_hz, f1_hz))
    return 0.0
