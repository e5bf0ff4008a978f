"""X.509 device authentication: the SDK presents a device certificate to a hub that demands one."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
from pathlib import Path

import pytest
from cloudtest_support import STATUS, FakeCommands, async_wait_until

from sitecontroller.cloud.broker import Broker, issue_device_certificate
from sitecontroller.cloud.hub_emulator import HubEmulator
from sitecontroller.cloud.service import CloudService
from sitecontroller.cloud.site_params import ValidatedSiteParameters
from sitecontroller.config.cloud import CloudConfig
from sitecontroller.config.loader import validate_site
from sitecontroller.config.site import SiteConfig
from sitecontroller.core.clock import SystemClock
from sitecontroller.core.events import EventBus

DEVICE = "x509-node"


@pytest.fixture
def x509_broker(tmp_path: Path) -> Broker:
    if shutil.which("mosquitto") is None:
        pytest.skip("mosquitto not installed (CI: apt-get install -y mosquitto openssl)")
    broker = Broker(tmp_path / "mqtt", require_client_cert=True)
    broker.start()
    yield broker  # type: ignore[misc]
    broker.stop()


def service(config: CloudConfig, tmp_path: Path) -> CloudService:
    return CloudService(
        config,
        DEVICE,
        SystemClock(),
        tmp_path / "state",
        lambda: dict(STATUS),
        FakeCommands(),
        EventBus(),
        ValidatedSiteParameters(validate_site, SiteConfig()),
        version="1.0.0",
        env={},
    )


async def test_x509_device_connects_and_sends_telemetry_where_a_certificate_is_required(
    x509_broker: Broker, tmp_path: Path
) -> None:
    assert x509_broker.ca_file is not None
    cert, key = issue_device_certificate(x509_broker.ca_file.parent, DEVICE)
    emulator = HubEmulator(x509_broker.host, x509_broker.plain_port)
    config = CloudConfig(
        enabled=True,
        server_ca_file=str(x509_broker.ca_file),
        x509_cert_file=str(cert),
        x509_key_file=str(key),
        x509_hostname=x509_broker.host,
        x509_device_id=DEVICE,
        telemetry_interval_s=1.0,
        releases_dir=str(tmp_path / "opt"),
        log_dir=str(tmp_path / "logs"),
        sdk_call_timeout_s=10.0,
    )
    link = service(config, tmp_path)
    task = asyncio.create_task(link.run())
    try:
        assert await async_wait_until(lambda: link.connection_state == "connected", 20.0), link.last_error
        assert await async_wait_until(lambda: bool(emulator.records()), 20.0)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        emulator.close()
    assert emulator.records()[0]["node_id"] == DEVICE


def test_the_hub_refuses_a_tls_client_without_a_device_certificate(x509_broker: Broker) -> None:
    assert x509_broker.ca_file is not None
    context = ssl.create_default_context(cafile=str(x509_broker.ca_file))
    # TLS 1.3 refuses after the handshake: an alert (certificate required) or the connection closed.
    with pytest.raises((ssl.SSLError, ConnectionError)):  # noqa: SIM117
        with socket.create_connection((x509_broker.host, 8883), timeout=3) as raw:
            with context.wrap_socket(raw, server_hostname=x509_broker.host) as tls:
                tls.send(b"\x10\x00")  # the start of an MQTT CONNECT
                tls.recv(4)
