"""Helpers shared by the cloud tests (bounded polling on real sockets and processes)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sitecontroller.cloud.broker import Broker
from sitecontroller.cloud.hub_emulator import HubEmulator
from sitecontroller.config.cloud import CloudConfig
from sitecontroller.runtime.commands import CommandResult

REPO = Path(__file__).resolve().parents[2]


def wait_until(predicate: Callable[[], bool], timeout_s: float, poll_s: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(poll_s)
    return predicate()


async def async_wait_until(predicate: Callable[[], bool], timeout_s: float, poll_s: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(poll_s)
    return predicate()


@dataclass
class Hub:
    broker: Broker
    emulator: HubEmulator
    device_id: str
    connection_string: str

    @property
    def ca_file(self) -> str:
        return str(self.broker.ca_file)


@dataclass
class FakeCommands:
    """A CommandSink that records calls; `answers` overrides the status per call name."""

    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    answers: dict[str, CommandResult] = field(default_factory=dict)

    def _answer(self, name: str, *args: Any) -> CommandResult:
        self.calls.append((name, args))
        key = f"{name}:{args[0]}" if args else name
        return self.answers.get(key) or self.answers.get(name) or CommandResult(200, "ok")

    def request_state(self, state: str, origin: str) -> CommandResult:
        return self._answer("request_state", state, origin)

    def request_mode(
        self, mode: str, origin: str, parameters: dict[str, object] | None = None
    ) -> CommandResult:
        return self._answer("request_mode", mode, origin, parameters)

    def reset_errors(self, origin: str) -> CommandResult:
        return self._answer("reset_errors", origin)

    def set_external_setpoint(
        self, power_w: float, reactive_power_var: float, lease_s: float, origin: str
    ) -> CommandResult:
        return self._answer("set_external_setpoint", power_w, reactive_power_var, lease_s, origin)


STATUS = {
    "node_id": "n1",
    "state": "Run",
    "mode": "SelfConsumption",
    "role": "leader",
    "term": 3,
    "leader_id": "n1",
    "soc_pct": 55.0,
    "battery_power_w": -1500.0,
    "setpoint_w": -1500.0,
    "grid_power_w": 200.0,
    "frequency_hz": 50.0,
    "charge_limit_w": 10000.0,
    "discharge_limit_w": 10000.0,
    "limiting_source": "none",
    "errors": [],
    "uptime_s": 12.0,
    "version": "1.0.0",
}


def cloud_config(hub: Hub, tmp_path: Path, **overrides: Any) -> CloudConfig:
    values: dict[str, Any] = {
        "enabled": True,
        "connection_string": hub.connection_string,
        "server_ca_file": hub.ca_file,
        "telemetry_interval_s": 1.0,
        "reported_debounce_s": 0.05,
        "backoff_initial_s": 0.2,
        "backoff_max_s": 1.0,
        "releases_dir": str(tmp_path / "opt"),
        "log_dir": str(tmp_path / "logs"),
        "max_sends_per_s": 100.0,
        "sdk_call_timeout_s": 10.0,
    }
    return CloudConfig(**(values | overrides))
