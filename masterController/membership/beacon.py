"""Authenticated LAN beacon for commissioning: who is out there, at which endpoints, on which config.

Each node broadcasts an HMAC-SHA256-signed announcement every `interval_s`. Receivers verify the
MAC with the site key, refuse replays (the counter must grow within one boot id) and report
discoveries, in particular nodes that are not configured members or that announce endpoints or a
config version different from this node's configuration. Discovery never changes the quorum.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import asdict, dataclass

from sitecontroller.config.cluster import ClusterConfig

BEACON_VERSION = 1
MAX_BEACON_BYTES = 2048
MIN_KEY_BYTES = 32


class BeaconError(ValueError):
    """An announcement that is malformed, forged, replayed or from another site."""


@dataclass(frozen=True, slots=True)
class Beacon:
    site_id: str
    node_id: str
    election_endpoint: str
    publish_endpoint: str
    config_version: int
    # Random per process start; with the counter it makes every announcement unique.
    boot_id: str
    counter: int


@dataclass(frozen=True, slots=True)
class Discovery:
    beacon: Beacon
    seen_at_s: float
    # Empty when the announcement matches this node's configuration; else why it does not.
    mismatch: str


def encode_beacon(beacon: Beacon, key: bytes) -> bytes:
    body = json.dumps(asdict(beacon), sort_keys=True)
    mac = hmac.new(_checked_key(key), body.encode(), hashlib.sha256).hexdigest()
    return json.dumps({"v": BEACON_VERSION, "body": body, "mac": mac}).encode()


def decode_beacon(raw: bytes, key: bytes) -> Beacon:
    if len(raw) > MAX_BEACON_BYTES:
        raise BeaconError("beacon too large")
    try:
        envelope = json.loads(raw)
        body, mac = envelope["body"], envelope["mac"]
        if envelope["v"] != BEACON_VERSION or not isinstance(body, str) or not isinstance(mac, str):
            raise BeaconError("unknown beacon format")
    except (ValueError, KeyError, TypeError) as exc:
        raise BeaconError(f"malformed beacon: {exc}") from exc
    expected = hmac.new(_checked_key(key), body.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, mac):
        raise BeaconError("bad MAC: not signed with this site's key")
    try:
        fields = json.loads(body)
        beacon = Beacon(**fields)
    except (ValueError, TypeError) as exc:
        raise BeaconError(f"malformed beacon body: {exc}") from exc
    if not isinstance(beacon.counter, int) or not isinstance(beacon.config_version, int):
        raise BeaconError("beacon counter and config_version must be integers")
    return beacon


def _checked_key(key: bytes) -> bytes:
    if len(key) < MIN_KEY_BYTES:
        raise BeaconError(f"beacon key must be at least {MIN_KEY_BYTES} bytes")
    return key


class BeaconListener:
    """Pure bookkeeping of verified announcements."""

    def __init__(self, config: ClusterConfig, own_node_id: str, key: bytes) -> None:
        self._cfg = config
        self._own = own_node_id
        self._key = key
        self._last: dict[tuple[str, str], int] = {}
        self._seen: dict[str, Discovery] = {}

    def accept(self, raw: bytes, now_s: float) -> Discovery | None:
        """A new discovery (or a changed one); None for our own echo. Raises BeaconError."""
        beacon = decode_beacon(raw, self._key)
        if beacon.site_id != self._cfg.discovery.site_id:
            raise BeaconError(f"beacon of site {beacon.site_id!r}")
        if beacon.node_id == self._own:
            return None
        replay_key = (beacon.node_id, beacon.boot_id)
        if beacon.counter <= self._last.get(replay_key, -1):
            raise BeaconError(f"replayed beacon from {beacon.node_id!r}")
        self._last[replay_key] = beacon.counter
        discovery = Discovery(beacon, now_s, self._mismatch(beacon))
        previous = self._seen.get(beacon.node_id)
        self._seen[beacon.node_id] = discovery
        if (
            previous is None
            or previous.mismatch != discovery.mismatch
            or previous.beacon.boot_id != beacon.boot_id
        ):
            return discovery
        return None

    def discovered(self) -> dict[str, Discovery]:
        return dict(self._seen)

    def _mismatch(self, beacon: Beacon) -> str:
        if beacon.node_id not in self._cfg.member_ids:
            return "not a configured member (add it to the configuration to let it join)"
        member = self._cfg.member(beacon.node_id)
        if (beacon.election_endpoint, beacon.publish_endpoint) != (
            member.election_endpoint,
            member.publish_endpoint,
        ):
            return "announces endpoints that differ from the configuration"
        if beacon.config_version != self._cfg.config_version:
            return f"runs config version {beacon.config_version}, this node {self._cfg.config_version}"
        return ""
