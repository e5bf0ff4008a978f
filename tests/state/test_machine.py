"""Every transition and guard of the node state machine, on simulated time."""

from __future__ import annotations

import pytest

from sitecontroller.config.node import StatePolicy
from sitecontroller.state.machine import TABLE, Action, Inputs, Request, RequestRefused, State, StateMachine

POLICY = StatePolicy(init_timeout_s=60.0, idle_to_sleep_s=900.0, error_reset="operator")
READY = {"devices_ready": True, "bms_valid": True}


def machine_in(state: State, policy: StatePolicy = POLICY) -> StateMachine:
    m = StateMachine(policy, 0.0)
    m.step(Inputs(0.0, **READY))
    assert m.state is State.RUN
    if state is State.RUN:
        return m
    if state is State.ERROR:
        m.step(Inputs(1.0, **READY, critical="SC-X"))
    elif state in (State.SLEEP, State.MAINTENANCE):
        m.request(Request(state.value), "test")
        m.step(Inputs(1.0, **READY))
    assert m.state is state
    return m


def test_init_waits_for_devices_and_bms_then_runs() -> None:
    m = StateMachine(POLICY, 0.0)
    assert m.step(Inputs(1.0, devices_ready=True, bms_valid=False)).state is State.INIT
    assert m.step(Inputs(2.0, devices_ready=False, bms_valid=True)).state is State.INIT
    result = m.step(Inputs(3.0, **READY))
    assert result.state is State.RUN
    assert result.changes[0].cause == "devices answer and BMS data is valid"
    assert Action.NOTIFY_READY in result.actions and Action.START_INVERTER in result.actions


def test_init_times_out_into_error() -> None:
    m = StateMachine(POLICY, 0.0)
    assert m.step(Inputs(59.9)).state is State.INIT
    result = m.step(Inputs(60.0))
    assert result.state is State.ERROR
    assert "did not answer within 60 s" in result.changes[0].cause


@pytest.mark.parametrize("state", [State.INIT, State.RUN, State.SLEEP, State.MAINTENANCE])
def test_critical_error_enters_error_from_every_active_state(state: State) -> None:
    m = StateMachine(POLICY, 0.0) if state is State.INIT else machine_in(state)
    result = m.step(Inputs(5.0, **READY, critical="SC-BMS-STALE"))
    assert result.state is State.ERROR
    assert result.changes[0].cause == "critical error: SC-BMS-STALE"
    assert Action.EMERGENCY_STOP in result.actions
    assert not m.power_allowed


def test_error_is_left_only_after_cause_clears_and_operator_resets() -> None:
    m = machine_in(State.ERROR)
    with pytest.raises(RequestRefused, match="still present"):
        m.request(Request.RESET, "operator")  # cause not yet seen clear
    m.step(Inputs(2.0, **READY, critical="SC-X"))
    assert m.state is State.ERROR
    m.step(Inputs(3.0, **READY))  # cause clear, but no reset yet
    assert m.state is State.ERROR
    m.step(Inputs(10_000.0, **READY))
    assert m.state is State.ERROR  # operator policy: never by itself
    m.request(Request.RESET, "operator")
    result = m.step(Inputs(10_001.0, **READY))
    assert result.state is State.INIT
    assert result.changes[0].cause == "cause cleared, reset by operator"
    assert m.step(Inputs(10_002.0, **READY)).state is State.RUN


def test_reset_is_ignored_when_cause_returns_before_the_step() -> None:
    m = machine_in(State.ERROR)
    m.step(Inputs(2.0, **READY))
    m.request(Request.RESET, "operator")
    assert m.step(Inputs(3.0, **READY, critical="SC-X")).state is State.ERROR


def test_auto_reset_policy_leaves_error_after_the_clear_time() -> None:
    policy = StatePolicy(error_reset="auto", auto_reset_after_s=300.0)
    m = machine_in(State.ERROR, policy)
    m.step(Inputs(10.0, **READY))
    assert m.step(Inputs(309.0, **READY)).state is State.ERROR
    result = m.step(Inputs(310.0, **READY))
    assert result.state is State.INIT
    assert "automatic reset" in result.changes[0].cause


def test_run_sleeps_after_idle_time_and_not_before() -> None:
    m = machine_in(State.RUN)
    m.idle(True, 100.0)
    assert m.step(Inputs(999.0, **READY)).state is State.RUN
    m.idle(False, 500.0)  # demand in between restarts the idle timer
    m.idle(True, 600.0)
    assert m.step(Inputs(1_499.0, **READY)).state is State.RUN
    result = m.step(Inputs(1_500.0, **READY))
    assert result.state is State.SLEEP
    assert result.changes[0].cause == "idle for 900 s"
    assert {Action.ZERO_POWER, Action.STOP_INVERTER, Action.BMS_SLEEP} <= set(result.actions)


def test_idle_sleep_wakes_on_demand_once_the_bms_is_valid() -> None:
    m = machine_in(State.RUN)
    m.idle(True, 0.0)
    assert m.step(Inputs(900.0, **READY)).state is State.SLEEP
    assert m.step(Inputs(2.0, devices_ready=True, bms_valid=False, power_demanded=True)).state is State.SLEEP
    result = m.step(Inputs(3.0, **READY, power_demanded=True))
    assert result.state is State.RUN
    assert result.changes[0].cause == "power demanded"
    assert Action.BMS_WAKE in result.actions


def test_requested_sleep_holds_against_demand_until_run_is_requested() -> None:
    m = machine_in(State.SLEEP)
    assert m.step(Inputs(2.0, **READY, power_demanded=True)).state is State.SLEEP
    m.request(Request.RUN, "operator")
    assert m.step(Inputs(3.0, **READY, power_demanded=True)).state is State.RUN


def test_run_request_wakes_from_sleep_once_bms_is_valid() -> None:
    m = machine_in(State.SLEEP)
    m.request(Request.RUN, "cloud")
    assert m.step(Inputs(2.0, devices_ready=True, bms_valid=False)).state is State.SLEEP
    result = m.step(Inputs(3.0, **READY))
    assert result.state is State.RUN
    assert result.changes[0].cause == "Run requested by cloud"


def test_maintenance_blocks_power_and_is_left_by_request() -> None:
    m = machine_in(State.MAINTENANCE)
    assert not m.power_allowed
    assert m.step(Inputs(5.0, **READY, power_demanded=True)).state is State.MAINTENANCE
    m.request(Request.SLEEP, "local")
    assert m.step(Inputs(6.0, **READY)).state is State.SLEEP
    m.request(Request.MAINTENANCE, "local")
    m.step(Inputs(7.0, **READY))
    m.request(Request.RUN, "local")
    assert m.step(Inputs(8.0, devices_ready=True, bms_valid=False)).state is State.MAINTENANCE
    assert m.step(Inputs(9.0, **READY)).state is State.RUN


@pytest.mark.parametrize("target", [Request.REBOOT, Request.RESTART])
def test_reboot_and_restart_wait_for_zero_power(target: Request) -> None:
    m = machine_in(State.RUN)
    m.request(target, "cloud")
    result = m.step(Inputs(2.0, **READY, inverter_at_zero=False))
    assert result.state.value == target.value
    assert result.actions == (Action.ZERO_POWER,)
    assert m.step(Inputs(2.1, **READY, inverter_at_zero=False)).actions == ()
    final = Action.REBOOT_SYSTEM if target is Request.REBOOT else Action.RESTART_SERVICE
    assert m.step(Inputs(2.2, **READY, inverter_at_zero=True)).actions == (final,)
    assert m.step(Inputs(2.3, **READY, inverter_at_zero=True)).actions == ()  # carried out once


def test_reboot_at_zero_power_acts_in_the_same_step() -> None:
    m = machine_in(State.SLEEP)
    m.request(Request.REBOOT, "cloud")
    result = m.step(Inputs(2.0, **READY))
    assert result.actions == (Action.BMS_WAKE, Action.ZERO_POWER, Action.REBOOT_SYSTEM)


@pytest.mark.parametrize(
    ("state", "request_", "allowed"),
    [
        (State.ERROR, Request.RUN, False),
        (State.ERROR, Request.SLEEP, False),
        (State.ERROR, Request.MAINTENANCE, False),
        (State.RUN, Request.RESET, False),
        (State.RUN, Request.SLEEP, True),
        (State.SLEEP, Request.RUN, True),
        (State.ERROR, Request.REBOOT, True),
    ],
)
def test_requests_are_validated_against_the_state(state: State, request_: Request, allowed: bool) -> None:
    m = machine_in(state)
    if allowed:
        m.request(request_, "cloud")
    else:
        with pytest.raises(RequestRefused, match=f"not allowed in state {state.value}"):
            m.request(request_, "cloud")


def test_latched_error_from_a_previous_run_starts_in_error() -> None:
    m = StateMachine(POLICY, 0.0, latched_error=True)
    assert m.state is State.ERROR
    assert m.step(Inputs(1.0, **READY)).state is State.ERROR


def test_every_state_is_the_target_of_some_transition() -> None:
    assert {t.target for t in TABLE} == set(State)
