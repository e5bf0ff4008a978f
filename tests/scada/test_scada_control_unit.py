"""ScadaControl alone on a SimClock with a recording CommandSink: the pure lease/reversion logic."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from sitecontroller.config.scada import ScadaConfig
from sitecontroller.core.clock import SimClock
from sitecontroller.runtime.commands import CommandResult
from sitecontroller.safety.errors import ErrorHandler
from sitecontroller.scada.control import Rating, ScadaControl, TimedLimit
from sitecontroller.scada.errors import SCADA_HEARTBEAT_LOST

OK = CommandResult(200, "ok")


@dataclass
class Sink:
    setpoints: list[tuple[float, float]] = field(default_factory=list)  # (power_w, lease_s)
    modes: list[tuple[str, str]] = field(default_factory=list)
    refuse: bool = False

    def request_state(self, state: str, origin: str) -> CommandResult:
        return OK

    def request_mode(
        self, mode: str, origin: str, parameters: dict[str, object] | None = None
    ) -> CommandResult:
        self.modes.append((mode, origin))
        return OK

    def reset_errors(self, origin: str) -> CommandResult:
        return OK

    def set_external_setpoint(
        self, power_w: float, reactive_power_var: float, lease_s: float, origin: str
    ) -> CommandResult:
        if self.refuse:
            return CommandResult(409, "not in external control")
        self.setpoints.append((power_w, lease_s))
        return OK


def make(**changes: object) -> tuple[ScadaControl, Sink, SimClock, ErrorHandler]:
    clock, sink = SimClock(), Sink()
    errors = ErrorHandler(clock)
    config = ScadaConfig(heartbeat_timeout_s=5.0, lease_s=20.0).model_copy(update=changes)
    return ScadaControl(config, clock, sink, errors, Rating(5000.0, 4000.0)), sink, clock, errors


def run(control: ScadaControl, clock: SimClock, seconds: float) -> None:
    for _ in range(round(seconds / 0.1)):
        clock.advance(0.1)
        control.tick()


def test_rvrttms_reverts_to_the_reversion_value() -> None:
    control, sink, clock, _ = make()
    assert control.set_power(3000.0, 0.0, "10.0.0.1", revert_after_s=10.0, revert_w=500.0).ok
    assert sink.setpoints == [(3000.0, 10.0)]  # the node's own lease ends with the timer
    run(control, clock, 9.5)
    assert control.remaining_s() == pytest.approx(0.5)
    run(control, clock, 1.0)
    assert sink.setpoints[-1] == (500.0, 20.0)
    assert control.order is not None and control.order.power_w == 500.0


def test_refused_renewal_drops_the_order() -> None:
    control, sink, clock, _ = make()
    control.heartbeat(1)
    control.set_power(1000.0, 0.0, "c")
    sink.refuse = True  # e.g. an operator switched the mode locally
    for beat in range(2, 14):
        control.heartbeat(beat)
        run(control, clock, 1.0)
    assert control.order is None


def test_local_fallback_and_alarm() -> None:
    control, sink, clock, errors = make(fallback="local")
    control.heartbeat(1)
    control.set_power(-2000.0, 0.0, "c")
    run(control, clock, 6.0)
    assert errors.is_active(SCADA_HEARTBEAT_LOST)
    assert sink.modes == [("self_consumption", "fallback")]
    assert control.order is None and control.fallback_active
    control.heartbeat(2)
    assert not errors.is_active(SCADA_HEARTBEAT_LOST) and not control.fallback_active


def test_repeating_the_same_heartbeat_value_is_no_heartbeat() -> None:
    control, _, clock, errors = make()
    for _ in range(10):
        control.heartbeat(7)
        run(control, clock, 1.0)
    assert errors.is_active(SCADA_HEARTBEAT_LOST)


def test_limits_are_a_limit_source() -> None:
    control, _, clock, _ = make()
    assert control.power_limits(None, 0.0) == []
    control.charge_limit_pct = 50.0
    control.set_wmax_limit(TimedLimit(40.0, expires_s=clock.monotonic() + 3.0, revert_pct=None))
    (limit,) = control.power_limits(None, 0.0)
    assert (limit.source, limit.charge_w, limit.discharge_w) == ("scada", 2000.0, 2000.0)
    run(control, clock, 3.5)
    (limit,) = control.power_limits(None, 0.0)
    assert (limit.charge_w, limit.discharge_w) == (2500.0, 4000.0)  # WMaxLimPct reverted: no limit
