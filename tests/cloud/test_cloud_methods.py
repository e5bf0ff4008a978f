"""Every direct method, good and bad payloads, through the real SDK and the hub emulator."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from sitecontroller.runtime.commands import CommandResult

GOOD: list[tuple[str, Any, tuple[str, tuple[Any, ...]]]] = [
    ("GoToState_Idling", None, ("request_state", ("Sleep", "cloud"))),
    ("GoToState_Running", {}, ("request_state", ("Run", "cloud"))),
    ("Restart_Device", None, ("request_state", ("Restart", "cloud"))),
    ("Restart_Device", {"reboot": True}, ("request_state", ("Reboot", "cloud"))),
    ("GoToMode_SelfConsumption", None, ("request_mode", ("self_consumption", "cloud", None))),
    ("GoToMode_LoadMatching", {}, ("request_mode", ("load_matching", "cloud", None))),
    ("GoToMode_ExternalControl", None, ("request_mode", ("external_control", "cloud", None))),
    (
        "GoToMode_CostSaving",
        {"price_schedule": {"0": 0.1}},
        ("request_mode", ("cost_saving", "cloud", {"price_schedule": {"0": 0.1}})),
    ),
    ("GoToMode_ChargeOnly", None, ("request_mode", ("charge_only", "cloud", None))),
    ("GoToMode_GridForming", None, ("request_mode", ("backup", "cloud", None))),
    ("ResetErrors", None, ("reset_errors", ("cloud",))),
    (
        "Set_ExternalSetpoint",
        {"power_w": -2500, "lease_s": 30},
        ("set_external_setpoint", (-2500, 0.0, 30, "cloud")),
    ),
]

BAD: list[tuple[str, Any]] = [
    ("GoToState_Idling", {"now": True}),
    ("GoToState_Running", 5),
    ("Restart_Device", {"reboot": "yes"}),
    ("GoToMode_ChargeOnly", "fast"),
    ("ResetErrors", [1]),
    ("Set_ExternalSetpoint", {"power_w": "100"}),
    ("Set_ExternalSetpoint", {"power_w": 1e12}),
    ("Set_ExternalSetpoint", None),
    ("Setup_Device", {"site_parameters": {"limits": {"soc_min_pct": 99}}}),
    ("Setup_Device", {"parameters": {}}),
    ("Update_Device", None),
    ("Receive_Artifact", {"url": "https://x/y", "manifest": {"name": "a"}}),
    ("UploadLogs", {"sas_url": "ftp://nope"}),
]


async def call(node: Any, name: str, payload: Any) -> tuple[int, Any]:
    return await asyncio.to_thread(node.hub.emulator.invoke_method, name, payload, 15.0)


async def test_every_method_with_good_and_bad_payloads(start_node: Any) -> None:
    node = await start_node()
    for name, payload, expected_call in GOOD:
        status, body = await call(node, name, payload)
        assert status == 200, (name, body)
        assert body["ok"] is True
        assert node.commands.calls[-1] == expected_call, name
    calls_before = len(node.commands.calls)
    for name, payload in BAD:
        status, body = await call(node, name, payload)
        assert status == 400, (name, payload, status, body)
        assert body["ok"] is False and body["message"], name
    assert len(node.commands.calls) == calls_before, "a bad payload must never reach the state machine"

    status, body = await call(node, "Format_Disk", None)
    assert status == 404 and "Format_Disk" in body["message"]


async def test_state_machine_refusal_is_409_and_failure_500(start_node: Any) -> None:
    node = await start_node()
    node.commands.answers["request_mode:backup"] = CommandResult(409, "grid forming needs state Run")
    node.commands.answers["reset_errors"] = CommandResult(500, "BMS did not acknowledge")
    assert await call(node, "GoToMode_GridForming", None) == (
        409,
        {"ok": False, "message": "grid forming needs state Run"},
    )
    status, body = await call(node, "ResetErrors", {})
    assert status == 500 and body["message"] == "BMS did not acknowledge"
    # No log files: nothing to upload is "not possible now".
    status, body = await call(node, "UploadLogs", None)
    assert status == 409


async def test_setup_device_applies_valid_parameters(start_node: Any) -> None:
    node = await start_node()
    status, body = await call(node, "Setup_Device", {"site_parameters": {"limits": {"soc_min_pct": 12.5}}})
    assert status == 200, body
    assert node.params.model.limits.soc_min_pct == 12.5  # type: ignore[attr-defined]
    status, body = await call(node, "Setup_Device", {"site_parameters": {"limits": {"soc_min_pct": "7"}}})
    assert status == 400 and body["errors"][0]["field"] == "limits.soc_min_pct"
    assert node.params.model.limits.soc_min_pct == 12.5  # type: ignore[attr-defined]


@pytest.mark.parametrize("payload", [None, {}])
async def test_parameterless_methods_accept_null_and_empty(start_node: Any, payload: Any) -> None:
    node = await start_node()
    status, _ = await call(node, "GoToState_Running", payload)
    assert status == 200
