"""The commissioning beacon: signed, replay-proof, informational only; and its UDP loop on loopback."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from cluster_procs import free_ports
from cluster_sim import make_config

from masterController.membership.beacon import Beacon, BeaconError, BeaconListener, Discovery, encode_beacon
from masterController.membership.beacon_service import BeaconService
from sitecontroller.core.clock import SystemClock

KEY = b"k" * 32
CFG = make_config(3)
N1 = CFG.member("n1")


def _beacon(**changes: object) -> Beacon:
    base = Beacon("site", "n1", N1.election_endpoint, N1.publish_endpoint, 1, "boot-a", 1)
    return dataclasses.replace(base, **changes)


def test_listener_accepts_members_and_flags_strangers_and_drift() -> None:
    listener = BeaconListener(CFG, "n0", KEY)
    found = listener.accept(encode_beacon(_beacon(), KEY), 1.0)
    assert found is not None and found.mismatch == ""
    assert listener.accept(encode_beacon(_beacon(counter=2), KEY), 2.0) is None  # nothing new
    stranger = listener.accept(encode_beacon(_beacon(node_id="x9", counter=1), KEY), 2.0)
    assert stranger is not None and "not a configured member" in stranger.mismatch
    moved = listener.accept(encode_beacon(_beacon(election_endpoint="tcp://10.9.9.9:1", counter=3), KEY), 3.0)
    assert moved is not None and "endpoints" in moved.mismatch
    assert listener.accept(encode_beacon(_beacon(node_id="n0", counter=9), KEY), 3.0) is None  # own echo
    assert CFG.voter_ids == {"n0", "n1", "n2"}  # discovery never touches the quorum


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (encode_beacon(_beacon(), b"x" * 32), "bad MAC"),
        (encode_beacon(_beacon(counter=1), KEY), "replayed"),
        (encode_beacon(_beacon(site_id="other", counter=5), KEY), "site"),
        (b"\x80garbage", "malformed"),
    ],
)
def test_listener_refuses_forged_replayed_foreign_and_garbage(raw: bytes, reason: str) -> None:
    listener = BeaconListener(CFG, "n0", KEY)
    listener.accept(encode_beacon(_beacon(counter=1), KEY), 0.0)
    with pytest.raises(BeaconError, match=reason):
        listener.accept(raw, 1.0)


def test_short_keys_are_refused() -> None:
    with pytest.raises(BeaconError, match="32 bytes"):
        encode_beacon(_beacon(), b"short")


@pytest.mark.timeout(10)
async def test_beacons_travel_over_udp() -> None:
    [port] = free_ports(1)
    discovery = CFG.discovery.model_copy(
        update={"enabled": True, "port": port, "target_address": "127.0.0.1"}
    )
    cfg = CFG.model_copy(update={"discovery": discovery.model_copy(update={"interval_s": 0.05})})
    seen: list[Discovery] = []
    listener = BeaconService(cfg, "n0", KEY, SystemClock(), seen.append)
    announcer = BeaconService(cfg, "n1", KEY, SystemClock(), lambda d: None, listen=False)
    tasks = [asyncio.create_task(listener.run()), asyncio.create_task(announcer.run())]
    try:
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.02)
        assert [d.beacon.node_id for d in seen] == ["n1"] and seen[0].mismatch == ""
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
