"""The documented telemetry schemas, as pydantic models (the JSON Schema files in docs/cloud/ are
generated from these by `sitecontroller cloud-schemas`; a test keeps them in step).

Consumers: unpack the gzip body, check `schema`/`schema_version`, de-duplicate on (node_id, seq).
Fields may be added within a schema version (consumers ignore unknown fields); renaming or
removing one bumps telemetry.SCHEMA_VERSION.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sitecontroller.cloud import telemetry


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SpotStatus(_Open):
    """The node's status document (GET /api/status), as sent every 10 s."""

    node_id: str
    state: str
    mode: str
    role: str | None = None
    term: int | None = None
    leader_id: str | None = None
    soc_pct: float | None = None
    battery_power_w: float | None = Field(default=None, description="positive = discharge")
    setpoint_w: float | None = Field(default=None, description="positive = discharge")
    grid_power_w: float | None = Field(default=None, description="positive = import")
    frequency_hz: float | None = None
    charge_limit_w: float | None = None
    discharge_limit_w: float | None = None
    limiting_source: str | None = None
    errors: list[Any] | dict[str, Any] | None = None
    uptime_s: float | None = None
    version: str | None = None


class LinkStatus(_Closed):
    state: str
    last_error: str
    outbox_records: int
    outbox_bytes: int
    outbox_dropped: int = Field(description="records dropped (oldest first) because the outbox was full")


class SpotData(_Closed):
    status: SpotStatus
    devices: dict[str, Any] = Field(description="BMS, inverter, meters, sensors, climate, buttons snapshot")
    link: LinkStatus


class StateEventData(_Closed):
    event: Literal["StateChanged", "ModeChanged", "GridFormingChanged"]
    old: str | None = None
    new: str | None = None
    active: bool | None = None
    cause: str


class ErrorEventData(_Closed):
    event: Literal["ErrorChanged"]
    error_id: str
    severity: str
    source: str
    text: str
    raised: bool = Field(description="true = raised, false = cleared")


class Record(_Closed):
    seq: int = Field(ge=1, description="per-node sequence number, strictly increasing; de-duplicate on it")
    type: str = Field(
        description=f"{telemetry.SPOT}, {telemetry.STATE_EVENT}, {telemetry.ERROR_EVENT}, "
        f"{telemetry.CLUSTER_STATE_EVENT}, {telemetry.DSO_SETPOINT_EVENT}, "
        f"{telemetry.AEM_ALARM_EVENT}, {telemetry.COMMAND_EVENT}, {telemetry.DEVICE_EVENT}"
    )
    schema_version: Literal[1]
    node_id: str
    ts_wall_s: float = Field(description="Unix time of the reading or event")
    data: dict[str, Any]


class Batch(_Closed):
    """One IoT Hub message (body gzip-compressed; content-encoding gzip, content-type application/json)."""

    schema_: Literal["sitecontroller.telemetry.batch"] = Field(alias="schema")
    schema_version: Literal[1]
    node_id: str
    first_seq: int
    last_seq: int
    count: int = Field(ge=1)
    records: list[Record]


DATA_MODELS: dict[str, type[BaseModel]] = {
    telemetry.SPOT: SpotData,
    telemetry.ERROR_EVENT: ErrorEventData,
}


def validate_batch(doc: dict[str, Any]) -> Batch:
    """Validate a batch and each record's data (where the type has a data model)."""
    batch = Batch.model_validate(doc)
    for record in batch.records:
        model = DATA_MODELS.get(record.type)
        if record.type == telemetry.STATE_EVENT:
            model = StateEventData
        if model is not None:
            model.model_validate(record.data)
    return batch


def schema_documents() -> dict[str, dict[str, Any]]:
    return {
        "telemetry-batch.schema.json": Batch.model_json_schema(by_alias=True),
        "sc-spot-10s.schema.json": SpotData.model_json_schema(),
        "sc-state-event.schema.json": StateEventData.model_json_schema(),
        "sc-error-event.schema.json": ErrorEventData.model_json_schema(),
    }


def write_schemas(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, doc in schema_documents().items():
        path = directory / name
        path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
        paths.append(path)
    return paths
