"""Load matching: discharge to cover (a fraction of) the measured site load, feed-forward, never charge.

Needs a load measurement but no grid meter, which is why it exists next to self-consumption.
"""

from __future__ import annotations

from masterController.control.snapshot import ModeDecision, SiteSnapshot, baseline_limits
from sitecontroller.config.control import LoadMatchingConfig, ModeName, SiteLimitsConfig


class LoadMatching:
    name = ModeName.LOAD_MATCHING

    def __init__(self, params: LoadMatchingConfig, site: SiteLimitsConfig) -> None:
        self._params = params
        self._site = site

    def start(self, snapshot: SiteSnapshot) -> None:
        return None

    def decide(self, snapshot: SiteSnapshot, state: None) -> tuple[ModeDecision, None]:
        wanted_w = max(0.0, snapshot.load_power_w * self._params.match_fraction)
        limits = baseline_limits(snapshot, self._site.soc_min_pct, self._site.soc_max_pct)
        power_w, note = limits.clip(wanted_w, snapshot.soc_pct)
        return ModeDecision(power_w, f"load matching: load {snapshot.load_power_w:.0f} W{note}"), None
