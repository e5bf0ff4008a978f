"""Access control and connection hygiene: writes only when enabled and from allow-listed addresses,
a connection limit, an idle timeout, and follower writes forwarded (or refused without a master)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from pymodbus.client import AsyncModbusTcpClient
from scada_site import ScadaSite, exception_code

from sitecontroller.config.scada import ScadaConfig
from sitecontroller.config.site import SiteConfig
from sitecontroller.runtime.commands import CommandResult
from sitecontroller.scada.errors import ExceptionCode

MakeSite = Callable[..., Awaitable[ScadaSite]]
READ_SOC = bytes.fromhex("0001 0000 0006 01 03 000c 0001")


async def started(site: ScadaSite, source: str = "127.0.0.1") -> ScadaSite:
    await site.start()
    site.client = AsyncModbusTcpClient(
        "127.0.0.1", port=site.server.port, timeout=2, retries=0, source_address=(source, 0)
    )
    await site.client.connect()
    return site


@pytest.fixture
async def make_site(
    single_node_config: SiteConfig, scada_config: ScadaConfig, tmp_path: Path
) -> AsyncIterator[MakeSite]:
    sites: list[ScadaSite] = []

    async def make(source: str = "127.0.0.1", **changes: object) -> ScadaSite:
        config = scada_config.model_copy(update=changes)
        site = ScadaSite(single_node_config, config, tmp_path / str(len(sites)))
        sites.append(site)
        return await started(site, source)

    yield make
    for site in sites:
        site.client.close()
        await site.stop()


async def test_writes_disabled(make_site: MakeSite) -> None:
    site = await make_site(writes_enabled=False)
    assert exception_code(await site.write(101, 2)) == ExceptionCode.ILLEGAL_FUNCTION
    assert site.status()["mode"] == "self_consumption"
    assert len(await site.read(0, 10)) == 10  # reads stay open


async def test_client_not_allow_listed(make_site: MakeSite) -> None:
    site = await make_site(allowed_clients=("127.0.0.2",))
    assert exception_code(await site.write(101, 2)) == ExceptionCode.ILLEGAL_FUNCTION
    assert site.status()["mode"] == "self_consumption"
    refused = [a for a in site.audits if a.command == "modbus_write"]
    assert refused[0].arguments["client"] == "127.0.0.1" and not refused[0].accepted


async def test_allow_listed_network(make_site: MakeSite) -> None:
    site = await make_site(source="127.0.0.2", allowed_clients=("127.0.0.2/32", "10.0.0.0/8"))
    assert exception_code(await site.write(101, 2)) is None
    assert site.status()["mode"] == "external_control"


async def wait_closed(reader: asyncio.StreamReader, within_s: float) -> bool:
    """True when the server closes the connection within `within_s` (a bounded wait, not a sleep)."""
    try:
        async with asyncio.timeout(within_s):
            while await reader.read(256):
                pass
            return True
    except TimeoutError:
        return False


async def connect(site: ScadaSite) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", site.server.port)


async def test_connection_limit(make_site: MakeSite) -> None:
    site = await make_site(max_connections=2)  # the fixture's client is the first
    second_r, second_w = await connect(site)
    third_r, third_w = await connect(site)
    try:
        assert await wait_closed(third_r, 2.0)
        second_w.write(READ_SOC)
        answer = await asyncio.wait_for(second_r.readexactly(11), 2.0)
        assert answer[7] == 3  # the second is served
    finally:
        second_w.close()
        third_w.close()


async def test_idle_timeout_and_malformed_header_close_the_connection(make_site: MakeSite) -> None:
    site = await make_site(idle_timeout_s=0.3)
    idle_r, idle_w = await connect(site)
    bad_r, bad_w = await connect(site)
    try:
        bad_w.write(bytes.fromhex("0001 1234 0006 01 03 0000 0001"))  # protocol id must be 0
        assert await wait_closed(bad_r, 0.25)
        assert await wait_closed(idle_r, 3.0)
    finally:
        idle_w.close()
        bad_w.close()


async def test_pipelined_requests_are_all_answered(make_site: MakeSite) -> None:
    site = await make_site()
    reader, writer = await connect(site)
    try:
        writer.write(b"".join(bytes([0, tid]) + READ_SOC[2:] for tid in range(1, 6)))
        data = await asyncio.wait_for(reader.readexactly(5 * 11), 2.0)
        assert [data[i * 11 + 1] for i in range(5)] == [1, 2, 3, 4, 5]
    finally:
        writer.close()


async def test_follower_without_master_refuses(make_site: MakeSite) -> None:
    site = await make_site()
    site.node.daemon.cluster_status = lambda: {"role": "follower", "term": 3, "leader_id": None}
    assert exception_code(await site.write(101, 2)) == ExceptionCode.GATEWAY_PATH_UNAVAILABLE
    assert site.status()["mode"] == "self_consumption"


async def test_follower_forwards_writes(
    single_node_config: SiteConfig, scada_config: ScadaConfig, tmp_path: Path
) -> None:
    forwarded: list[tuple[int, int, list[int], str]] = []

    async def forward(unit: int, address: int, registers: list[int], client: str) -> CommandResult:
        forwarded.append((unit, address, registers, client))
        return CommandResult(409 if address == 102 else 200, "master says")

    site = await started(ScadaSite(single_node_config, scada_config, tmp_path, forward_write=forward))
    try:
        site.node.daemon.cluster_status = lambda: {"role": "follower", "term": 3, "leader_id": "m"}
        assert exception_code(await site.write(101, 2)) is None
        assert exception_code(await site.write(102, 100)) == ExceptionCode.DEVICE_FAILURE
        assert forwarded == [(1, 101, [2], "127.0.0.1"), (1, 102, [100], "127.0.0.1")]
        assert site.status()["mode"] == "self_consumption"  # applied by the master, not here
    finally:
        site.client.close()
        await site.stop()


async def test_address_in_use_is_a_clear_error(
    make_site: MakeSite, single_node_config: SiteConfig, scada_config: ScadaConfig, tmp_path: Path
) -> None:
    site = await make_site()
    taken = scada_config.model_copy(update={"port": site.server.port})
    other = ScadaSite(single_node_config, taken, tmp_path / "other")
    with pytest.raises(OSError, match="cannot listen"):
        await other.server.start()
