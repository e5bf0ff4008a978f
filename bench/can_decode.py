"""Benchmark: decode a full-load CAN bus (default 4,000 frames/s, mixed ids) for 60 s.

A sender thread puts pre-encoded frames (8 CBMS racks, every message incl. per-cell frames, plus
10 % unknown ids) on a python-can virtual bus at the given rate; the production CanBusController
harvests them in its asyncio task. Reports the controller's CPU share of one core (process CPU
minus the sender thread's own CPU, over wall time) and frames dropped (sent - received).

    .venv/bin/python bench/can_decode.py [--duration 60] [--rate 4000]

Measured on a shared 2-core VM: other engineers' jobs run at the same time, so the figure is an
upper bound.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import threading
import time
import uuid

import can

from sitecontroller.bms.binding import load_binding
from sitecontroller.can.controller import CanBusController
from sitecontroller.config.bms import CanConfig
from sitecontroller.core.clock import SystemClock
from sitecontroller.sim.bms_emulator import BmsEmulator

RACKS = 8
CELLS = 16


class _Rack:
    def __init__(self, rack_id: int) -> None:
        self.rack_id = rack_id
        self.soc_pct = 55.0 + rack_id
        self.current_a = 12.5 * (rack_id - 3)
        self.online = True
        self.voltage_v = 800.0 + rack_id
        self.cell_voltages_v = [3.30 + 0.001 * k for k in range(CELLS)]
        self.cell_temps_c = [24.0 + 0.1 * k for k in range(CELLS)]


class _Battery:
    racks = [_Rack(r) for r in range(RACKS)]


def frame_mix() -> list[can.Message]:
    binding = load_binding("cbms")
    frames = BmsEmulator(binding, lambda: _Battery(), bus=None).all_frames()  # type: ignore[arg-type]
    unknown = [can.Message(arbitration_id=0x700 + i, data=bytes(8), is_extended_id=False) for i in range(8)]
    n_unknown = max(1, len(frames) // 10)
    return frames + list(itertools.islice(itertools.cycle(unknown), n_unknown))


def sender(bus: can.BusABC, frames: list[can.Message], rate: int, duration_s: float, out: dict) -> None:
    chunk = max(1, rate // 100)  # 10 ms chunks
    source = itertools.cycle(frames)
    start = time.monotonic()
    sent = 0
    cpu0 = time.thread_time()
    while (now := time.monotonic()) - start < duration_s:
        due = int((now - start) * rate)
        while sent < due:
            for _ in range(min(chunk, due - sent)):
                bus.send(next(source))
                sent += 1
        time.sleep(0.005)
    out["sent"] = sent
    out["sender_cpu_s"] = time.thread_time() - cpu0


async def main(duration_s: float, rate: int) -> None:
    binding = load_binding("cbms")
    layout = binding.rack_layout
    assert layout is not None
    channel = f"bench-{uuid.uuid4().hex}"
    ctl = CanBusController(
        CanConfig(interface="virtual", channel=channel, use_filters=False),
        binding.db.messages,
        SystemClock(),
        rack_mask=layout.mask,
        rack_shift=layout.shift,
    )
    task = asyncio.create_task(ctl.run())
    while not ctl.health().bus_ok:
        await asyncio.sleep(0.01)
    tx = can.Bus(interface="virtual", channel=channel)
    frames = frame_mix()
    result: dict[str, float] = {}
    wall0, cpu0 = time.monotonic(), time.process_time()
    thread = threading.Thread(target=sender, args=(tx, frames, rate, duration_s, result))
    thread.start()
    while thread.is_alive():
        await asyncio.sleep(0.1)
    # Drain: every frame sent must be received.
    for _ in range(200):
        if ctl.health().counters.frames >= result["sent"]:
            break
        await asyncio.sleep(0.01)
    wall_s = time.monotonic() - wall0
    cpu_s = time.process_time() - cpu0 - result["sender_cpu_s"]
    c = ctl.health().counters
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    tx.shutdown()
    print(f"frames/s target       {rate}")
    print(f"duration              {wall_s:.1f} s")
    print(f"frames sent           {int(result['sent'])}  ({result['sent'] / duration_s:.0f}/s)")
    print(f"frames received       {c.frames}  decoded {c.decoded}  unknown {c.unknown_ids}", end="")
    print(f"  failed {c.decode_failures}")
    print(f"frames dropped        {int(result['sent']) - c.frames}")
    print(f"controller CPU        {100.0 * cpu_s / wall_s:.1f} % of one core")
    print(f"sender CPU (excluded) {100.0 * result['sender_cpu_s'] / wall_s:.1f} % of one core")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--rate", type=int, default=4000)
    args = parser.parse_args()
    asyncio.run(main(args.duration, args.rate))
