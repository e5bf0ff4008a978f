"""The composition root: one asyncio process per node, wiring devices, safety, control and outputs.

Loops: the fast loop (safety, setpoint path) and the slow cycle (state machine, mode control),
each on a drift-free schedule; device services own their links; the status server and systemd
watchdog read what the loops produce. On SIGTERM the inverter is left at 0 W.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ValidationError

from masterController.cluster_service import ClusterService
from masterController.control.mode_manager import ModeManager
from masterController.master.site_params import SiteParams
from masterController.membership.node_state import NodeState
from sitecontroller import __version__
from sitecontroller.cloud.service import CloudService
from sitecontroller.cloud.site_params import ValidatedSiteParameters
from sitecontroller.cloud.telemetry import CLUSTER_STATE_EVENT
from sitecontroller.config.cache import ParameterCache
from sitecontroller.config.control import ControlConfig
from sitecontroller.config.loader import validate_site
from sitecontroller.config.site import SiteConfig
from sitecontroller.core.clock import Clock
from sitecontroller.core.datastore import DataStore
from sitecontroller.core.events import (
    ClusterChanged,
    ErrorChanged,
    Event,
    EventBus,
    ModeChanged,
    StateChanged,
)
from sitecontroller.core.readings import BmsReading, InverterReading, MeterReading
from sitecontroller.drivers.base import BmsSleepControl, DeviceCommandError, InverterDriver, Service
from sitecontroller.node.cluster_link import (
    ClusterPowerSource,
    MasterDecision,
    apply_shares,
    follow_directive,
    service_shares,
)
from sitecontroller.node.commands import NodeCommands
from sitecontroller.node.core import ExtraLimits, NodeCore, contracted_response
from sitecontroller.node.local import local_command
from sitecontroller.node.standalone import StandaloneControl
from sitecontroller.runtime.error_store import ErrorStore
from sitecontroller.runtime.health import HealthGate
from sitecontroller.runtime.notify import SystemdNotifier
from sitecontroller.runtime.status import build_status, device_readings
from sitecontroller.runtime.status_http import StatusServer
from sitecontroller.runtime.sysinfo import SysInfo, SysInfoStore
from sitecontroller.runtime.system_actions import RecordedActions, SystemActions
from sitecontroller.safety.errors import ErrorHandler, Severity
from sitecontroller.safety.monitor import Expected
from sitecontroller.scada.forward import MasterForwarder
from sitecontroller.scada.server import ScadaServer, device_info
from sitecontroller.state.machine import Action, State

log = logging.getLogger(__name__)

# A device command may not hold up the fast loop longer than this.
COMMAND_TIMEOUT_S = 0.5
SHUTDOWN_TIMEOUT_S = 3.0
SYSINFO_SAVE_EVERY_S = 60.0
SETPOINT_DEADBAND_W = 1.0
SETPOINT_REFRESH_S = 1.0
# The last good site parameters (from the file or a twin patch), in the state directory.
PARAMETERS_FILE = "parameters.json"


@dataclass
class NodeDevices:
    inverter: InverterDriver
    services: list[Service]
    expected: Expected
    bms_sleep: BmsSleepControl | None = None
    extra_limits: ExtraLimits | None = None
    extra_status: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class DeviceContext:
    """What device services are built with: they fill the store and raise errors."""

    config: SiteConfig
    clock: Clock
    store: DataStore
    errors: ErrorHandler
    sysinfo: SysInfo
    events: EventBus
    health: HealthGate


DeviceFactory = Callable[[DeviceContext], NodeDevices]


class Daemon:
    def __init__(
        self,
        config: SiteConfig,
        device_factory: DeviceFactory,
        state_dir: Path,
        clock: Clock,
        actions: SystemActions | None = None,
    ) -> None:
        config = with_installed_artifacts(config, state_dir)
        self.config = config
        self.clock = clock
        self.actions = actions or RecordedActions()
        self.store = DataStore(clock)
        self.events = EventBus()
        state_dir.mkdir(parents=True, exist_ok=True)
        self.sysinfo_store = SysInfoStore(state_dir / "sysinfo.json")
        self.sysinfo = self.sysinfo_store.load()
        self.sysinfo.record_boot(__version__, self.clock.wall())
        error_store = ErrorStore(state_dir / "errors.json")
        self.errors = ErrorHandler(self.clock, persist=error_store.save, restored=error_store.load())
        self.health = HealthGate(self.clock)
        self.devices = device_factory(
            DeviceContext(config, clock, self.store, self.errors, self.sysinfo, self.events, self.health)
        )
        devices = self.devices
        self.modes = ModeManager(config.control)
        self.cluster = self._cluster_service(state_dir) if config.cluster.enabled else None
        power_source = (
            ClusterPowerSource(self.cluster) if self.cluster else StandaloneControl(self.modes, self.clock)
        )
        self.core = NodeCore(
            config,
            self.clock,
            self.store,
            self.errors,
            self.events,
            devices.expected,
            power_source=power_source,
            extra_limits=[devices.extra_limits] if devices.extra_limits else None,
        )
        self.commands = NodeCommands(self.core, self.modes, self.events)
        self.scada = self._scada_server() if config.scada.enabled else None
        self.parameter_cache = ParameterCache(state_dir / PARAMETERS_FILE)
        self.cloud = self._cloud_service(state_dir) if config.cloud.enabled else None
        loops = config.loops
        self.health.expect("fast", 10 * loops.fast_loop_s + 1.0)
        self.health.expect("slow", 5 * loops.slow_cycle_s + 1.0)
        self.notifier = SystemdNotifier()
        self.started_s = self.clock.monotonic()
        self.setpoint_w = 0.0
        # The last setpoint the inverter confirmed, and when: unchanged setpoints are re-sent only
        # every SETPOINT_REFRESH_S (the inverter's own watchdog still sees them), saving bus time.
        self._written_w: float | None = None
        self._written_s = 0.0
        self.exit_code = 0
        commands = self.commands
        self.status_server = StatusServer(
            self.status,
            config.status.host,
            config.status.port,
            lambda name, argument: local_command(commands, name, argument),
        )
        self._stop = asyncio.Event()
        self.events.subscribe(self._log_event)
        self.events.subscribe(self._on_mode_changed, ModeChanged)

    def status(self) -> dict[str, object]:
        return build_status(self)

    def _cluster_service(self, state_dir: Path) -> ClusterService:
        decide = MasterDecision(self.modes, self.clock)
        return ClusterService(
            self.config.cluster,
            self.config.identity.node_id,
            self.clock,
            state_dir / "cluster",
            self._node_state,
            decide,
            recorder=self._cluster_event,
            site_params=self._site_params_for_cluster,
            on_site_params=self._site_params_from_master,
        )

    def _site_params_for_cluster(
        self,
    ) -> tuple[int, dict[str, object], dict[str, dict[str, tuple[float, float]]]]:
        """As master: the cluster-wide parameters and every node's grid-service share (ours applied here)."""
        assert self.cluster is not None
        shares = service_shares(self.config.control.grid_services, list(self.cluster.node_states().values()))
        apply_shares(self.core.frequency_response, shares.get(self.config.identity.node_id, {}))
        return self.config.parameters_version, self.config.control.model_dump(mode="json"), shares

    def _site_params_from_master(self, params: SiteParams) -> None:
        """Our grid-service share; the master's cluster-wide section (control) when it differs."""
        self._take_control_section(params)
        apply_shares(self.core.frequency_response, params.shares.get(self.config.identity.node_id, {}))

    def _take_control_section(self, params: SiteParams) -> None:
        """Kept as last good parameters; an invalid section is refused and the old one stays."""
        if params.control == self.config.control.model_dump(mode="json"):
            return
        try:
            control = ControlConfig.from_data(dict(params.control))
        except ValidationError as exc:
            log.error("parameters from master %s refused: %s", params.leader_id, exc)
            return
        self.config = self.config.model_copy(update={"control": control})
        self.core.config = self.config
        self.core.frequency_response = contracted_response(self.config)
        self.modes.replace_config(control)
        self.parameter_cache.save(self.config)
        log.warning("control parameters (version %d) taken from master %s", params.version, params.leader_id)

    def _cluster_event(self, record: dict[str, object]) -> None:
        """Role and membership changes go on the bus (telemetry, log); the rest is election detail."""
        kind = str(record.get("ev"))
        if kind in ("role", "member"):
            details = {k: v for k, v in record.items() if k not in ("t", "ev")}
            self.events.publish(ClusterChanged(self.clock.wall(), kind, details))
            if self.cloud is not None and self.cluster is not None and self.cluster.role == "leader":
                # The master speaks for the cluster: the site's view after every change.
                self.cloud.record(CLUSTER_STATE_EVENT, {"change": kind, **details, **self.cluster_status()})

    def _node_state(self) -> NodeState:
        """What this node tells the master: only a node in Run offers power."""
        snap = self.store.snapshot()
        bms, inverter, meter = snap.fresh("bms"), snap.fresh("inverter"), snap.fresh("meter.grid")
        limits = self.core.last.limits
        running = self.core.state is State.RUN
        worst = self.errors.worst()
        return NodeState(
            node_id=self.config.identity.node_id,
            soc_pct=bms.soc_pct if isinstance(bms, BmsReading) else 0.0,
            power_w=inverter.power_w if isinstance(inverter, InverterReading) else 0.0,
            max_charge_power_w=limits.charge_w if running else 0.0,
            max_discharge_power_w=limits.discharge_w if running else 0.0,
            mode=self.core.state.value.lower(),
            health="ok" if worst is None or worst < Severity.ERROR else "error",
            version=__version__,
            capacity_wh=self.config.bms.nominal_capacity_wh,
            grid_power_w=meter.power_w if isinstance(meter, MeterReading) else None,
        )

    def cluster_status(self) -> dict[str, object]:
        if self.cluster is None:
            return {"role": "standalone", "term": 0, "leader_id": None}
        summary = self.cluster.summary()
        return {
            "role": self.cluster.role,
            "term": self.cluster.term,
            "leader_id": self.cluster.leader_id,
            "nodes_online": summary.online_nodes,
            "cluster_soc_pct": None if summary.mean_soc_pct is None else round(summary.mean_soc_pct, 1),
            "cluster_charge_limit_w": round(summary.max_charge_power_w, 1),
            "cluster_discharge_limit_w": round(summary.max_discharge_power_w, 1),
        }

    def request_stop(self, exit_code: int = 0) -> None:
        self.exit_code = exit_code
        self._stop.set()

    def _scada_server(self) -> ScadaServer:
        store = self.store
        meters = (
            {"grid": lambda: store.snapshot().fresh("meter.grid")} if self.devices.expected.grid_meter else {}
        )
        cluster = self.cluster
        scada = ScadaServer(
            self.config.scada,
            self.clock,
            self.status,
            self.commands,
            self.events,
            errors=self.errors,
            device=device_info(self.config, self.config.bms.nominal_capacity_wh),
            meters=meters,
            forward_write=None
            if cluster is None
            else MasterForwarder(lambda: cluster.leader_id, scada_endpoints(self.config)),
        )
        self.core.extra_limits.append(scada.power_limits)
        return scada

    def _cloud_service(self, state_dir: Path) -> CloudService:
        params = ValidatedSiteParameters(validate_site, self.config, on_applied=self._parameters_applied)
        return CloudService(
            self.config.cloud,
            self.config.identity.node_id,
            self.clock,
            state_dir,
            self.status,
            self.commands,
            self.events,
            params,
            snapshot_provider=lambda: device_readings(self),
            version=__version__,
        )

    def _parameters_applied(self, parameters: BaseModel, version: int | None) -> None:
        """A valid twin patch: kept as the last good parameters, in force from the next start, which
        is requested now and carried out by the state machine once the inverter is at 0 W."""
        assert isinstance(parameters, SiteConfig)
        self.parameter_cache.save(parameters)
        result = self.commands.request_state("Restart", "cloud")
        log.warning("site parameters version %s applied from the twin; restart: %s", version, result.message)

    async def _serve(self) -> None:
        """Open the status page and the SCADA server; a port that cannot be bound is fatal (OSError)."""
        await self.status_server.start()
        if self.scada is not None:
            await self.scada.start()

    async def run(self) -> int:
        try:
            await self._serve()
        except OSError as exc:
            log.critical("cannot open a server port: %s", exc)
            await self._leave_safe()
            await self._close_servers()
            return 1
        log.info(
            "node %s starting (version %s), status on http://%s:%d/api/status",
            self.config.identity.node_id,
            __version__,
            self.config.status.host,
            self.status_server.port,
        )
        services = [*self.devices.services, *(s for s in (self.cluster, self.cloud) if s is not None)]
        tasks = [asyncio.create_task(self._supervise(s), name=type(s).__name__) for s in services]
        loops = [
            asyncio.create_task(self._fast_loop(), name="fast-loop"),
            asyncio.create_task(self._slow_loop(), name="slow-loop"),
            asyncio.create_task(self._watchdog_loop(), name="watchdog"),
        ]
        stop_wait = asyncio.create_task(self._stop.wait())
        try:
            done, _ = await asyncio.wait([stop_wait, *loops], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stop_wait and task.exception() is not None:
                    log.critical("%s failed: %r; shutting down safely", task.get_name(), task.exception())
                    self.exit_code = 1
        finally:
            self.notifier.stopping()
            if self.cluster is not None:
                await self.cluster.stop()  # a leader hands over before it goes
            for task in [*loops, *tasks, stop_wait]:
                task.cancel()
            await asyncio.gather(*loops, *tasks, stop_wait, return_exceptions=True)
            await self._leave_safe()
            await self._close_servers()
        return self.exit_code

    async def _close_servers(self) -> None:
        await self.status_server.close()
        if self.scada is not None:
            await self.scada.stop()

    async def _leave_safe(self) -> None:
        self.setpoint_w = 0.0
        self.core.limiter.reset(self.clock.monotonic())
        await self._command("set 0 W on shutdown", self.devices.inverter.set_power(0.0), SHUTDOWN_TIMEOUT_S)
        self._save_sysinfo()
        log.info("stopped with the inverter commanded to 0 W")

    async def _fast_loop(self) -> None:
        period_s = self.config.loops.fast_loop_s
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        while True:
            await self.fast_step()
            deadline = await _sleep_until(loop, deadline + period_s, period_s)

    async def _slow_loop(self) -> None:
        period_s = self.config.loops.slow_cycle_s
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        last_save_s = self.clock.monotonic()
        while True:
            await self.slow_step()
            now_s = self.clock.monotonic()
            if now_s - last_save_s >= SYSINFO_SAVE_EVERY_S:
                self._save_sysinfo()
                last_save_s = now_s
            deadline = await _sleep_until(loop, deadline + period_s, period_s)

    async def fast_step(self) -> None:
        """One fast-loop tick: safety and the setpoint path, then the write to the inverter."""
        setpoint_w, actions = self.core.fast_tick()
        await self._execute(actions)
        self.setpoint_w = setpoint_w
        now_s = self.clock.monotonic()
        unchanged = self._written_w is not None and abs(setpoint_w - self._written_w) < SETPOINT_DEADBAND_W
        if not unchanged or now_s - self._written_s >= SETPOINT_REFRESH_S:
            written = await self._command(
                "setpoint", self.devices.inverter.set_power(setpoint_w), COMMAND_TIMEOUT_S
            )
            self._written_w, self._written_s = (setpoint_w, now_s) if written else (None, 0.0)
        self.health.beat("fast")

    async def slow_step(self) -> None:
        """One slow cycle: mode control and the state machine."""
        if self.cluster is not None:
            follow_directive(self.cluster, self.modes, self.core.machine)
            self.sysinfo.raft_term = self.cluster.term
        await self._execute(self.core.slow_cycle())
        self.sysinfo.total_runtime_s += self.config.loops.slow_cycle_s
        self.health.beat("slow")

    async def _watchdog_loop(self) -> None:
        while True:
            if self.health.healthy():
                self.notifier.watchdog()
            await asyncio.sleep(1.0)

    async def _supervise(self, service: Service) -> None:
        """Device services must never end; if one does, log it and start it again after a pause."""
        while True:
            try:
                await service.run()
                log.error("%s ended unexpectedly; restarting it", type(service).__name__)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s crashed; restarting it", type(service).__name__)
            await asyncio.sleep(1.0)

    async def _execute(self, actions: tuple[Action, ...]) -> None:
        inverter, sleep_control = self.devices.inverter, self.devices.bms_sleep
        for action in actions:
            if action in (Action.ZERO_POWER, Action.EMERGENCY_STOP):
                self.setpoint_w = 0.0
                self._written_w = None
                await self._command(action.value, inverter.set_power(0.0), COMMAND_TIMEOUT_S)
            if action in (Action.STOP_INVERTER, Action.EMERGENCY_STOP):
                await self._command(action.value, inverter.stop(), COMMAND_TIMEOUT_S)
            elif action is Action.START_INVERTER:
                await self._command(action.value, inverter.start(), COMMAND_TIMEOUT_S)
            elif action is Action.BMS_SLEEP and sleep_control is not None:
                await self._command(action.value, sleep_control.sleep(), COMMAND_TIMEOUT_S)
            elif action is Action.BMS_WAKE and sleep_control is not None:
                await self._command(action.value, sleep_control.wake(), COMMAND_TIMEOUT_S)
            elif action is Action.NOTIFY_READY:
                self.notifier.ready(f"node {self.config.identity.node_id} running")
            elif action is Action.RESTART_SERVICE:
                exit_code = self.actions.restart_service()
                if exit_code is not None:
                    self.request_stop(exit_code)
            elif action is Action.REBOOT_SYSTEM:
                self.actions.reboot_system()

    async def _command(self, what: str, command: Awaitable[None], timeout_s: float) -> bool:
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation and
            # keep a loop running through shutdown.
            async with asyncio.timeout(timeout_s):
                await command
            return True
        except (DeviceCommandError, TimeoutError, OSError) as exc:
            log.warning("inverter command %s failed: %s", what, exc or type(exc).__name__)
            return False

    def _save_sysinfo(self) -> None:
        try:
            self.sysinfo_store.save(self.sysinfo)
        except OSError as exc:
            log.error("cannot save sysinfo: %s", exc)

    def _on_mode_changed(self, event: Event) -> None:
        self.sysinfo.last_mode_change_wall_s = event.at_wall_s

    def _log_event(self, event: Event) -> None:
        if isinstance(event, StateChanged):
            log.warning("state %s -> %s: %s", event.old, event.new, event.cause)
        elif isinstance(event, ErrorChanged):
            level = logging.ERROR if event.raised else logging.INFO
            verb = "raised" if event.raised else "cleared"
            log.log(
                level,
                "error %s %s (%s, %s): %s",
                event.error_id,
                verb,
                event.severity,
                event.source,
                event.text,
            )
        elif isinstance(event, ClusterChanged):
            log.info("cluster %s: %s", event.kind, event.details)
        elif isinstance(event, ModeChanged):
            log.info("mode %s -> %s: %s", event.old, event.new, event.cause)
        else:
            log.debug("event %s", event)


def with_installed_artifacts(config: SiteConfig, state_dir: Path) -> SiteConfig:
    """A BMS DBC installed over the air replaces the one of the BMS type's binding."""
    dbc = state_dir / "cloud" / "artifacts" / "bms_dbc" / "bms.dbc"
    if not dbc.exists() or config.bms.dbc_file:
        return config
    log.info("using the installed BMS DBC %s", dbc)
    return config.model_copy(update={"bms": config.bms.model_copy(update={"dbc_file": str(dbc)})})


def scada_endpoints(config: SiteConfig) -> dict[str, tuple[str, int]]:
    """Each member's SCADA server: as configured, else its election host with the site's SCADA port."""
    endpoints = {}
    for member in config.cluster.members:
        if member.scada_endpoint:
            host, _, port = member.scada_endpoint.rpartition(":")
            endpoints[member.node_id] = (host, int(port))
        else:
            host = member.election_endpoint.split("://", 1)[-1].rsplit(":", 1)[0]
            endpoints[member.node_id] = (host, config.scada.port)
    return endpoints


async def _sleep_until(loop: asyncio.AbstractEventLoop, deadline: float, period_s: float) -> float:
    """Sleep to the next deadline; after an overrun, restart the schedule instead of bursting to catch up."""
    now = loop.time()
    if deadline < now - period_s:
        deadline = now
    await asyncio.sleep(max(0.0, deadline - now))
    return deadline
