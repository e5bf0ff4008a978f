"""`simulate --cloud local`: a private broker + hub emulator and the connection string for it."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from sitecontroller.cloud.broker import Broker
from sitecontroller.cloud.hub_emulator import HubEmulator


@dataclass
class LocalCloud:
    broker: Broker
    emulator: HubEmulator
    connection_string: str
    ca_file: Path

    def close(self) -> None:
        self.emulator.close()
        self.broker.stop()


def connection_string_for(host: str, device_id: str) -> str:
    key = base64.b64encode(os.urandom(32)).decode()
    return f"HostName={host};DeviceId={device_id};SharedAccessKey={key}"


def start_local_cloud_sync(work_dir: Path, device_id: str = "site-controller") -> LocalCloud:
    broker = Broker(work_dir / "mqtt")
    broker.start()
    try:
        emulator = HubEmulator(broker.host, broker.plain_port, record_file=work_dir / "telemetry.jsonl")
    except Exception:
        broker.stop()
        raise
    assert broker.ca_file is not None
    return LocalCloud(broker, emulator, connection_string_for(broker.host, device_id), broker.ca_file)


async def start_local_cloud(
    work_dir: Path, device_id: str = "site-controller"
) -> tuple[str, Path, Callable[[], Awaitable[None]]]:
    """Start Mosquitto + the hub emulator; returns (connection_string, ca_file, async stop).

    Telemetry is recorded to work_dir/telemetry.jsonl.
    """
    cloud = await asyncio.to_thread(start_local_cloud_sync, work_dir, device_id)

    async def stop() -> None:
        await asyncio.to_thread(cloud.close)

    return cloud.connection_string, cloud.ca_file, stop
