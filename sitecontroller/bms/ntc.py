"""NTC compensation of cell temperatures.

Many BMS firmwares convert the NTC resistance to a temperature with one fixed B constant. When the
fitted sensor has another B, the error grows away from 25 degC (several degrees at 0 or 50 degC,
exactly where charge derating decides). Going back to the resistance with the firmware's B and
forward with the real B removes it: 1/T' = 1/T25 + (B_bms / B_real) * (1/T - 1/T25).
"""

from __future__ import annotations

from sitecontroller.config.bms import NtcConfig

KELVIN = 273.15
T25_K = 298.15


def compensate_c(temp_c: float, ntc: NtcConfig) -> float:
    inv_t = 1.0 / (temp_c + KELVIN)
    inv_corrected = 1.0 / T25_K + (ntc.beta_bms_k / ntc.beta_actual_k) * (inv_t - 1.0 / T25_K)
    return 1.0 / inv_corrected - KELVIN + ntc.offset_c


def compensate_opt(temp_c: float | None, ntc: NtcConfig) -> float | None:
    return None if temp_c is None else compensate_c(temp_c, ntc)
