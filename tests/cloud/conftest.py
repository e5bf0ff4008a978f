"""Fixtures: Mosquitto (TLS, own loopback address) + hub emulator, Azurite, and a running CloudService.

Mosquitto and Azurite are started once per session in temp dirs; each test gets its own hub
emulator client and device id so twins, methods and telemetry do not leak between tests.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient
from cloudtest_support import REPO, STATUS, FakeCommands, Hub, async_wait_until, cloud_config, wait_until

from sitecontroller.cloud.broker import Broker, free_port
from sitecontroller.cloud.hub_emulator import HubEmulator
from sitecontroller.cloud.local import connection_string_for
from sitecontroller.cloud.service import CloudService
from sitecontroller.cloud.site_params import ValidatedSiteParameters
from sitecontroller.config.loader import validate_site
from sitecontroller.config.site import SiteConfig
from sitecontroller.core.clock import Clock, SystemClock
from sitecontroller.core.events import EventBus

AZURITE_BIN = REPO / "tools" / "azurite" / "node_modules" / ".bin" / "azurite-blob"
AZURITE_CS = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
    "BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
)
_device_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    if shutil.which("mosquitto") is None:
        pytest.skip("mosquitto not installed (CI: apt-get install -y mosquitto openssl)")
    b = Broker(tmp_path_factory.mktemp("mqtt"))
    b.start()
    yield b
    b.stop()


def make_hub(broker: Broker) -> Hub:
    device_id = f"dev{next(_device_numbers)}"
    emulator = HubEmulator(broker.host, broker.plain_port)
    return Hub(broker, emulator, device_id, connection_string_for(broker.host, device_id))


@pytest.fixture
def hub(broker: Broker) -> Iterator[Hub]:
    made = make_hub(broker)
    yield made
    made.emulator.close()


@pytest.fixture
def private_hub(tmp_path: Path) -> Iterator[Hub]:
    """A broker of the test's own, for tests that stop it."""
    if shutil.which("mosquitto") is None:
        pytest.skip("mosquitto not installed (CI: apt-get install -y mosquitto openssl)")
    own = Broker(tmp_path / "mqtt")
    own.start()
    made = make_hub(own)
    yield made
    made.emulator.close()
    own.stop()


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BlobServiceClient]:
    if shutil.which("node") is None:
        pytest.skip("node is not installed: Azurite cannot run")
    if not AZURITE_BIN.exists():
        pytest.fail(f"Azurite missing: run `npm ci` in {AZURITE_BIN.parents[2]}")
    port = free_port("127.0.0.1")
    log_file = tmp_path_factory.mktemp("azurite") / "azurite.log"
    with log_file.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(AZURITE_BIN),
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                str(port),
                "--inMemoryPersistence",
                "--disableTelemetry",
                "--skipApiVersionCheck",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    def listening() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            return False

    try:
        assert wait_until(listening, 20), f"Azurite did not start: {log_file.read_text()[-500:]}"
        yield BlobServiceClient.from_connection_string(AZURITE_CS.format(port=port))
    finally:
        proc.terminate()
        proc.wait(10)


@dataclass
class Node:
    service: CloudService
    commands: FakeCommands
    params: ValidatedSiteParameters
    status: dict[str, Any]
    events: EventBus
    hub: Hub


@pytest.fixture
async def start_node(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    tasks: list[asyncio.Task[None]] = []
    # The shared broker's hub unless the test asked for its own (private_hub).
    hub: Hub = request.getfixturevalue("private_hub" if "private_hub" in request.fixturenames else "hub")

    async def start(clock: Clock | None = None, **overrides: Any) -> Node:
        commands = FakeCommands()
        params = ValidatedSiteParameters(validate_site, SiteConfig())
        status = dict(STATUS)
        events = EventBus()
        service = CloudService(
            cloud_config(hub, tmp_path, **overrides),
            hub.device_id,
            clock or SystemClock(),
            tmp_path / "state",
            lambda: dict(status),
            commands,
            events,
            params,
            version="1.0.0",
            env={},
        )
        tasks.append(asyncio.create_task(service.run()))
        assert await async_wait_until(lambda: service.connection_state == "connected", 15), service.last_error
        return Node(service, commands, params, status, events, hub)

    yield start
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
