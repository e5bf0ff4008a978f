"""External control: a direct SCADA/cloud lease wins, then the cloud schedule, then the local one.

A cloud schedule older than `cloud_schedule_max_age_s` counts as lost (cloud gone) and the local
fallback schedule applies. A gap in the schedule in force means 0 W, said so in the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from masterController.control.lease import SetpointLease
from masterController.control.schedule import Schedule, active_entry
from masterController.control.snapshot import ModeDecision, SiteSnapshot, baseline_limits
from sitecontroller.config.control import ExternalControlConfig, ModeName, SiteLimitsConfig


@dataclass(frozen=True, slots=True)
class ExternalState:
    lease: SetpointLease | None = None
    cloud_schedule: Schedule | None = None

    def with_lease(self, lease: SetpointLease) -> ExternalState:
        return replace(self, lease=lease)

    def with_cloud_schedule(self, schedule: Schedule) -> ExternalState:
        return replace(self, cloud_schedule=schedule)


class ExternalControl:
    name = ModeName.EXTERNAL_CONTROL

    def __init__(self, params: ExternalControlConfig, site: SiteLimitsConfig, utc_offset_s: float) -> None:
        self._params = params
        self._site = site
        self._utc_offset_s = utc_offset_s

    def start(self, snapshot: SiteSnapshot) -> ExternalState:
        return ExternalState()

    def decide(self, snapshot: SiteSnapshot, state: ExternalState) -> tuple[ModeDecision, ExternalState]:
        power_w, q_var, why, state = self._select(snapshot, state)
        limits = baseline_limits(snapshot, self._site.soc_min_pct, self._site.soc_max_pct)
        clipped_w, note = limits.clip(power_w, snapshot.soc_pct)
        return ModeDecision(clipped_w, f"external: {why}{note}", reactive_power_var=q_var), state

    def _select(
        self, snapshot: SiteSnapshot, state: ExternalState
    ) -> tuple[float, float, str, ExternalState]:
        now_s = snapshot.now_s
        lease = state.lease
        if lease is not None:
            if lease.valid(now_s):
                return lease.power_w, lease.reactive_power_var, f"{lease.source} setpoint (lease)", state
            state = replace(state, lease=None)
        cloud = state.cloud_schedule
        if cloud is not None and now_s - cloud.received_s <= self._params.cloud_schedule_max_age_s:
            entries, which = cloud.entries, "cloud schedule"
        else:
            entries, which = self._params.local_schedule, "local fallback schedule"
        entry = active_entry(entries, snapshot.wall_s, self._utc_offset_s)
        if entry is None:
            return 0.0, 0.0, f"{which}: no entry now (schedule gap), 0 W", state
        return entry.power_w, entry.reactive_power_var, f"{which} entry from {entry.start_s:.0f} s", state
