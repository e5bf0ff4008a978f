"""Local control: a manual setpoint that holds only while the operator's heartbeat keeps coming.

It is also the node's fallback when neither a master nor the cloud is reachable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from masterController.control.snapshot import ModeDecision, SiteSnapshot, baseline_limits
from sitecontroller.config.control import LocalControlConfig, ModeName, SiteLimitsConfig


@dataclass(frozen=True, slots=True)
class LocalState:
    setpoint_w: float = 0.0
    last_heartbeat_s: float | None = None

    def heartbeat(self, now_s: float) -> LocalState:
        return LocalState(self.setpoint_w, now_s)

    def with_setpoint(self, power_w: float, now_s: float) -> LocalState:
        """A new manual setpoint counts as a heartbeat."""
        if not math.isfinite(power_w):
            raise ValueError("setpoint must be a finite number")
        return LocalState(power_w, now_s)


class LocalControl:
    name = ModeName.LOCAL_CONTROL

    def __init__(self, params: LocalControlConfig, site: SiteLimitsConfig) -> None:
        self._params = params
        self._site = site

    def start(self, snapshot: SiteSnapshot) -> LocalState:
        return LocalState()

    def decide(self, snapshot: SiteSnapshot, state: LocalState) -> tuple[ModeDecision, LocalState]:
        beat_s = state.last_heartbeat_s
        if beat_s is None or snapshot.now_s - beat_s > self._params.heartbeat_timeout_s:
            # The setpoint lapses for good: a returning heartbeat alone must not restart power.
            return ModeDecision(0.0, "local: no heartbeat, setpoint lapsed to 0 W"), LocalState(0.0, beat_s)
        limits = baseline_limits(snapshot, self._site.soc_min_pct, self._site.soc_max_pct)
        power_w, note = limits.clip(state.setpoint_w, snapshot.soc_pct)
        return ModeDecision(power_w, f"local: manual setpoint {state.setpoint_w:.0f} W{note}"), state
