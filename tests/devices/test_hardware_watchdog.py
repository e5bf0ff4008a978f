"""Hardware watchdog against a FIFO standing in for /dev/watchdog; health gate on SimClock."""

from __future__ import annotations

import os
from pathlib import Path

from sitecontroller.config.devices import WatchdogConfig
from sitecontroller.core.clock import SimClock
from sitecontroller.devices.watchdog import WDIOC_SETTIMEOUT, HardwareWatchdog
from sitecontroller.runtime.health import HealthGate


def test_health_gate_fails_when_a_loop_stops_beating() -> None:
    clock = SimClock()
    gate = HealthGate(clock)
    gate.expect("fast_loop", 1.0)
    gate.expect("inverter", 5.0)
    clock.advance(0.9)
    assert gate.healthy()
    gate.beat("inverter")
    clock.advance(0.2)
    assert gate.failing() == ["fast_loop"]
    gate.beat("fast_loop")
    assert gate.healthy()


def test_pet_writes_and_close_disarms(tmp_path: Path) -> None:
    device = tmp_path / "watchdog"
    os.mkfifo(device)
    reader = os.open(device, os.O_RDONLY | os.O_NONBLOCK)
    calls: list[tuple[int, bytes]] = []
    watchdog = HardwareWatchdog(
        WatchdogConfig(enabled=True, device=str(device), timeout_s=15),
        ioctl=lambda fd, request, arg: calls.append((request, arg)) or arg,  # type: ignore[func-returns-value]
    )
    watchdog.pet()
    watchdog.pet()
    watchdog.close()
    assert os.read(reader, 16) == b"\0\0V"  # two keep-alives, then the magic close
    os.close(reader)
    assert calls == [(WDIOC_SETTIMEOUT, (15).to_bytes(4, "little"))]
