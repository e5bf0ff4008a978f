"""BMS sleep: the pure controller on a SimClock, and the Modbus relay / Strato IO output against a
pymodbus server on loopback."""

from __future__ import annotations

import pytest
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from sitecontroller.bms import errors as e
from sitecontroller.bms.sleep import BmsSleepController, SleepCommand, SleepState
from sitecontroller.bms.sleep_output import ModbusSleepOutput, strato_coil
from sitecontroller.bms.sleep_service import BmsSleepService
from sitecontroller.config.bms import SleepConfig
from sitecontroller.core.clock import SimClock
from sitecontroller.core.datastore import DataStore
from sitecontroller.core.readings import BmsReading
from sitecontroller.drivers.base import DeviceCommandError
from sitecontroller.runtime.sysinfo import SysInfo
from sitecontroller.safety.errors import ErrorHandler


def test_auto_sleep_after_idle_then_wake_on_demand_waits_for_data() -> None:
    clock, info = SimClock(), SysInfo()
    c = BmsSleepController(SleepConfig(idle_time_s=600.0, wake_timeout_s=30.0), clock, info)
    clock.advance(599.0)
    assert c.tick(True) is None and c.ready
    clock.advance(1.0)
    assert c.tick(True) == SleepCommand.SLEEP and c.state == SleepState.SLEEPING and not c.ready
    clock.advance(3600.0)
    assert c.tick(False) is None
    c.request_wake("charge_needed")
    assert c.tick(False) == SleepCommand.WAKE and c.state == SleepState.WAKING
    assert info.bms_sleep_time_s == pytest.approx(3600.0)
    clock.advance(5.0)
    assert c.tick(False) is None and not c.ready  # awake but no valid BMS data yet: no Run
    clock.advance(1.0)
    assert c.tick(True) is None and c.ready


def test_activity_defers_sleep_and_timer_wakes() -> None:
    clock, info = SimClock(), SysInfo()
    c = BmsSleepController(SleepConfig(idle_time_s=100.0), clock, info)
    clock.advance(90.0)
    c.activity()
    clock.advance(90.0)
    assert c.tick(True) is None
    c.request_sleep(duration_s=500.0)  # cloud command with a sleep timer
    assert c.tick(True) == SleepCommand.SLEEP
    clock.advance(499.0)
    assert c.tick(False) is None
    clock.advance(1.0)
    assert c.tick(False) == SleepCommand.WAKE
    assert info.bms_sleep_time_s == pytest.approx(500.0)


def test_failed_wake_is_retried() -> None:
    clock = SimClock()
    c = BmsSleepController(SleepConfig(idle_time_s=0.0, wake_timeout_s=60.0), clock, SysInfo())
    c.request_sleep()
    assert c.tick(True) == SleepCommand.SLEEP
    c.request_wake("state_change")
    assert c.tick(False) == SleepCommand.WAKE
    clock.advance(60.0)
    assert c.tick(False) == SleepCommand.WAKE and c.failed_wakes == 1


def test_strato_map_names_the_sleep_coil() -> None:
    assert strato_coil(SleepConfig(output="strato_io")) == 0
    assert strato_coil(SleepConfig(output="strato_io", strato_output="bms_wake_aux")) == 1
    with pytest.raises(DeviceCommandError):
        strato_coil(SleepConfig(output="strato_io", strato_output="missing"))


@pytest.fixture
async def io_module(unused_tcp_port: int):
    device = SimDevice(
        id=1,
        simdata=(
            [SimData(0, count=8, values=False, datatype=DataType.BITS)],
            [SimData(0, count=8, values=False, datatype=DataType.BITS)],
            [SimData(0, count=300, values=0, datatype=DataType.REGISTERS)],
            [SimData(0, count=8, values=0, datatype=DataType.REGISTERS)],
        ),
    )
    server = ModbusTcpServer([device], address=("127.0.0.1", unused_tcp_port))
    await server.serve_forever(background=True)
    yield server, unused_tcp_port
    await server.shutdown()


@pytest.mark.parametrize(("output", "coil"), [("modbus_relay", 5), ("strato_io", 0)])
async def test_modbus_output_writes_and_reads_back(io_module, output: str, coil: int) -> None:
    server, port = io_module
    out = ModbusSleepOutput(SleepConfig(output=output, port=port, coil=5))  # type: ignore[arg-type]
    try:
        await out.sleep()
        assert (await server.async_getValues(1, 1, coil, 1))[0] is True
        await out.wake()
        assert (await server.async_getValues(1, 1, coil, 1))[0] is False
    finally:
        out.close()


async def test_service_drives_the_output_and_raises_on_failure() -> None:
    clock, info = SimClock(), SysInfo()
    store, errors = DataStore(clock), ErrorHandler(clock)

    class Recorder:
        def __init__(self) -> None:
            self.calls: list[str] = []
            self.fail = False

        async def sleep(self) -> None:
            if self.fail:
                raise DeviceCommandError("no answer")
            self.calls.append("sleep")

        async def wake(self) -> None:
            self.calls.append("wake")

    rec = Recorder()
    svc = BmsSleepService(SleepConfig(idle_time_s=10.0), clock, store, errors, info, rec)
    store.put("bms", BmsReading(soc_pct=50.0, voltage_v=52.0, current_a=0.0))
    rec.fail = True
    clock.advance(10.0)
    await svc.step()
    assert errors.is_active(e.BMS_SLEEP_OUTPUT_FAILURE) and rec.calls == []
    rec.fail = False
    await svc.step()  # retried
    assert rec.calls == ["sleep"] and not errors.is_active(e.BMS_SLEEP_OUTPUT_FAILURE)
    svc.controller.request_wake("cloud")
    await svc.step()
    assert rec.calls == ["sleep", "wake"]
