"""`sitecontroller can dump`: print decoded CAN frames live (what an installer runs first on a site).

    sitecontroller can dump --interface socketcan --channel can0 --dbc cbms
    sitecontroller can dump --dbc dbc/pylontech.dbc --count 20

`--dbc` is a BMS type (its binding gives the rack id layout) or a path to any .dbc file. No
acceptance filters are set, so unknown ids are shown raw: that is how a wrong DBC is spotted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path
from typing import TextIO

import can
import cantools

from sitecontroller.bms.binding import load_binding
from sitecontroller.can.controller import CanBusController
from sitecontroller.can.decoder import DecodedFrame
from sitecontroller.config.bms import CanConfig
from sitecontroller.core.clock import SystemClock


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("can", help="CAN bus tools")
    commands = parser.add_subparsers(dest="can_command", required=True)
    dump = commands.add_parser("dump", help="print decoded CAN frames live")
    dump.add_argument("--interface", default="socketcan", choices=["socketcan", "virtual", "udp_multicast"])
    dump.add_argument("--channel", default="can0")
    dump.add_argument("--bitrate", type=int, default=500_000)
    dump.add_argument(
        "--dbc", default="pylontech", help="BMS type (pylontech, cbms, nbms_2_3, nbms_2_5) or .dbc path"
    )
    dump.add_argument("--count", type=int, default=0, help="stop after this many frames (0 = never)")
    dump.add_argument("--duration", type=float, default=0.0, help="stop after this many seconds (0 = never)")
    dump.set_defaults(handler=run_dump)


def run_dump(args: argparse.Namespace) -> int:
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(dump(args, sys.stdout))
    return 0


def _controller(args: argparse.Namespace) -> CanBusController:
    config = CanConfig(
        interface=args.interface, channel=args.channel, bitrate=args.bitrate, use_filters=False
    )
    if args.dbc.endswith(".dbc"):
        db = cantools.database.load_file(Path(args.dbc), strict=True)
        return CanBusController(config, db.messages, SystemClock())
    binding = load_binding(args.dbc)
    layout = binding.rack_layout
    return CanBusController(
        config,
        binding.db.messages,
        SystemClock(),
        rack_mask=layout.mask if layout else 0,
        rack_shift=layout.shift if layout else 0,
        min_dlc=binding.min_dlc,
    )


def format_frame(ctl: CanBusController, frame: can.Message, decoded: DecodedFrame | None) -> str:
    head = f"{frame.timestamp:14.3f} {frame.arbitration_id:>8X} [{frame.dlc}]"
    if frame.is_error_frame:
        return f"{head} ERROR FRAME {bytes(frame.data).hex(' ')}"
    if decoded is None:
        known = ctl.decoder.is_known(frame)
        return f"{head} {'DECODE FAILED' if known else 'unknown'} {bytes(frame.data).hex(' ')}"
    message = next(m for m in ctl.decoder.messages if m.name == decoded.name)
    units = {s.name: s.unit or "" for s in message.signals}
    where = f" rack {decoded.rack_id}" if decoded.rack_id else ""
    values = " ".join(f"{k}={v:g}{units[k]}" for k, v in decoded.signals.items())
    return f"{head} {decoded.name}{where} {values}"


async def dump(args: argparse.Namespace, out: TextIO) -> int:
    ctl = _controller(args)
    seen = 0
    enough = asyncio.Event()
    loop = asyncio.get_running_loop()

    def show(frame: can.Message, decoded: DecodedFrame | None) -> None:
        nonlocal seen
        if args.count and seen >= args.count:
            return  # the rest of the batch that completed the count
        seen += 1
        print(format_frame(ctl, frame, decoded), file=out, flush=True)
        if args.count and seen >= args.count:
            loop.call_soon_threadsafe(enough.set)

    ctl.add_listener(show)
    task = asyncio.create_task(ctl.run())
    try:
        timeout = args.duration or None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(enough.wait(), timeout)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    health = ctl.health()
    print(f"# {seen} frames, counters {health.counters}", file=out)
    return 0
