"""Telemetry with the documented schema, and twin desired properties, through the real SDK."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from cloudtest_support import REPO, async_wait_until

from sitecontroller.cloud import telemetry
from sitecontroller.cloud.schemas import schema_documents, validate_batch
from sitecontroller.core.events import ErrorChanged, StateChanged


def _of_type(node: Any, kind: str) -> list[dict[str, Any]]:
    return [r for r in node.hub.emulator.records() if r["type"] == kind]


async def test_telemetry_arrives_with_the_documented_schema(start_node: Any) -> None:
    node = await start_node()
    assert await async_wait_until(lambda: len(_of_type(node, telemetry.SPOT)) >= 1, 5)
    node.events.publish(StateChanged(at_wall_s=1.0e9, old="Standby", new="Run", cause="cloud"))
    node.events.publish(
        ErrorChanged(
            at_wall_s=1.0e9,
            error_id="BMS_OVERTEMP",
            severity="Warning",
            source="bms",
            text="cell 7 at 51 C",
            raised=True,
        )
    )
    assert await async_wait_until(lambda: _of_type(node, telemetry.ERROR_EVENT), 5)
    messages = node.hub.emulator.telemetry
    for message in messages:
        assert message.properties["$.ce"] == "gzip" and message.properties["$.ct"] == "application/json"
        batch = validate_batch(message.json())
        assert message.properties["$.mid"] == f"{node.hub.device_id}-{batch.first_seq}-{batch.last_seq}"
    spot = _of_type(node, telemetry.SPOT)[0]
    assert spot["data"]["status"]["soc_pct"] == 55.0 and spot["data"]["link"]["outbox_dropped"] == 0
    state = _of_type(node, telemetry.STATE_EVENT)[0]
    assert (state["data"]["old"], state["data"]["new"]) == ("Standby", "Run")
    seqs = [r["seq"] for r in node.hub.emulator.records()]
    assert seqs == sorted(set(seqs))


def test_schema_files_in_docs_are_current() -> None:
    for name, doc in schema_documents().items():
        on_disk = json.loads((REPO / "docs" / "cloud" / name).read_text())
        assert on_disk == doc, f"docs/cloud/{name} is stale: run `sitecontroller cloud-schemas`"


async def test_twin_patch_rejected_as_a_whole_then_good_one_applied(start_node: Any) -> None:
    node = await start_node()
    emulator = node.hub.emulator
    before = node.params.current()
    bad = {
        "site_parameters": {
            "limits": {"soc_min_pct": 70.0, "max_charge_power_w": "5000"},
            "loops": {"no_such_key": 1},
        }
    }
    version = await asyncio.to_thread(emulator.set_desired, bad)

    def ack() -> dict[str, Any] | None:
        found = emulator.reported().get("site_parameters_ack")
        return found if found and found.get("av") == version else None

    assert await async_wait_until(lambda: ack() is not None, 5)
    rejected = ack()
    assert rejected is not None and rejected["ac"] == 400
    fields = {e["field"] for e in rejected["errors"].values()}
    assert {"limits.soc_min_pct", "limits.max_charge_power_w", "loops.no_such_key"} <= fields
    assert node.params.current() == before, "previous parameters stay in force"

    good = {"site_parameters": {"limits": {"soc_min_pct": 10.0, "max_charge_power_w": 5000.0}}}
    version = await asyncio.to_thread(emulator.set_desired, good)
    assert await async_wait_until(lambda: ack() is not None, 5)
    applied = ack()
    assert applied is not None and applied["ac"] == 200
    assert node.params.model.limits.max_charge_power_w == 5000.0
    assert node.params.model.parameters_version == version
    assert await async_wait_until(lambda: emulator.reported().get("applied_parameter_version") == version, 5)
    reported = emulator.reported()
    assert (reported["firmware_version"], reported["state"], reported["role"]) == ("1.0.0", "Run", "leader")


async def test_desired_state_at_connect_is_applied(start_node: Any, hub: Any, tmp_path: Path) -> None:
    version = hub.emulator.set_desired({"site_parameters": {"limits": {"soc_max_pct": 90.0}}})
    node = await start_node()
    assert await async_wait_until(lambda: node.params.model.limits.soc_max_pct == 90.0, 5)
    assert await async_wait_until(
        lambda: node.hub.emulator.reported().get("site_parameters_ack", {}).get("av") == version, 5
    )


async def test_mqtt_over_websockets(start_node: Any) -> None:
    node = await start_node(websockets=True)
    assert await async_wait_until(lambda: len(_of_type(node, telemetry.SPOT)) >= 1, 5)
    status, _ = await asyncio.to_thread(node.hub.emulator.invoke_method, "ResetErrors", None, 10.0)
    assert status == 200
