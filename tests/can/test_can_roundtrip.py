"""Every signal of every frame of every DBC, encoded by cantools, sent on a python-can virtual bus,
harvested by the CanBusController (filters from the DBC, rack id in the frame id) decodes back
to the value that was sent."""

from __future__ import annotations

import asyncio
import uuid

import can
import pytest
from cantools.database.can import Message

from sitecontroller.bms.binding import load_binding
from sitecontroller.can.controller import CanBusController
from sitecontroller.config.bms import CanConfig
from sitecontroller.core.clock import SimClock

TYPES = ["pylontech", "cbms", "nbms_2_3", "nbms_2_5"]


def sample_values(message: Message, mux: int | None, seed: int) -> dict[str, float]:
    """A distinct in-range value per signal, negative where the signal can be, on the scale grid."""
    out: dict[str, float] = {}
    for i, s in enumerate(message.signals):
        if s.multiplexer_ids and mux not in s.multiplexer_ids:
            continue
        if s.is_multiplexer:
            out[s.name] = mux or 0
            continue
        lo, hi = s.minimum, s.maximum
        frac = ((seed + 7 * i) % 10) / 10.0 + 0.05
        # A negative value for every other signed signal.
        value = lo * frac if s.is_signed and lo < 0 and i % 2 else lo + (hi - lo) * frac
        raw = round((value - s.offset) / s.scale)
        out[s.name] = raw * s.scale + s.offset
    return out


def mux_values(message: Message) -> list[int | None]:
    muxes = [s for s in message.signals if s.is_multiplexer]
    if not muxes:
        return [None]
    return sorted({m for s in message.signals for m in (s.multiplexer_ids or [])})


async def wait_frames(ctl: CanBusController, n: int) -> None:
    for _ in range(600):
        if ctl.health().counters.frames >= n:
            return
        await asyncio.sleep(0.005)
    raise AssertionError("frames did not arrive")


@pytest.mark.parametrize("bms_type", TYPES)
async def test_every_signal_roundtrips_over_the_virtual_bus(bms_type: str) -> None:
    binding = load_binding(bms_type)
    layout = binding.rack_layout
    rack = 5 if layout else 0
    channel = f"rt-{uuid.uuid4().hex}"
    ctl = CanBusController(
        CanConfig(interface="virtual", channel=channel),
        binding.db.messages,
        SimClock(),
        rack_mask=layout.mask if layout else 0,
        rack_shift=layout.shift if layout else 0,
    )
    task = asyncio.create_task(ctl.run())
    tx = can.Bus(interface="virtual", channel=channel)
    try:
        for _ in range(200):
            if ctl.health().bus_ok:
                break
            await asyncio.sleep(0.005)
        sent: list[tuple[str, int | None, dict[str, float]]] = []
        for seed, message in enumerate(binding.db.messages):
            for mux in mux_values(message):
                values = sample_values(message, mux, seed)
                tx.send(
                    can.Message(
                        arbitration_id=binding.frame_id(message.name, rack),
                        is_extended_id=message.is_extended_frame,
                        data=message.encode(values),
                    )
                )
                sent.append((message.name, mux, values))
        await wait_frames(ctl, len(sent))
        counters = ctl.health().counters
        assert (counters.decoded, counters.decode_failures, counters.unknown_ids) == (len(sent), 0, 0)
        for name, mux, values in sent:
            frame = ctl.latest(name, rack, mux)
            assert frame is not None, (name, mux)
            assert frame.rack_id == rack
            for signal, value in values.items():
                scale = binding.message(name).get_signal_by_name(signal).scale
                assert frame.signals[signal] == pytest.approx(value, abs=scale / 2), (name, signal)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        tx.shutdown()
