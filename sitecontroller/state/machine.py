"""The node state machine as a pure transition table with guards and entry/exit actions.

`step(inputs)` is called every slow cycle (and by the fast loop on a trip); it returns the
transitions taken, each with its cause, and the actions the runtime must carry out. Requests
(operator, cloud, SCADA, master) are validated at once and acted on at the next step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from sitecontroller.config.node import StatePolicy


class State(StrEnum):
    INIT = "Init"
    RUN = "Run"
    SLEEP = "Sleep"
    MAINTENANCE = "Maintenance"
    ERROR = "Error"
    REBOOT = "Reboot"
    RESTART = "Restart"


class Request(StrEnum):
    RUN = "Run"
    SLEEP = "Sleep"
    MAINTENANCE = "Maintenance"
    RESET = "Reset"
    RESTART = "Restart"
    REBOOT = "Reboot"


class Action(StrEnum):
    ZERO_POWER = "zero_power"
    START_INVERTER = "start_inverter"
    STOP_INVERTER = "stop_inverter"
    BMS_SLEEP = "bms_sleep"
    BMS_WAKE = "bms_wake"
    EMERGENCY_STOP = "emergency_stop"
    RESTART_SERVICE = "restart_service"
    REBOOT_SYSTEM = "reboot_system"
    NOTIFY_READY = "notify_ready"


@dataclass(frozen=True, slots=True)
class Inputs:
    now_s: float
    devices_ready: bool = False
    bms_valid: bool = False
    critical: str | None = None
    inverter_at_zero: bool = True
    power_demanded: bool = False


@dataclass(frozen=True, slots=True)
class Change:
    old: State
    new: State
    cause: str


@dataclass(frozen=True, slots=True)
class StepResult:
    state: State
    changes: tuple[Change, ...] = ()
    actions: tuple[Action, ...] = ()


@dataclass
class _Memory:
    entered_s: float = 0.0
    idle_since_s: float | None = None
    cause_clear_since_s: float | None = None
    # Sleep that an operator asked for is kept until Run is asked for; idle sleep ends on demand.
    sleep_held: bool = False
    pending: dict[Request, str] = field(default_factory=dict)


Guard = Callable[[Inputs, _Memory, StatePolicy], "str | None"]


@dataclass(frozen=True, slots=True)
class Transition:
    sources: frozenset[State]
    target: State
    guard: Guard
    holds_sleep: bool = False


def _critical(i: Inputs, m: _Memory, p: StatePolicy) -> str | None:
    return f"critical error: {i.critical}" if i.critical else None


def _requested(request: Request) -> Guard:
    def guard(i: Inputs, m: _Memory, p: StatePolicy) -> str | None:
        origin = m.pending.get(request)
        return None if origin is None else f"{request.value} requested by {origin}"

    return guard


def _init_done(i: Inputs, m: _Memory, p: StatePolicy) -> str | None:
    return "devices answer and BMS data is valid" if i.devices_ready and i.bms_valid else None


def _init_timed_out(i: Inputs, m: _Memory, p: StatePolicy) -> str | None:
    if i.now_s - m.entered_s >= p.init_timeout_s:
        return f"devices did not answer within {p.init_timeout_s:g} s"
    return None


def _idle_long_enough(i: Inputs, m: _Memory, p: StatePolicy) -> str | None:
    if m.idle_since_s is not None and i.now_s - m.idle_since_s >= p.idle_to_sleep_s:
        return f"idle for {p.idle_to_sleep_s:g} s"
    return None


def _wake(i: Inputs, m: _Memory, p: StatePolicy) -> str | None:
    if not i.bms_valid:
        return None  # waking waits for valid BMS data
    if Request.RUN in m.pending:
        return _requested(Request.RUN)(i, m, p)
    return "power demanded" if i.power_demanded and not m.sleep_held else None


def _leave_error(i: Inputs, m: _Memory, p: StatePolicy) -> str | None:
    if i.critical or m.cause_clear_since_s is None:
        return None
    if Request.RESET in m.pending:
        return f"cause cleared, reset by {m.pending[Request.RESET]}"
    if p.error_reset == "auto" and i.now_s - m.cause_clear_since_s >= p.auto_reset_after_s:
        return f"cause clear for {p.auto_reset_after_s:g} s (automatic reset)"
    return None


def _leave_maintenance(target: Request) -> Guard:
    requested = _requested(target)

    def guard(i: Inputs, m: _Memory, p: StatePolicy) -> str | None:
        return requested(i, m, p) if i.bms_valid or target is Request.SLEEP else None

    return guard


def _zero_reached(i: Inputs, m: _Memory, p: StatePolicy) -> str | None:
    return "inverter at 0 W" if i.inverter_at_zero else None


S = State
_ACTIVE = frozenset({S.INIT, S.RUN, S.SLEEP, S.MAINTENANCE})
_OPERABLE = frozenset({S.RUN, S.SLEEP, S.MAINTENANCE, S.ERROR})

# Order matters: the first transition whose guard fires wins, so safety comes first.
TABLE: tuple[Transition, ...] = (
    Transition(_ACTIVE, S.ERROR, _critical),
    Transition(_OPERABLE | {S.INIT}, S.REBOOT, _requested(Request.REBOOT)),
    Transition(_OPERABLE | {S.INIT}, S.RESTART, _requested(Request.RESTART)),
    Transition(frozenset({S.INIT}), S.RUN, _init_done),
    Transition(frozenset({S.INIT}), S.ERROR, _init_timed_out),
    Transition(frozenset({S.RUN, S.SLEEP}), S.MAINTENANCE, _requested(Request.MAINTENANCE)),
    Transition(frozenset({S.RUN}), S.SLEEP, _requested(Request.SLEEP), holds_sleep=True),
    Transition(frozenset({S.RUN}), S.SLEEP, _idle_long_enough),
    Transition(frozenset({S.SLEEP}), S.RUN, _wake),
    Transition(frozenset({S.MAINTENANCE}), S.RUN, _leave_maintenance(Request.RUN)),
    Transition(frozenset({S.MAINTENANCE}), S.SLEEP, _leave_maintenance(Request.SLEEP), holds_sleep=True),
    Transition(frozenset({S.ERROR}), S.INIT, _leave_error),
)

_FINAL_ACTION = {S.REBOOT: Action.REBOOT_SYSTEM, S.RESTART: Action.RESTART_SERVICE}

ENTRY_ACTIONS: dict[State, tuple[Action, ...]] = {
    S.INIT: (Action.ZERO_POWER,),
    S.RUN: (Action.START_INVERTER,),
    S.SLEEP: (Action.ZERO_POWER, Action.STOP_INVERTER, Action.BMS_SLEEP),
    S.MAINTENANCE: (Action.ZERO_POWER, Action.STOP_INVERTER),
    S.ERROR: (Action.EMERGENCY_STOP,),
    S.REBOOT: (Action.ZERO_POWER,),
    S.RESTART: (Action.ZERO_POWER,),
}
EXIT_ACTIONS: dict[State, tuple[Action, ...]] = {
    S.INIT: (Action.NOTIFY_READY,),
    S.SLEEP: (Action.BMS_WAKE,),
}

# Which requests make sense in which state; anything else is refused (409 for the cloud).
_ALLOWED: dict[Request, frozenset[State]] = {
    Request.RUN: frozenset({S.RUN, S.SLEEP, S.MAINTENANCE}),
    Request.SLEEP: frozenset({S.RUN, S.SLEEP, S.MAINTENANCE}),
    Request.MAINTENANCE: frozenset({S.RUN, S.SLEEP, S.MAINTENANCE}),
    Request.RESET: frozenset({S.ERROR}),
    Request.RESTART: _OPERABLE | {S.INIT},
    Request.REBOOT: _OPERABLE | {S.INIT},
}

_SERVED_BY = {S.RUN: Request.RUN, S.SLEEP: Request.SLEEP, S.MAINTENANCE: Request.MAINTENANCE}


class RequestRefused(Exception):
    pass


class StateMachine:
    def __init__(self, policy: StatePolicy, now_s: float, latched_error: bool = False) -> None:
        """`latched_error`: the node stopped in a Critical trip; it comes back in Error until reset."""
        self._policy = policy
        self._state = State.ERROR if latched_error else State.INIT
        self._memory = _Memory(entered_s=now_s)
        self._final_done = False

    @property
    def state(self) -> State:
        return self._state

    @property
    def power_allowed(self) -> bool:
        return self._state is State.RUN

    def request(self, request: Request, origin: str) -> None:
        """Queue a request for the next step, or raise RequestRefused with the reason."""
        if self._state not in _ALLOWED[request]:
            raise RequestRefused(f"{request.value} is not allowed in state {self._state.value}")
        if request is Request.RESET and self._memory.cause_clear_since_s is None:
            raise RequestRefused("the cause of the error is still present")
        self._memory.pending[request] = origin

    def idle(self, idle: bool, now_s: float) -> None:
        """Tell the machine whether the node is being asked for power (Run → Sleep after idle time)."""
        if not idle:
            self._memory.idle_since_s = None
        elif self._memory.idle_since_s is None:
            self._memory.idle_since_s = now_s

    def step(self, inputs: Inputs) -> StepResult:
        memory = self._memory
        if self._state is State.ERROR:
            if inputs.critical:
                memory.cause_clear_since_s = None
            elif memory.cause_clear_since_s is None:
                memory.cause_clear_since_s = inputs.now_s
        if self._state in _FINAL_ACTION:
            return self._finish(inputs)
        for transition in TABLE:
            if self._state not in transition.sources:
                continue
            cause = transition.guard(inputs, memory, self._policy)
            if cause is not None:
                return self._enter(transition, cause, inputs)
        self._drop_served_requests()
        return StepResult(self._state)

    def _enter(self, transition: Transition, cause: str, inputs: Inputs) -> StepResult:
        target = transition.target
        old = self._state
        actions = EXIT_ACTIONS.get(old, ()) + ENTRY_ACTIONS.get(target, ())
        self._state = target
        self._memory = _Memory(entered_s=inputs.now_s, sleep_held=transition.holds_sleep)
        result = StepResult(target, (Change(old, target, cause),), actions)
        if target in _FINAL_ACTION and inputs.inverter_at_zero:
            finished = self._finish(inputs)
            return StepResult(target, result.changes, result.actions + finished.actions)
        return result

    def _finish(self, inputs: Inputs) -> StepResult:
        if self._final_done or _zero_reached(inputs, self._memory, self._policy) is None:
            return StepResult(self._state)
        self._final_done = True
        return StepResult(self._state, (), (_FINAL_ACTION[self._state],))

    def _drop_served_requests(self) -> None:
        # A request for the state we are already in is served; one that could not act yet
        # (e.g. Run while the BMS wakes) stays pending.
        served = _SERVED_BY.get(self._state)
        if served is not None:
            self._memory.pending.pop(served, None)
