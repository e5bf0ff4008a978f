"""Fast Frequency Reserve on one node: a one-shot, locally triggered step of full capacity.

ARMED -> (f <= activation level) ACTIVE at full capacity for the support duration -> DEACTIVATING at
the configured rate (<= 20 %/s makes the 5 s support variant legal) -> RECOVERING (0 W buffer, then
waiting) -> ARMED again `rearm_s` after the activation and only once f is above the level.
The step is commanded in the same fast-loop tick that sees the trigger: no filtering, no ramp.
"""

from __future__ import annotations

from enum import StrEnum

# Maximum full-activation time per activation level (Fingrid/SvK/Energinet).
FULL_ACTIVATION_S = {49.7: 1.3, 49.6: 1.0, 49.5: 0.7}


class FfrPhase(StrEnum):
    ARMED = "armed"
    ACTIVE = "active"
    DEACTIVATING = "deactivating"
    RECOVERING = "recovering"


class Ffr:
    def __init__(
        self,
        capacity_w: float,
        activation_level_hz: float,
        support_duration_s: float,
        deactivation_rate_pct_per_s: float,
        rearm_s: float,
    ) -> None:
        if capacity_w < 0:
            raise ValueError("FFR capacity must not be negative")
        self.capacity_w = capacity_w
        self.level_hz = activation_level_hz
        if activation_level_hz not in FULL_ACTIVATION_S:
            raise ValueError(f"FFR activation level must be one of {sorted(FULL_ACTIVATION_S)} Hz")
        # Support is counted from full activation; holding for the level's allowed activation time on
        # top guarantees it whatever the inverter's actual rise time.
        self.support_s = support_duration_s + FULL_ACTIVATION_S[activation_level_hz]
        self.rate_per_s = deactivation_rate_pct_per_s / 100.0
        self.rearm_s = rearm_s
        self.phase = FfrPhase.ARMED
        self.activated_at_s: float | None = None
        self._phase_since_s = 0.0

    def update(self, freq_hz: float, now_s: float) -> float:
        phase = self.phase
        if phase is FfrPhase.ARMED:
            if freq_hz > self.level_hz or self.capacity_w <= 0:
                return 0.0
            self.activated_at_s = now_s
            self._enter(FfrPhase.ACTIVE, now_s)
            return self.capacity_w
        elapsed_s = now_s - self._phase_since_s
        if phase is FfrPhase.ACTIVE:
            if elapsed_s < self.support_s:
                return self.capacity_w
            self._enter(FfrPhase.DEACTIVATING, now_s)
            return self.capacity_w
        if phase is FfrPhase.DEACTIVATING:
            fraction = 1.0 - self.rate_per_s * elapsed_s
            if fraction > 0:
                return self.capacity_w * fraction
            self._enter(FfrPhase.RECOVERING, now_s)
            return 0.0
        assert self.activated_at_s is not None
        if now_s - self.activated_at_s >= self.rearm_s and freq_hz > self.level_hz:
            self._enter(FfrPhase.ARMED, now_s)
        return 0.0

    def _enter(self, phase: FfrPhase, now_s: float) -> None:
        self.phase = phase
        self._phase_since_s = now_s
