"""The plant's battery state, published to the node processes (ZeroMQ PUB/SUB over ipc).

A node process has no plant of its own: its BMS emulator encodes the racks it receives here into
CAN frames on the node's own virtual bus, so the node still reaches its battery through the
production CAN BMS service. JSON on the wire, never pickle.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import zmq
import zmq.asyncio

from sitecontroller.sim.battery import BatteryPlant


@dataclass(frozen=True, slots=True)
class RackState:
    rack_id: int
    soc_pct: float
    current_a: float
    online: bool
    voltage_v: float
    cell_voltages_v: tuple[float, ...]
    cell_temps_c: tuple[float, ...]


class RemoteBattery:
    """Satisfies the BMS emulator's PlantBattery with the racks last received."""

    def __init__(self) -> None:
        self.racks: Sequence[RackState] = ()


def encode(node_id: str, battery: BatteryPlant) -> bytes:
    racks = [
        {
            "rack_id": r.rack_id,
            "soc_pct": r.soc_pct,
            "current_a": r.current_a,
            "online": r.online,
            "voltage_v": r.voltage_v,
            "cell_voltages_v": [round(float(v), 4) for v in r.cell_voltages_v],
            "cell_temps_c": [round(float(t), 2) for t in r.cell_temps_c],
        }
        for r in battery.racks
    ]
    return node_id.encode() + b" " + json.dumps(racks).encode()


def decode(payload: bytes) -> tuple[str, list[RackState]]:
    node_id, body = payload.split(b" ", 1)
    racks = [
        RackState(
            int(r["rack_id"]),
            float(r["soc_pct"]),
            float(r["current_a"]),
            bool(r["online"]),
            float(r["voltage_v"]),
            tuple(float(v) for v in r["cell_voltages_v"]),
            tuple(float(t) for t in r["cell_temps_c"]),
        )
        for r in json.loads(body)
    ]
    return node_id.decode(), racks


class FeedPublisher:
    def __init__(self, endpoint: str) -> None:
        self._ctx = zmq.Context.instance()
        self._socket = self._ctx.socket(zmq.PUB)
        self._socket.setsockopt(zmq.SNDHWM, 10)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.bind(endpoint)

    def publish(self, node_id: str, battery: BatteryPlant) -> None:
        self._socket.send(encode(node_id, battery), zmq.NOBLOCK)

    def close(self) -> None:
        self._socket.close()


class FeedSubscriber:
    """Keeps `battery.racks` current for one node; only the newest state matters (CONFLATE)."""

    def __init__(self, endpoint: str, node_id: str, battery: RemoteBattery) -> None:
        self._ctx = zmq.asyncio.Context.instance()
        self._socket = self._ctx.socket(zmq.SUB)
        self._socket.setsockopt(zmq.CONFLATE, 1)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.setsockopt(zmq.SUBSCRIBE, node_id.encode() + b" ")
        self._socket.connect(endpoint)
        self._battery = battery

    async def run(self) -> None:
        try:
            while True:
                _, racks = decode(await self._socket.recv())
                self._battery.racks = racks
        finally:
            self._socket.close()
