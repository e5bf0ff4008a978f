"""Runs the selected mode each slow cycle; validates mode-switch commands; owns grid-loss handling.

Grid loss overrides every mode: with backup enabled the site islands (Backup controller), without it
the batteries go to 0 W (anti-islanding). After the grid returns the setpoint magnitude is limited by
the reconnection power gradient (% of rated power per minute) for every mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from masterController.control.grid_watch import GridWatch, watch_grid
from masterController.control.lease import SetpointLease
from masterController.control.modes.backup import Backup, BackupPhase, BackupState
from masterController.control.modes.base import ModeController
from masterController.control.modes.charge_only import ChargeOnly
from masterController.control.modes.cost_saving import CostSaving
from masterController.control.modes.external import ExternalControl, ExternalState
from masterController.control.modes.load_matching import LoadMatching
from masterController.control.modes.local import LocalControl, LocalState
from masterController.control.modes.passive import Passive
from masterController.control.modes.peak_shaving import PeakShaving
from masterController.control.modes.self_consumption import SelfConsumption
from masterController.control.schedule import Schedule
from masterController.control.snapshot import ModeDecision, SiteSnapshot
from sitecontroller.config.control import ControlConfig, ModeName

CommandSource = Literal["cloud", "scada", "local", "fallback"]

# Modes whose state carries commands (leases, schedules, manual setpoints) rather than loop state:
# switching into them keeps what was received.
_COMMAND_MODES = frozenset({ModeName.EXTERNAL_CONTROL, ModeName.LOCAL_CONTROL})


class ModeCommandError(ValueError):
    """A refused command, with the HTTP-like status the cloud/SCADA side reports (400 or 409)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class ControlOutput:
    mode: ModeName
    decision: ModeDecision
    islanded: bool


def build_controllers(config: ControlConfig) -> dict[ModeName, ModeController[Any]]:
    site, tz = config.site, config.utc_offset_s
    controllers: list[ModeController[Any]] = [
        SelfConsumption(config.self_consumption, site),
        PeakShaving(config.peak_shaving, site),
        ExternalControl(config.external_control, site, tz),
        ChargeOnly(config.charge_only, site, tz),
        Backup(config.backup, site),
        LocalControl(config.local_control, site),
        Passive(),
        LoadMatching(config.load_matching, site),
        CostSaving(config.cost_saving, site, tz),
    ]
    return {c.name: c for c in controllers}


class ModeManager:
    def __init__(self, config: ControlConfig, mode: ModeName | None = None) -> None:
        self._config = config
        self._controllers = build_controllers(config)
        backup = self._controllers[ModeName.BACKUP]
        assert isinstance(backup, Backup)
        self._backup = backup
        self._mode = mode or config.default_mode
        if self._mode is ModeName.BACKUP and not config.backup.enabled:
            raise ValueError("backup mode needs backup.enabled")
        self._states: dict[ModeName, Any] = {
            ModeName.EXTERNAL_CONTROL: ExternalState(),
            ModeName.LOCAL_CONTROL: LocalState(),
        }
        self._started = False
        self._backup_state = BackupState()
        self._watch = GridWatch()
        self._was_islanded = False
        self._ramp_from_s: float | None = None

    @property
    def mode(self) -> ModeName:
        return self._mode

    @property
    def config(self) -> ControlConfig:
        return self._config

    def replace_config(self, config: ControlConfig) -> None:
        """New parameters (from the master or the twin): the same mode, restarted bumplessly on them;
        leases, schedules and manual setpoints received stay."""
        self._config = config
        self._controllers = build_controllers(config)
        self._backup = Backup(config.backup, config.site)
        if self._mode is ModeName.BACKUP and not config.backup.enabled:
            self._mode = config.default_mode
        self._started = False

    @property
    def backup_phase(self) -> BackupPhase:
        return self._backup_state.phase

    # ---- commands -------------------------------------------------------------------------------
    def request_mode(self, mode: str, source: CommandSource) -> None:
        try:
            wanted = ModeName(mode)
        except ValueError:
            raise ModeCommandError(400, f"unknown mode {mode!r}") from None
        if wanted is ModeName.BACKUP and not self._config.backup.enabled:
            raise ModeCommandError(409, "backup mode is not enabled for this site")
        if wanted is ModeName.LOCAL_CONTROL and source not in ("local", "fallback"):
            raise ModeCommandError(409, "local control can only be selected at the site")
        if self._was_islanded:
            raise ModeCommandError(409, "site is islanded; mode changes wait for reconnection")
        if wanted is not self._mode:
            self._mode = wanted
            self._started = False

    def grant_lease(
        self, power_w: float, reactive_power_var: float, source: CommandSource, ttl_s: float, now_s: float
    ) -> SetpointLease:
        if self._mode is not ModeName.EXTERNAL_CONTROL:
            raise ModeCommandError(409, f"direct setpoints need external control mode, mode is {self._mode}")
        try:
            lease = SetpointLease.grant(
                power_w,
                reactive_power_var,
                source,
                ttl_s,
                now_s,
                self._config.external_control.max_lease_ttl_s,
            )
        except ValueError as exc:
            raise ModeCommandError(400, str(exc)) from None
        state: ExternalState = self._states[ModeName.EXTERNAL_CONTROL]
        self._states[ModeName.EXTERNAL_CONTROL] = state.with_lease(lease)
        return lease

    def update_cloud_schedule(self, payload_json: str | bytes, now_s: float) -> Schedule:
        try:
            schedule = Schedule.from_json(payload_json, now_s)
        except ValueError as exc:
            raise ModeCommandError(400, str(exc)) from None
        state: ExternalState = self._states[ModeName.EXTERNAL_CONTROL]
        self._states[ModeName.EXTERNAL_CONTROL] = state.with_cloud_schedule(schedule)
        return schedule

    def local_setpoint(self, power_w: float, now_s: float) -> None:
        state: LocalState = self._states[ModeName.LOCAL_CONTROL]
        try:
            self._states[ModeName.LOCAL_CONTROL] = state.with_setpoint(power_w, now_s)
        except ValueError as exc:
            raise ModeCommandError(400, str(exc)) from None

    def local_heartbeat(self, now_s: float) -> None:
        state: LocalState = self._states[ModeName.LOCAL_CONTROL]
        self._states[ModeName.LOCAL_CONTROL] = state.heartbeat(now_s)

    def start_backup_test(self, now_s: float) -> None:
        if not self._config.backup.enabled:
            raise ModeCommandError(409, "backup is not enabled for this site")
        try:
            self._backup_state = self._backup_state.start_test(now_s, self._config.backup.test_duration_s)
        except ValueError as exc:
            raise ModeCommandError(409, str(exc)) from None

    # ---- the slow cycle -------------------------------------------------------------------------
    def step(self, snapshot: SiteSnapshot) -> ControlOutput:
        islanded, override = self._grid_override(snapshot)
        if self._was_islanded and not islanded:
            self._ramp_from_s = snapshot.now_s
            self._started = False
        self._was_islanded = islanded
        if override is not None:
            return ControlOutput(self._mode, override, islanded)
        controller = self._controllers[self._mode]
        if not self._started:
            if self._mode not in _COMMAND_MODES:
                self._states[self._mode] = controller.start(snapshot)
            self._started = True
        decision, self._states[self._mode] = controller.decide(snapshot, self._states[self._mode])
        decision = self._reconnect_ramp(snapshot, controller, decision)
        return ControlOutput(self._mode, decision, islanded)

    def _grid_override(self, snapshot: SiteSnapshot) -> tuple[bool, ModeDecision | None]:
        """(islanded or grid lost, the decision that replaces the selected mode's, if any)."""
        if self._config.backup.enabled:
            was_testing = self._backup_state.testing  # so the cycle that ends a test reports it
            decision, self._backup_state = self._backup.decide(snapshot, self._backup_state)
            state = self._backup_state
            away = state.phase is not BackupPhase.CONNECTED
            if away or was_testing or state.testing or self._mode is ModeName.BACKUP:
                return away, decision
            return False, None
        self._watch = watch_grid(
            self._config.backup.grid_loss,
            self._watch,
            snapshot.grid_freq_hz,
            snapshot.grid_voltage_v,
            snapshot.now_s,
        )
        if self._watch.lost:
            return True, ModeDecision(0.0, "grid lost: anti-islanding, 0 W until the grid is back")
        return False, None

    def _reconnect_ramp(
        self, snapshot: SiteSnapshot, controller: ModeController[Any], decision: ModeDecision
    ) -> ModeDecision:
        if self._ramp_from_s is None:
            return decision
        rated_w = max(snapshot.max_discharge_w, snapshot.max_charge_w)
        gradient = self._config.backup.grid_loss.reconnect_gradient_pct_per_min / 100.0 / 60.0
        allowed_w = gradient * rated_w * (snapshot.now_s - self._ramp_from_s)
        if abs(decision.power_w) <= allowed_w:
            self._ramp_from_s = None
            return decision
        if self._mode not in _COMMAND_MODES:
            # Re-seed the loop from what is delivered so its integrator does not wind up meanwhile.
            self._states[self._mode] = controller.start(snapshot)
        limited_w = allowed_w if decision.power_w > 0 else -allowed_w
        return ModeDecision(
            limited_w,
            f"{decision.reason}; reconnection gradient limits to {limited_w:.0f} W",
            reactive_power_var=decision.reactive_power_var,
            nodes_may_sleep=decision.nodes_may_sleep,
        )
