"""NodeCore: one node's safety chain, state machine and setpoint path, without any I/O.

The runtime calls `fast_tick()` every fast-loop period and `slow_cycle()` every slow period and
carries out what they return. Everything here reads the injected clock, so tests and the
faster-than-real-time simulator drive it with a SimClock.

Setpoint path (each fast tick): snapshot → Monitor → (Critical? 0 W and state Error in this tick)
→ power request (mode decision or master lease) + fast frequency response → ChargeLimiter → out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from masterController.grid_support.characteristics import Fcr
from masterController.grid_support.frequency_response import FrequencyResponse, Share
from sitecontroller.bms.power_limit import BmsPowerLimiter
from sitecontroller.config.site import SiteConfig
from sitecontroller.core.clock import Clock
from sitecontroller.core.datastore import DataStore, Snapshot
from sitecontroller.core.events import ErrorChanged, EventBus, PowerChanged, StateChanged
from sitecontroller.core.readings import BmsReading, InverterReading
from sitecontroller.safety import limit_sources
from sitecontroller.safety.errors import ActiveError, ErrorHandler
from sitecontroller.safety.limiter import ChargeLimiter, LimitedSetpoint, Limits, PowerLimit, combine
from sitecontroller.safety.monitor import SOURCE_BMS, SOURCE_INVERTER, Expected, Monitor
from sitecontroller.state.machine import Action, Inputs, State, StateMachine

# The inverter counts as "at 0 W" below this (measurement noise of its power reading).
ZERO_POWER_W = 50.0


@dataclass(frozen=True, slots=True)
class PowerRequest:
    power_w: float
    reason: str


@dataclass(frozen=True, slots=True)
class ControlInputs:
    """What a power source decides from, each slow cycle. `service_power_w` is what the fast loop's
    grid services deliver now: modes control the baseline and must not fight it."""

    snap: Snapshot
    now_s: float
    limits: Limits
    service_power_w: float


PowerSource = Callable[[ControlInputs], PowerRequest]
ExtraLimits = Callable[[Snapshot, float], list[PowerLimit]]


def measured_freq_hz(snap: Snapshot) -> float | None:
    """Grid frequency: the site meter's where this node has one, else the inverter's."""
    for source in ("meter.grid", "inverter"):
        reading = snap.fresh(source)
        freq_hz = getattr(reading, "freq_hz", None)
        if freq_hz is not None:
            return float(freq_hz)
    return None


def contracted_response(config: SiteConfig) -> FrequencyResponse:
    """This node's share of each contracted product: the site contract split evenly over the
    battery nodes (one on a standalone site)."""
    services = config.control.grid_services
    nodes = max(1, sum(1 for m in config.cluster.members if not m.witness)) if config.cluster.enabled else 1
    response = FrequencyResponse(services, max(config.limits.max_discharge_power_w, 1.0))
    for product, fcr in (
        (Fcr.N, services.fcrn),
        (Fcr.D_UP, services.fcrd_up),
        (Fcr.D_DOWN, services.fcrd_down),
    ):
        response.assign(product, Share(fcr.capacity_w / nodes, fcr.energy_wh / nodes))
    response.assign("ffr", Share(services.ffr.capacity_w / nodes, 0.0))
    return response


def no_power(inputs: ControlInputs) -> PowerRequest:
    return PowerRequest(0.0, "passive")


class NodeCore:
    def __init__(
        self,
        config: SiteConfig,
        clock: Clock,
        store: DataStore,
        errors: ErrorHandler,
        events: EventBus,
        expected: Expected,
        power_source: PowerSource = no_power,
        extra_limits: list[ExtraLimits] | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.store = store
        self.errors = errors
        self.events = events
        self.monitor = Monitor(
            config.monitor, config.limits, errors, expected, clock.monotonic(), config.state.init_timeout_s
        )
        self.limiter = ChargeLimiter(config.limits.ramp_w_per_s)
        self.bms_limiter = BmsPowerLimiter(config.bms.power_limit)
        latched = errors.emergency_stop  # restored from the previous run: stay tripped until reset
        self.machine = StateMachine(config.state, clock.monotonic(), latched_error=latched)
        self.power_source = power_source
        # More limit sources (grid code, SCADA % limits): each gives PowerLimits for a snapshot.
        self.extra_limits: list[ExtraLimits] = list(extra_limits or [])
        self.request = PowerRequest(0.0, "starting")
        self.last = LimitedSetpoint(0.0, 0.0, Limits(0.0, 0.0, "none", "none"), "state")
        self.frequency_response = contracted_response(config)
        self.frequency_offset_w = 0.0
        store.expect(SOURCE_BMS, config.bms.timeout_s)
        store.expect(SOURCE_INVERTER, config.monitor.inverter_timeout_s)
        if expected.grid_meter:
            store.expect("meter.grid", config.monitor.meter_timeout_s)
        if expected.inputs:
            store.expect("inputs", config.monitor.inputs_timeout_s)
        errors.subscribe(self._publish_error)

    @property
    def state(self) -> State:
        return self.machine.state

    def fast_tick(self) -> tuple[float, tuple[Action, ...]]:
        """The setpoint for this tick and any actions a trip demands."""
        now_s = self.clock.monotonic()
        snap = self.store.snapshot()
        self.monitor.check(snap, self.last.power_w)
        actions: tuple[Action, ...] = ()
        if self.errors.emergency_stop and self.machine.state is not State.ERROR:
            actions = self._step_machine(snap, now_s)
        self.errors.set_state(self.machine.state.value)
        limits = self._limits(snap, now_s)
        if self.errors.emergency_stop or not self.machine.power_allowed:
            self._zero(now_s, "emergency_stop" if self.errors.emergency_stop else "state", combine(limits))
            return 0.0, actions
        self.frequency_offset_w = self._frequency_offset(snap, now_s)
        requested_w = self.request.power_w + self.frequency_offset_w
        limited = self.limiter.apply(requested_w, limits, now_s)
        self._record(limited)
        return limited.power_w, actions

    def _frequency_offset(self, snap: Snapshot, now_s: float) -> float:
        """Grid services on the locally measured frequency, every tick; no data, no response."""
        bms = snap.fresh(SOURCE_BMS)
        freq_hz = measured_freq_hz(snap)
        if freq_hz is None or not isinstance(bms, BmsReading):
            return 0.0
        return self.frequency_response.update(freq_hz, now_s, bms.soc_pct)

    def slow_cycle(self) -> tuple[Action, ...]:
        now_s = self.clock.monotonic()
        snap = self.store.snapshot()
        limits = combine(self._limits(snap, now_s))
        self.request = self.power_source(ControlInputs(snap, now_s, limits, self.frequency_offset_w))
        self.machine.idle(abs(self.request.power_w) < ZERO_POWER_W, now_s)
        return self._step_machine(snap, now_s)

    def active_errors(self) -> list[ActiveError]:
        return self.errors.active()

    def _step_machine(self, snap: Snapshot, now_s: float) -> tuple[Action, ...]:
        bms = snap.fresh(SOURCE_BMS)
        inverter = snap.fresh(SOURCE_INVERTER)
        critical = [e for e in self.errors.active() if e.severity.name == "CRITICAL"]
        inputs = Inputs(
            now_s=now_s,
            devices_ready=isinstance(inverter, InverterReading),
            bms_valid=isinstance(bms, BmsReading),
            critical=", ".join(e.id for e in critical) or None,
            inverter_at_zero=not isinstance(inverter, InverterReading)
            or abs(inverter.power_w) < ZERO_POWER_W,
            power_demanded=abs(self.request.power_w) >= ZERO_POWER_W,
        )
        result = self.machine.step(inputs)
        for change in result.changes:
            self.events.publish(
                StateChanged(self.clock.wall(), change.old.value, change.new.value, change.cause)
            )
        self.errors.set_state(self.machine.state.value)
        if Action.EMERGENCY_STOP in result.actions or Action.ZERO_POWER in result.actions:
            self._zero(now_s, "state", self.last.limits)
        return result.actions

    def _limits(self, snap: Snapshot, now_s: float) -> list[PowerLimit]:
        bms = snap.fresh(SOURCE_BMS)
        if not isinstance(bms, BmsReading):
            self.bms_limiter.limit(None, now_s)  # restarts its recovery ramp from 0 W
            return []  # no battery data: no power in either direction
        limits = limit_sources.software_limits(bms, self.config.limits)
        limits.append(self.bms_limiter.limit(bms, now_s))
        for source in self.extra_limits:
            limits.extend(source(snap, now_s))
        return limits

    def _zero(self, now_s: float, why: str, limits: Limits) -> None:
        self.limiter.reset(now_s)
        self._record(LimitedSetpoint(self.request.power_w, 0.0, limits, why))

    def _record(self, limited: LimitedSetpoint) -> None:
        # Ramps change the setpoint every tick; the bus hears about steps of 1 % of rating or more.
        step_w = 0.01 * max(self.config.limits.max_discharge_power_w, self.config.limits.max_charge_power_w)
        moved = abs(limited.power_w - self.last.power_w) >= step_w or (limited.power_w == 0) != (
            self.last.power_w == 0
        )
        if moved or limited.limited_by != self.last.limited_by:
            self.events.publish(
                PowerChanged(self.clock.wall(), limited.power_w, limited.requested_w, limited.limited_by)
            )
        self.last = limited

    def _publish_error(self, error: ActiveError, raised: bool) -> None:
        self.events.publish(
            ErrorChanged(
                self.clock.wall(),
                error.id,
                error.severity.name.lower(),
                error.source.value,
                error.text,
                raised,
            )
        )
