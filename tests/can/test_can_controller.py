"""CanBusController: floods of unknown and corrupt frames, per-frame timeouts on the simulated
clock, bus-off and interface failures with re-open and backoff."""

from __future__ import annotations

import asyncio
import logging
import struct
import uuid

import can
import pytest

from sitecontroller.bms.binding import load_binding
from sitecontroller.can.bus import open_bus
from sitecontroller.can.controller import CanBusController
from sitecontroller.config.bms import CanConfig
from sitecontroller.core.clock import SimClock

CBMS = load_binding("cbms")


def controller(clock: SimClock, channel: str = "unused", **kwargs) -> CanBusController:
    layout = CBMS.rack_layout
    assert layout is not None
    config = CanConfig(interface="virtual", channel=channel, **kwargs.pop("config", {}))
    return CanBusController(
        config, CBMS.db.messages, clock, rack_mask=layout.mask, rack_shift=layout.shift, **kwargs
    )


def status(rack: int, voltage_raw: int) -> can.Message:
    data = struct.pack("<HhBBBB", voltage_raw, -100, 120, 190, 3, 0)
    return can.Message(arbitration_id=0x200 | rack, data=data, is_extended_id=False)


def garbage(i: int) -> list[can.Message]:
    return [
        can.Message(arbitration_id=0x7FF, data=bytes(8), is_extended_id=False),  # unknown id
        can.Message(arbitration_id=0x1ABCDEF, data=bytes(8), is_extended_id=True),  # unknown extended
        can.Message(arbitration_id=0x201, data=bytes([1, 2]), is_extended_id=False),  # short DLC
        can.Message(
            arbitration_id=0x252, data=bytes([99, 0, 1, 2, 3, 4, 5, 6]), is_extended_id=False
        ),  # unknown mux group
        can.Message(
            arbitration_id=0x203, data=b"\xff" * 8, is_extended_id=False
        ),  # voltage 6553.5 V, outside the DBC range
        can.Message(
            arbitration_id=0x004, is_error_frame=True, data=bytes(8), is_extended_id=False
        ),  # error frame, not bus-off
    ]


async def until(condition, timeout_s: float = 5.0) -> None:
    for _ in range(int(timeout_s / 0.005)):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("not reached")


@pytest.mark.parametrize("use_filters", [True, False])
async def test_flood_of_corrupt_and_unknown_frames_does_not_disturb_decoding(
    use_filters: bool, caplog
) -> None:
    caplog.set_level(logging.WARNING, logger="sitecontroller.can.controller")
    channel = f"flood-{uuid.uuid4().hex}"
    clock = SimClock()
    ctl = controller(clock, channel, config={"use_filters": use_filters})
    task = asyncio.create_task(ctl.run())
    tx = can.Bus(interface="virtual", channel=channel)
    try:
        await until(lambda: ctl.health().bus_ok)
        rounds = 300
        for i in range(rounds):
            tx.send(status(1, 8000 + i))
            for bad in garbage(i):
                tx.send(bad)
            tx.send(status(2, 9000 + i))
        # Software filters (virtual bus) drop the unknown ids and the error frame before us.
        per_round = 8 if not use_filters else 5
        await until(lambda: ctl.health().counters.frames >= rounds * per_round)
        c = ctl.health().counters
        assert c.decoded == 2 * rounds
        assert c.decode_failures == 3 * rounds
        assert c.error_frames == (rounds if not use_filters else 0)
        assert c.unknown_ids == (2 * rounds if not use_filters else 0)
        assert c.bus_failures == 0 and ctl.health().bus_ok
        last1, last2 = ctl.latest("RackStatus", 1), ctl.latest("RackStatus", 2)
        assert last1 is not None and last1.signals["RackVoltage"] == pytest.approx(829.9)
        assert last2 is not None and last2.signals["RackVoltage"] == pytest.approx(929.9)
        assert ctl.latest("RackStatus", 3) is None  # the out-of-range frame never reached the cache
        # Logged once per id, not once per frame.
        assert len(caplog.records) == (5 if not use_filters else 3)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        tx.shutdown()


def test_per_frame_timeouts_on_the_simulated_clock() -> None:
    clock = SimClock()
    ctl = controller(clock)
    assert ctl.timeout_s("RackStatus") == pytest.approx(1.0)  # 2.5 x 100 ms, floor 1 s
    assert ctl.timeout_s("RackCellVoltages") == pytest.approx(2.5)  # 2.5 x 1 s
    ctl.process([status(1, 8000)])
    clock.advance(0.9)
    assert ctl.fresh("RackStatus", 1) is not None
    clock.advance(0.2)
    assert ctl.fresh("RackStatus", 1) is None
    assert ctl.latest("RackStatus", 1) is not None  # kept, but old
    assert [(n, r) for n, r, _ in ctl.timed_out()] == [("RackStatus", 1)]


def test_per_message_timeout_override() -> None:
    ctl = controller(SimClock(), config={"frame_timeouts_s": {"RackStatus": 0.3}})
    assert ctl.timeout_s("RackStatus") == pytest.approx(0.3)


class FlakyFactory:
    """Fails to open `failures` times, then opens a real virtual bus."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.opened: list[can.BusABC] = []

    def __call__(self, config: CanConfig, filters) -> can.BusABC:
        if self.failures:
            self.failures -= 1
            raise OSError(19, "No such device")
        bus = open_bus(config, filters)
        self.opened.append(bus)
        return bus


async def test_open_failures_back_off_exponentially_then_recover() -> None:
    sleeps: list[float] = []

    async def fake_sleep(duration_s: float) -> None:
        sleeps.append(duration_s)
        await asyncio.sleep(0)

    factory = FlakyFactory(failures=5)
    ctl = controller(
        SimClock(),
        f"open-{uuid.uuid4().hex}",
        bus_factory=factory,
        sleep=fake_sleep,
        config={"reopen_backoff_initial_s": 0.5, "reopen_backoff_max_s": 4.0},
    )
    task = asyncio.create_task(ctl.run())
    try:
        await until(lambda: ctl.health().bus_ok)
        assert sleeps == [0.5, 1.0, 2.0, 4.0, 4.0]
        h = ctl.health()
        assert h.counters.bus_failures == 5 and "No such device" in h.last_failure
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_bus_off_error_frame_closes_and_reopens_the_bus() -> None:
    sleeps: list[float] = []

    async def fake_sleep(duration_s: float) -> None:
        sleeps.append(duration_s)
        await asyncio.sleep(0)

    channel = f"busoff-{uuid.uuid4().hex}"
    factory = FlakyFactory(failures=0)
    ctl = controller(
        SimClock(), channel, bus_factory=factory, sleep=fake_sleep, config={"use_filters": False}
    )
    task = asyncio.create_task(ctl.run())
    tx = can.Bus(interface="virtual", channel=channel)
    try:
        await until(lambda: ctl.health().bus_ok)
        tx.send(can.Message(arbitration_id=0x40, is_error_frame=True, data=bytes(8)))  # CAN_ERR_BUSOFF
        await until(lambda: len(factory.opened) == 2 and ctl.health().bus_ok)
        c = ctl.health().counters
        assert (c.bus_failures, c.reopens, c.error_frames) == (1, 1, 1)
        assert "bus-off" in ctl.health().last_failure
        tx.send(status(1, 8000))  # decoding continues on the re-opened bus
        await until(lambda: ctl.latest("RackStatus", 1) is not None)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        tx.shutdown()


class BrokenBus(can.BusABC):
    """A bus whose reads fail like an interface that went away (socketcan: ENETDOWN)."""

    def __init__(self) -> None:
        super().__init__(channel="broken")

    def _recv_internal(self, timeout):
        raise can.CanOperationError("Network is down")

    def send(self, msg, timeout=None) -> None:
        raise can.CanOperationError("Network is down")


async def test_read_failure_reopens() -> None:
    opened: list[can.BusABC] = []

    def factory(config, filters) -> can.BusABC:
        bus = BrokenBus()
        opened.append(bus)
        return bus

    async def fake_sleep(duration_s: float) -> None:
        await asyncio.sleep(0)

    ctl = controller(SimClock(), bus_factory=factory, sleep=fake_sleep)
    task = asyncio.create_task(ctl.run())
    try:
        await until(lambda: len(opened) >= 3)
        assert ctl.health().counters.bus_failures >= 2
        assert "Network is down" in ctl.health().last_failure
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
