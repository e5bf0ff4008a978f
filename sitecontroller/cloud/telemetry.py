"""Telemetry records: what goes to the cloud, one JSON object per record.

Every record has the same envelope (documented in docs/cloud/telemetry-record.schema.json):
`{"type", "schema_version", "node_id", "ts_wall_s", "data"}`; the outbox adds `seq` when it is
packed into a message. Bump SCHEMA_VERSION on any incompatible change of a record's `data`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict

from sitecontroller.core.events import (
    ClimateEvent,
    CommandAudit,
    ErrorChanged,
    Event,
    GridFormingChanged,
    MeterEvent,
    ModeChanged,
    SetupDevice,
    StateChanged,
)

SCHEMA_VERSION = 1

SPOT = "SC_Spot_10s"
STATE_EVENT = "SC_state_event"
CLUSTER_STATE_EVENT = "SC_cluster_state_event"
ERROR_EVENT = "SC_error_event"
DSO_SETPOINT_EVENT = "SC_dso_setpoint_event"
AEM_ALARM_EVENT = "SC_aem_alarm_event"
COMMAND_EVENT = "SC_command_event"
DEVICE_EVENT = "SC_device_event"

# Event types that go out as their own record (and trigger an immediate send).
_EVENT_KINDS: dict[type[Event], str] = {
    StateChanged: STATE_EVENT,
    ModeChanged: STATE_EVENT,
    GridFormingChanged: STATE_EVENT,
    ErrorChanged: ERROR_EVENT,
    MeterEvent: AEM_ALARM_EVENT,
    ClimateEvent: DEVICE_EVENT,
    SetupDevice: DEVICE_EVENT,
    CommandAudit: COMMAND_EVENT,
}

# Commands whose audit record is also a DSO setpoint change.
_SETPOINT_COMMANDS = frozenset({"set_external_setpoint"})


def encode(record: Mapping[str, object]) -> str:
    """Compact ASCII JSON (ASCII so that the outbox's character count is the byte count)."""
    return json.dumps(record, separators=(",", ":"), sort_keys=True, default=str)


def make_record(kind: str, node_id: str, ts_wall_s: float, data: Mapping[str, object]) -> dict[str, object]:
    return {
        "type": kind,
        "schema_version": SCHEMA_VERSION,
        "node_id": node_id,
        "ts_wall_s": round(ts_wall_s, 3),
        "data": dict(data),
    }


def spot_record(
    node_id: str,
    ts_wall_s: float,
    status: Mapping[str, object],
    snapshot: Mapping[str, object],
    link: Mapping[str, object],
) -> dict[str, object]:
    """SC_Spot_10s: the status document (state, mode, limits, setpoints, ...), the device snapshot
    (BMS, inverter, meters, sensors, climate, buttons) and the cloud link's own health."""
    return make_record(
        SPOT, node_id, ts_wall_s, {"status": dict(status), "devices": dict(snapshot), "link": dict(link)}
    )


def event_records(node_id: str, event: Event) -> list[dict[str, object]]:
    """The records an internal event produces (none for events the cloud does not need)."""
    kind = next((k for t, k in _EVENT_KINDS.items() if isinstance(event, t)), None)
    if kind is None:
        return []
    data = asdict(event)
    data.pop("at_wall_s")
    data["event"] = type(event).__name__
    records = [make_record(kind, node_id, event.at_wall_s, data)]
    if isinstance(event, CommandAudit) and event.command in _SETPOINT_COMMANDS and event.accepted:
        records.append(make_record(DSO_SETPOINT_EVENT, node_id, event.at_wall_s, dict(event.arguments)))
    return records
