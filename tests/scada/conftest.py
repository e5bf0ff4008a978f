"""A simulated node (SimClock) with the SCADA server on a free loopback port, and a Modbus client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pymodbus.client import AsyncModbusTcpClient
from scada_site import ScadaSite

from sitecontroller.config.scada import ScadaConfig
from sitecontroller.config.site import SiteConfig

SITE_SCADA = ScadaConfig(
    enabled=True,
    host="127.0.0.1",
    port=0,
    writes_enabled=True,
    allowed_clients=("127.0.0.1",),
    heartbeat_timeout_s=5.0,
    lease_s=20.0,
    fallback_ramp_w_per_s=1000.0,
)


@pytest.fixture
def scada_config() -> ScadaConfig:
    return SITE_SCADA


@pytest.fixture
async def site(
    single_node_config: SiteConfig, scada_config: ScadaConfig, tmp_path: Path
) -> AsyncIterator[ScadaSite]:
    site = ScadaSite(single_node_config, scada_config, tmp_path)
    await site.start()
    client = AsyncModbusTcpClient("127.0.0.1", port=site.server.port, timeout=2, retries=0)
    await client.connect()
    site.client = client
    try:
        yield site
    finally:
        client.close()
        await site.stop()
