"""`can dump` prints decoded frames, unknown ids raw, and stops after --count."""

from __future__ import annotations

import argparse
import asyncio
import io
import struct
import uuid

import can

from sitecontroller.bms.cli import dump, register


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="sitecontroller")
    register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


async def test_can_dump_prints_decoded_frames() -> None:
    channel = f"dump-{uuid.uuid4().hex}"
    args = parse(
        ["can", "dump", "--interface", "virtual", "--channel", channel, "--dbc", "cbms", "--count", "3"]
    )
    assert args.handler.__name__ == "run_dump"
    out = io.StringIO()
    task = asyncio.create_task(dump(args, out))
    tx = can.Bus(interface="virtual", channel=channel)
    try:
        for _ in range(400):  # the dump opens its bus in the background; send until it listens
            if task.done():
                break
            tx.send(
                can.Message(
                    arbitration_id=0x202,
                    data=struct.pack("<HhBBBB", 8124, -250, 121, 190, 3, 0),
                    is_extended_id=False,
                )
            )
            tx.send(can.Message(arbitration_id=0x7AB, data=b"\x01\x02", is_extended_id=False))
            await asyncio.sleep(0.01)
        assert await asyncio.wait_for(task, 5.0) == 0
    finally:
        tx.shutdown()
    text = out.getvalue()
    assert "RackStatus rack 2 RackVoltage=812.4V RackCurrent=-25A" in text
    assert "unknown 01 02" in text
    assert text.strip().splitlines()[-1].startswith("# 3 frames")


def test_can_dump_accepts_a_dbc_path() -> None:
    args = parse(["can", "dump", "--dbc", "dbc/pylontech.dbc", "--duration", "1"])
    assert args.dbc.endswith(".dbc") and args.duration == 1.0
