"""Direct setpoints from SCADA or the cloud are leases: they lapse on our own monotonic clock."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SetpointLease:
    power_w: float
    reactive_power_var: float
    source: str
    expires_s: float

    @staticmethod
    def grant(
        power_w: float,
        reactive_power_var: float,
        source: str,
        ttl_s: float,
        now_s: float,
        max_ttl_s: float,
    ) -> SetpointLease:
        """Validate a command into a lease; bad input is an error, never a clipped surprise."""
        if not (math.isfinite(power_w) and math.isfinite(reactive_power_var)):
            raise ValueError("setpoint must be a finite number")
        if not 0 < ttl_s <= max_ttl_s:
            raise ValueError(f"lease ttl_s must be in (0, {max_ttl_s:g}], got {ttl_s:g}")
        return SetpointLease(power_w, reactive_power_var, source, now_s + ttl_s)

    def valid(self, now_s: float) -> bool:
        return now_s < self.expires_s
