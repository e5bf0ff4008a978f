"""A seeded stream of random and malformed Modbus frames over raw sockets: the server stays up, answers
valid requests afterwards, and nothing changed that the stream did not legitimately write."""

from __future__ import annotations

import asyncio
import os
import random
import struct

from scada_site import ScadaSite, exception_code, s32

FRAMES = int(os.environ.get("SCADA_FUZZ_FRAMES", "1500"))
SEED = int(os.environ.get("SCADA_FUZZ_SEED", "20261122"))
EXTERNAL = 2
SETPOINT = 103  # the 32-bit active power setpoint


def frame(rng: random.Random) -> bytes:
    """One request: valid MBAP with a random PDU, or garbage of every kind."""
    kind = rng.random()
    tid = rng.randrange(65536)
    if kind < 0.1:
        return rng.randbytes(rng.randrange(1, 40))  # noise
    if kind < 0.2:  # wrong protocol id / length field
        return struct.pack(">HHHB", tid, rng.randrange(1, 65536), rng.randrange(65536), 1) + rng.randbytes(5)
    if kind < 0.25:  # a legitimate write: heartbeat or a limit in range
        address = rng.choice([108, 109, 110])
        value = rng.randrange(65536) if address == 110 else rng.randrange(1001)
        return struct.pack(">HHHBBHH", tid, 0, 6, 1, 6, address, value)
    function = rng.choice([1, 2, 3, 4, 5, 6, 8, 15, 16, 17, 22, 23, 43, 0x83, 0, 99])
    body = rng.randbytes(rng.randrange(0, 12))
    if function in (3, 4) and rng.random() < 0.5:
        body = struct.pack(">HH", rng.randrange(65536), rng.randrange(0, 200))
    if function == 16 and rng.random() < 0.5:
        count = rng.randrange(0, 5)
        byte_count = count * 2 if rng.random() < 0.7 else rng.randrange(256)
        body = struct.pack(">HHB", rng.randrange(0, 200), count, byte_count) + rng.randbytes(count * 2)
    pdu = bytes([function]) + body
    unit = rng.choice([0, 1, 1, 1, 2, 255])
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu


async def blast(port: int, frames: list[bytes]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for data in frames:
        if writer.is_closing():
            return
        try:
            writer.write(data)
            await writer.drain()
            await asyncio.wait_for(reader.read(512), timeout=0.01)
        except (TimeoutError, ConnectionError):
            pass
        if reader.at_eof():  # the server dropped us (malformed framing): reconnect and go on
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.close()


async def test_random_frames_do_not_hurt_the_server(site: ScadaSite) -> None:
    await site.write(101, EXTERNAL)
    await site.write(SETPOINT, *s32(2000))
    await site.write(108, 1000, 1000)  # limits at 100 %
    before = await site.read(100, 12)
    rng = random.Random(SEED)
    frames = [frame(rng) for _ in range(FRAMES)]
    writes = [a for a in site.audits if a.command == "modbus_write"]
    await asyncio.wait_for(asyncio.gather(*(blast(site.server.port, frames[i::4]) for i in range(4))), 60.0)

    response = await site.client.read_holding_registers(0, count=50, device_id=1)
    assert not response.isError()
    after = await site.read(100, 12)
    fuzz_writes = [a for a in site.audits if a.command == "modbus_write" and a not in writes]
    accepted = [a for a in fuzz_writes if a.accepted]
    touched = {a.arguments["address"] + i for a in accepted for i in range(len(a.arguments["registers"]))}
    assert accepted, "the stream should contain some legitimate writes"
    for offset, (old, new) in enumerate(zip(before, after, strict=True)):
        if 100 + offset not in touched:
            assert old == new, f"register {100 + offset} changed without an accepted write"
    if not touched & set(range(101, 108)):  # mode and setpoints untouched by accepted writes
        order = site.server.control.order
        assert order is not None and order.power_w == 2000.0
        assert site.status()["mode"] == "external_control"
    assert exception_code(await site.write(110, 5)) is None  # still takes valid writes
