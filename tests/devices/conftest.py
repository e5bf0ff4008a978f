"""Shared fixtures: a real pymodbus server serving a map (the emulator) and a driver-side device."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from sitecontroller.config.devices import ModbusLink
from sitecontroller.core.clock import SimClock, SystemClock
from sitecontroller.devices.engine import RegisterDevice
from sitecontroller.devices.regmap import RegisterMap
from sitecontroller.devices.transport import Transport
from sitecontroller.sim.device_emulators.register_server import RegisterEmulator, StaticPlant


@asynccontextmanager
async def served(
    regmap: RegisterMap,
    state: dict[str, float | str],
    clock: SimClock | SystemClock | None = None,
    unit: int = 1,
) -> AsyncIterator[tuple[RegisterEmulator, StaticPlant, RegisterDevice]]:
    plant = StaticPlant(dict(state))
    emulator = RegisterEmulator(regmap, plant, unit=unit)
    port = await emulator.start_tcp()
    transport = Transport(ModbusLink(port=port, unit=unit, request_timeout_s=0.3), clock or SystemClock())
    try:
        yield emulator, plant, RegisterDevice(regmap, transport, unit, clock or SystemClock())
    finally:
        transport.close()
        await emulator.stop()


@pytest.fixture
def serve() -> Callable[..., object]:
    return served
