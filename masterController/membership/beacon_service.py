"""UDP send/receive loop of the commissioning beacon (asyncio)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
import socket
from collections.abc import Callable
from pathlib import Path

from masterController.membership.beacon import Beacon, BeaconError, BeaconListener, Discovery, encode_beacon
from sitecontroller.config.cluster import ClusterConfig
from sitecontroller.core.clock import Clock

log = logging.getLogger(__name__)


def load_beacon_key(path: Path) -> bytes:
    key = path.read_bytes().strip()
    if len(key) < 32:
        raise ValueError(f"{path}: a beacon key needs at least 32 bytes")
    return key


class _Receiver(asyncio.DatagramProtocol):
    def __init__(
        self, listener: BeaconListener, clock: Clock, on_discovery: Callable[[Discovery], None]
    ) -> None:
        self._listener, self._clock, self._on_discovery = listener, clock, on_discovery

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            discovery = self._listener.accept(data, self._clock.monotonic())
        except BeaconError as exc:
            log.warning("beacon from %s refused: %s", addr[0], exc)
            return
        if discovery is not None:
            self._on_discovery(discovery)


class BeaconService:
    def __init__(
        self,
        config: ClusterConfig,
        node_id: str,
        key: bytes,
        clock: Clock,
        on_discovery: Callable[[Discovery], None],
        *,
        listen: bool = True,
    ) -> None:
        self._cfg = config
        self._key = key
        self._clock = clock
        self._listen = listen
        self.listener = BeaconListener(config, node_id, key)
        self._on_discovery = on_discovery
        me = config.member(node_id)
        self._template = Beacon(
            site_id=config.discovery.site_id,
            node_id=node_id,
            election_endpoint=me.election_endpoint,
            publish_endpoint=me.publish_endpoint,
            config_version=config.config_version,
            boot_id=secrets.token_hex(8),
            counter=0,
        )

    async def run(self) -> None:
        disc = self._cfg.discovery
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("", disc.port if self._listen else 0))
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Receiver(self.listener, self._clock, self._on_discovery), sock=sock
        )
        counter = 0
        try:
            while True:
                counter += 1
                beacon = dataclasses.replace(self._template, counter=counter)
                transport.sendto(encode_beacon(beacon, self._key), (disc.target_address, disc.port))
                await asyncio.sleep(disc.interval_s)
        finally:
            transport.close()
