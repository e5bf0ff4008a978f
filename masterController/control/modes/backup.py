"""Backup / grid forming: island on grid loss, shed loads as SoC falls, black start, resync, reconnect.

Phases: CONNECTED -> ISLANDED (contactor open, inverters grid forming) -> RESYNC once the grid has
been good for the reconnection delay -> CONNECTED when the island frequency matches the grid.
An island that runs empty goes DARK (inverters off) and black-starts with all loads shed once SoC
allows. A test run walks ISLANDED and RESYNC while keeping the grid contactor closed and no loads shed.
The reconnection power gradient is applied by the mode manager for every mode.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from masterController.control.grid_watch import GridWatch, watch_grid
from masterController.control.snapshot import ModeDecision, SiteSnapshot, baseline_limits
from sitecontroller.config.control import BackupConfig, ModeName, SiteLimitsConfig


class BackupPhase(StrEnum):
    CONNECTED = "connected"
    ISLANDED = "islanded"
    RESYNC = "resync"
    DARK = "dark"


@dataclass(frozen=True, slots=True)
class BackupState:
    phase: BackupPhase = BackupPhase.CONNECTED
    watch: GridWatch = field(default_factory=GridWatch)
    shed: frozenset[str] = frozenset()
    phase_since_s: float = 0.0
    test_until_s: float | None = None

    @property
    def testing(self) -> bool:
        return self.test_until_s is not None

    def start_test(self, now_s: float, duration_s: float) -> BackupState:
        if self.phase is not BackupPhase.CONNECTED:
            raise ValueError(f"backup test needs a connected site, phase is {self.phase}")
        return replace(self, phase=BackupPhase.ISLANDED, phase_since_s=now_s, test_until_s=now_s + duration_s)


class Backup:
    name = ModeName.BACKUP

    def __init__(self, params: BackupConfig, site: SiteLimitsConfig) -> None:
        self._params = params
        self._site = site

    def start(self, snapshot: SiteSnapshot) -> BackupState:
        return BackupState(phase_since_s=snapshot.now_s)

    def decide(self, snapshot: SiteSnapshot, state: BackupState) -> tuple[ModeDecision, BackupState]:
        now_s = snapshot.now_s
        watch = watch_grid(
            self._params.grid_loss, state.watch, snapshot.grid_freq_hz, snapshot.grid_voltage_v, now_s
        )
        state = replace(state, watch=watch)
        if state.testing and watch.lost:
            state = replace(
                state, test_until_s=None, phase=BackupPhase.CONNECTED
            )  # a real loss ends the test
        if state.testing:
            return self._test(snapshot, state)
        phase = state.phase
        if phase is BackupPhase.CONNECTED:
            if watch.lost:
                return self._island(snapshot, self._enter(state, BackupPhase.ISLANDED, now_s), "grid lost")
            return self._standby(snapshot), state
        if phase is BackupPhase.DARK:
            return self._dark(snapshot, state)
        if phase is BackupPhase.RESYNC:
            return self._resync(snapshot, state)
        if not watch.lost:
            return self._resync(snapshot, self._enter(state, BackupPhase.RESYNC, now_s))
        if snapshot.soc_pct <= self._params.island_min_soc_pct:
            return self._dark(snapshot, self._enter(state, BackupPhase.DARK, now_s))
        return self._island(snapshot, state, "grid lost")

    def _enter(self, state: BackupState, phase: BackupPhase, now_s: float) -> BackupState:
        return replace(state, phase=phase, phase_since_s=now_s)

    def _standby(self, snapshot: SiteSnapshot) -> ModeDecision:
        p = self._params
        if snapshot.soc_pct >= p.standby_soc_pct:
            return ModeDecision(0.0, f"backup: standby, SoC {snapshot.soc_pct:.1f} % ready")
        limits = baseline_limits(snapshot, self._site.soc_min_pct, self._site.soc_max_pct)
        power_w, note = limits.clip(-p.standby_charge_power_w, snapshot.soc_pct)
        return ModeDecision(power_w, f"backup: standby, charging to {p.standby_soc_pct:.0f} %{note}")

    def _shed(self, soc_pct: float, shed: frozenset[str]) -> frozenset[str]:
        """Shed a stage below its threshold; restore it only above its (higher) restore threshold."""
        return frozenset(
            stage.relay
            for stage in self._params.shed_stages
            if soc_pct < stage.shed_below_soc_pct
            or (stage.relay in shed and soc_pct < stage.restore_above_soc_pct)
        )

    def _island(
        self, snapshot: SiteSnapshot, state: BackupState, why: str
    ) -> tuple[ModeDecision, BackupState]:
        shed = self._shed(snapshot.soc_pct, state.shed)
        state = replace(state, shed=shed)
        reason = f"backup: {why}, islanded, grid forming, SoC {snapshot.soc_pct:.1f} %"
        if shed:
            reason += f", shed {', '.join(sorted(shed))}"
        decision = ModeDecision(
            0.0, reason, grid_forming=True, open_grid_contactor=True, shed_relays=tuple(sorted(shed))
        )
        return decision, state

    def _dark(self, snapshot: SiteSnapshot, state: BackupState) -> tuple[ModeDecision, BackupState]:
        every_relay = frozenset(stage.relay for stage in self._params.shed_stages)
        if not state.watch.lost:
            # No island voltage to synchronise: close onto the live grid directly.
            state = replace(self._enter(state, BackupPhase.CONNECTED, snapshot.now_s), shed=frozenset())
            return ModeDecision(0.0, "backup: grid back while dark, reconnected"), state
        if snapshot.soc_pct >= self._params.black_start_min_soc_pct:
            started = replace(self._enter(state, BackupPhase.ISLANDED, snapshot.now_s), shed=every_relay)
            return self._island(snapshot, started, "black start")
        floor_pct = self._params.island_min_soc_pct
        decision = ModeDecision(
            0.0,
            f"backup: island stopped, SoC {snapshot.soc_pct:.1f} % below {floor_pct:.0f} %",
            open_grid_contactor=True,
            shed_relays=tuple(sorted(every_relay)),
        )
        return decision, replace(state, shed=every_relay)

    def _resync(self, snapshot: SiteSnapshot, state: BackupState) -> tuple[ModeDecision, BackupState]:
        cfg = self._params.grid_loss
        now_s = snapshot.now_s
        if state.watch.lost:
            return self._island(snapshot, self._enter(state, BackupPhase.ISLANDED, now_s), "grid lost again")
        island_hz = snapshot.island_freq_hz
        if island_hz is not None and abs(island_hz - snapshot.grid_freq_hz) <= cfg.resync_max_freq_diff_hz:
            state = replace(self._enter(state, BackupPhase.CONNECTED, now_s), shed=frozenset())
            return ModeDecision(0.0, "backup: synchronised, grid contactor closed, reconnected"), state
        if now_s - state.phase_since_s > cfg.resync_timeout_s:
            # Wait another full reconnection delay before the next attempt.
            retry = replace(state, watch=GridWatch(lost=True))
            return self._island(snapshot, self._enter(retry, BackupPhase.ISLANDED, now_s), "resync timed out")
        return self._island(snapshot, state, "grid back, synchronising")

    def _test(self, snapshot: SiteSnapshot, state: BackupState) -> tuple[ModeDecision, BackupState]:
        assert state.test_until_s is not None
        now_s = snapshot.now_s
        if now_s < state.test_until_s:
            would_shed = self._shed(snapshot.soc_pct, state.shed)
            state = replace(state, shed=would_shed)
            reason = "backup TEST: rehearsing island, grid contactor kept closed"
            if would_shed:
                reason += f", would shed {', '.join(sorted(would_shed))}"
            return ModeDecision(0.0, reason), state
        state = BackupState(watch=state.watch, phase_since_s=now_s)
        return ModeDecision(0.0, "backup TEST: resync rehearsed, test complete"), state
