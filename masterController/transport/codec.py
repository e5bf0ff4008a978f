"""Versioned, schema-checked wire format (JSON, never pickle).

Envelope: `{"v": 1, "type": "election" | "setpoint" | "state", "body": {...}}`. Every body must have
exactly the expected keys with the expected JSON types; anything else raises `CodecError`, so a
malformed or foreign message never reaches the election core or the node controller.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from typing import Any

from masterController.master.setpoint import RunState, SetpointBatch
from masterController.master.site_params import SiteParams
from masterController.membership.node_state import NodeState
from masterController.raft.messages import Message, MsgKind

WIRE_VERSION = 2
MAX_MESSAGE_BYTES = 64 * 1024

Payload = Message | SetpointBatch | NodeState | SiteParams


class CodecError(ValueError):
    """A message that does not match the schema; the reason says which field."""


def encode(payload: Payload) -> bytes:
    # StrEnum members serialise as their values; setpoints_w is copied into a plain dict by asdict().
    kind = _TYPE_NAMES[type(payload)]
    return json.dumps({"v": WIRE_VERSION, "type": kind, "body": asdict(payload)}, allow_nan=False).encode()


def decode(raw: bytes) -> Payload:
    if len(raw) > MAX_MESSAGE_BYTES:
        raise CodecError(f"message of {len(raw)} bytes exceeds {MAX_MESSAGE_BYTES}")
    try:
        envelope = json.loads(raw, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CodecError(f"not JSON: {exc}") from exc
    _exact_keys(envelope, {"v", "type", "body"}, "envelope")
    if envelope["v"] != WIRE_VERSION:
        raise CodecError(f"wire version {envelope['v']!r}, expected {WIRE_VERSION}")
    body = envelope["body"]
    decoder = _DECODERS.get(envelope["type"])
    if decoder is None:
        raise CodecError(f"unknown message type {envelope['type']!r}")
    return decoder(body)


def _decode_election(body: Any) -> Message:
    _exact_keys(body, {"kind", "src", "dst", "term", "granted", "round", "transfer"}, "election")
    try:
        kind = MsgKind(body["kind"])
    except ValueError as exc:
        raise CodecError(f"election.kind: unknown {body['kind']!r}") from exc
    return Message(
        kind=kind,
        src=_str(body, "src"),
        dst=_str(body, "dst"),
        term=_count(body, "term"),
        granted=_bool(body, "granted"),
        round=_count(body, "round"),
        transfer=_bool(body, "transfer"),
    )


def _decode_setpoint(body: Any) -> SetpointBatch:
    keys = {"term", "leader_id", "seq", "ttl_ms", "config_version", "run_state", "setpoints_w", "site_mode"}
    _exact_keys(body, keys, "setpoint")
    try:
        run_state = RunState(body["run_state"])
    except ValueError as exc:
        raise CodecError(f"setpoint.run_state: unknown {body['run_state']!r}") from exc
    raw = body["setpoints_w"]
    if not isinstance(raw, dict):
        raise CodecError("setpoint.setpoints_w must be an object")
    setpoints_w = {_node_key(k): _number(raw, k) for k in raw}
    return SetpointBatch(
        term=_count(body, "term"),
        leader_id=_str(body, "leader_id"),
        seq=_count(body, "seq"),
        ttl_ms=_count(body, "ttl_ms"),
        config_version=_count(body, "config_version"),
        run_state=run_state,
        setpoints_w=setpoints_w,
        site_mode=_str(body, "site_mode", min_length=0),
    )


def _decode_state(body: Any) -> NodeState:
    numbers = ("soc_pct", "power_w", "max_charge_power_w", "max_discharge_power_w", "capacity_wh")
    texts = ("node_id", "mode", "health", "version")
    _exact_keys(body, {*numbers, *texts, "grid_power_w"}, "state")
    values: dict[str, Any] = {k: _number(body, k) for k in numbers}
    values.update({k: _str(body, k) for k in texts})
    values["grid_power_w"] = None if body["grid_power_w"] is None else _number(body, "grid_power_w")
    return NodeState(**values)


def _decode_params(body: Any) -> SiteParams:
    _exact_keys(body, {"term", "leader_id", "version", "control", "shares"}, "params")
    if not isinstance(body["control"], dict):
        raise CodecError("params.control must be an object")
    raw = body["shares"]
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise CodecError("params.shares must map node ids to objects")
    shares = {
        _node_key(node): {str(p): _pair(v, p) for p, v in products.items()} for node, products in raw.items()
    }
    # The control content is checked against the site schema by the receiving node before use.
    return SiteParams(
        _count(body, "term"), _str(body, "leader_id"), _count(body, "version"), body["control"], shares
    )


def _pair(value: Any, key: str) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise CodecError(f"share {key} must be [capacity_w, energy_wh]")
    return _number({"c": value[0]}, "c"), _number({"e": value[1]}, "e")


_TYPE_NAMES: dict[type, str] = {
    Message: "election",
    SetpointBatch: "setpoint",
    NodeState: "state",
    SiteParams: "params",
}
_DECODERS = {
    "election": _decode_election,
    "setpoint": _decode_setpoint,
    "state": _decode_state,
    "params": _decode_params,
}


def _refuse_constant(name: str) -> float:
    raise CodecError(f"{name} is not a valid number")


def _exact_keys(obj: Any, keys: set[str], where: str) -> None:
    if not isinstance(obj, dict):
        raise CodecError(f"{where} must be an object")
    if set(obj) != keys:
        missing, extra = sorted(keys - set(obj)), sorted(set(obj) - keys)
        raise CodecError(f"{where}: missing {missing}, unexpected {extra}")


def _str(body: dict, key: str, *, min_length: int = 1) -> str:
    value = body[key]
    if not isinstance(value, str) or not min_length <= len(value) <= 64:
        raise CodecError(f"{key} must be a string of {min_length}..64 characters")
    return value


def _node_key(value: str) -> str:
    if not 0 < len(value) <= 64:
        raise CodecError("setpoints_w keys must be node ids of 1..64 characters")
    return value


def _bool(body: dict, key: str) -> bool:
    value = body[key]
    if not isinstance(value, bool):
        raise CodecError(f"{key} must be a boolean")
    return value


def _count(body: dict, key: str) -> int:
    value = body[key]
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise CodecError(f"{key} must be a non-negative integer")
    return value


def _number(body: dict, key: str) -> float:
    value = body[key]
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise CodecError(f"{key} must be a finite number")
    return float(value)
