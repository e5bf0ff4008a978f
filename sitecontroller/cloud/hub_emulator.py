"""Local IoT Hub emulator (cloud side), the project's dev/test tool.

Connects with paho (1.x API) to the broker's plain listener and speaks IoT Hub's device-facing
MQTT contract (see reference/test-infrastructure.md §2): answers twin GET and reported PATCH,
sends desired patches and direct methods, and records telemetry (optionally to a JSONL file).
Thread-based (paho's network loop); blocking calls take a timeout.
"""

from __future__ import annotations

import gzip
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import paho.mqtt.client as mqtt


@dataclass
class TelemetryMessage:
    device_id: str
    properties: dict[str, str]
    body: bytes
    received_monotonic_s: float

    def json(self) -> Any:
        data = gzip.decompress(self.body) if self.properties.get("$.ce") == "gzip" else self.body
        return json.loads(data)


@dataclass
class _Twin:
    desired: dict[str, Any] = field(default_factory=lambda: {"$version": 1})
    reported: dict[str, Any] = field(default_factory=lambda: {"$version": 1})


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


class HubEmulator:
    def __init__(self, host: str, port: int, record_file: Path | None = None) -> None:
        self._twins: dict[str, _Twin] = {}
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self.telemetry: list[TelemetryMessage] = []
        self._method_results: dict[str, tuple[int, Any]] = {}
        self._rids = itertools.count(1)
        self._record = record_file.open("a") if record_file else None
        self._client = mqtt.Client(client_id=f"hub-emulator-{port}", clean_session=False)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.reconnect_delay_set(min_delay=0.1, max_delay=2)  # tests restart the broker
        self._connected = threading.Event()
        self._client.connect(host, port, keepalive=30)
        self._client.loop_start()
        if not self._connected.wait(10):
            raise RuntimeError(f"hub emulator could not connect to {host}:{port}")

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()
        if self._record:
            self._record.close()

    # --- paho thread ---------------------------------------------------------------------------
    def _on_connect(self, client: mqtt.Client, _userdata: object, _flags: object, rc: int) -> None:
        if rc == 0:
            client.subscribe(
                [
                    ("devices/+/messages/events/#", 1),
                    ("$iothub/twin/GET/#", 1),
                    ("$iothub/twin/PATCH/properties/reported/#", 1),
                    ("$iothub/methods/res/#", 1),
                ]
            )
            self._connected.set()

    def _on_message(self, client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        topic = msg.topic
        if topic.startswith("devices/"):
            parts = topic.split("/")
            props = dict(parse_qsl(parts[4])) if len(parts) > 4 else {}
            message = TelemetryMessage(parts[1], props, msg.payload, time.monotonic())
            with self._changed:
                self.telemetry.append(message)
                self._changed.notify_all()
            if self._record:
                self._record.write(
                    json.dumps({"device": parts[1], "properties": props, "body": _printable(message)}) + "\n"
                )
                self._record.flush()
            return
        # Twin and method topics do not name the device: this emulator serves one twin per broker.
        rid = dict(parse_qsl(topic.split("?", 1)[1])).get("$rid", "") if "?" in topic else ""
        twin = self.twin()
        if topic.startswith("$iothub/twin/GET/"):
            with self._lock:
                doc = json.dumps({"desired": twin.desired, "reported": twin.reported})
            client.publish(f"$iothub/twin/res/200/?$rid={rid}", doc, qos=1)
        elif topic.startswith("$iothub/twin/PATCH/properties/reported/"):
            with self._changed:
                _merge(twin.reported, json.loads(msg.payload or b"{}"))
                twin.reported["$version"] += 1
                version = twin.reported["$version"]
                self._changed.notify_all()
            client.publish(f"$iothub/twin/res/204/?$rid={rid}&$version={version}", b"", qos=1)
        elif topic.startswith("$iothub/methods/res/"):
            status = int(topic.split("/")[3])
            with self._changed:
                self._method_results[rid] = (status, json.loads(msg.payload) if msg.payload else None)
                self._changed.notify_all()

    # --- cloud-side API ---------------------------------------------------------------------
    def twin(self) -> _Twin:
        return self._twins.setdefault("device", _Twin())

    def reported(self) -> dict[str, Any]:
        with self._lock:
            return json.loads(json.dumps(self.twin().reported))

    def set_desired(self, patch: dict[str, Any]) -> int:
        twin = self.twin()
        with self._lock:
            _merge(twin.desired, patch)
            twin.desired["$version"] += 1
            version = twin.desired["$version"]
            body = json.dumps({**patch, "$version": version})
        self._client.publish(f"$iothub/twin/PATCH/properties/desired/?$version={version}", body, qos=1)
        return int(version)

    def invoke_method(self, name: str, payload: Any, timeout_s: float = 30.0) -> tuple[int, Any]:
        """Call a direct method; returns (status, payload). Raises TimeoutError without an answer."""
        rid = str(next(self._rids))
        self._client.publish(f"$iothub/methods/POST/{name}/?$rid={rid}", json.dumps(payload), qos=1)
        with self._changed:
            if not self._changed.wait_for(lambda: rid in self._method_results, timeout_s):
                raise TimeoutError(f"no answer to method {name} within {timeout_s} s")
            return self._method_results.pop(rid)

    def wait_for(self, predicate: Any, timeout_s: float) -> bool:
        """Wait until predicate(self) is true (re-checked on each telemetry/twin change)."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self), timeout_s)

    def records(self) -> list[dict[str, Any]]:
        """Every telemetry record received, unpacked from its batch, in arrival order."""
        with self._lock:
            messages = list(self.telemetry)
        out: list[dict[str, Any]] = []
        for m in messages:
            doc = m.json()
            out.extend(doc.get("records", []) if isinstance(doc, dict) else [])
        return out


def _printable(message: TelemetryMessage) -> Any:
    try:
        return message.json()
    except ValueError:
        return message.body.decode(errors="replace")
