"""The ZeroMQ transport with CURVE on loopback, the wire codec, and the service's standalone mode."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import pickle
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import zmq
import zmq.asyncio
from cluster_procs import ProcCluster

from masterController.cluster_service import ClusterService
from masterController.master.setpoint import RunState, SetpointBatch
from masterController.membership.node_state import NodeState
from masterController.raft.messages import Message, MsgKind
from masterController.transport.codec import CodecError, decode, encode
from masterController.transport.keys import CurveKeys, load_curve_keys
from masterController.transport.zmq_transport import ZmqTransport
from sitecontroller.config.cluster import ClusterConfig
from sitecontroller.core.clock import SimClock, SystemClock

pytestmark = pytest.mark.timeout(30)


class Node:
    def __init__(self, config: ClusterConfig, node_id: str, keys: CurveKeys | None = None) -> None:
        self.election: list[Message] = []
        self.published: list[tuple[str, SetpointBatch | NodeState]] = []
        if keys is None and config.curve.enabled:
            keys = load_curve_keys(config, node_id)
        self.transport = ZmqTransport(
            config,
            node_id,
            keys=keys,
            on_election=self.election.append,
            on_published=lambda peer, payload: self.published.append((peer, payload)),
        )


async def _until(
    predicate: Callable[[], object], resend: Callable[[], None] = lambda: None, timeout_s: float = 5.0
) -> None:
    """Bounded poll on real sockets (connection set-up and CURVE handshakes take a moment)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        resend()
        await asyncio.sleep(0.02)


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[list[Node]]:
    config = ProcCluster(tmp_path, 3).config
    nodes = [Node(config, "n0"), Node(config, "n1")]
    for node in nodes:
        await node.transport.start()
    tasks = [asyncio.create_task(node.transport.run()) for node in nodes]
    yield nodes
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for node in nodes:
        await node.transport.close()


async def test_curve_election_messages_arrive_and_forged_senders_are_refused(pair: list[Node]) -> None:
    n0, n1 = pair
    forged = Message(MsgKind.VOTE, "n2", "n1", 4)  # n0's key, n2's name
    genuine = Message(MsgKind.HEARTBEAT, "n0", "n1", 3, round=7)

    def send() -> None:
        n0.transport._send(n0.transport._dealers["n1"], encode(forged))
        n0.transport.send_election(genuine)

    await _until(lambda: genuine in n1.election, send)
    assert forged not in n1.election and n1.transport.rejected > 0


async def test_setpoints_and_states_fan_out_with_the_publisher_checked(pair: list[Node]) -> None:
    n0, n1 = pair
    batch = SetpointBatch(2, "n0", 1, 400, 1, RunState.RUN, {"n1": 500.0})
    foreign = SetpointBatch(2, "n2", 1, 400, 1, RunState.RUN, {"n1": 9e9})
    state = NodeState("n0", 55.0, 0.0, 1.0, 1.0, "run", "ok", "1")

    def publish() -> None:
        n0.transport.publish(foreign)
        n0.transport.publish(batch)
        n0.transport.publish(state)

    await _until(lambda: ("n0", batch) in n1.published and ("n0", state) in n1.published, publish)
    assert all(payload != foreign for _, payload in n1.published)


async def test_a_stranger_without_a_provisioned_key_gets_nothing_through(
    pair: list[Node], tmp_path: Path
) -> None:
    _, n1 = pair
    config = n1.transport._cfg
    real = load_curve_keys(config, "n2")
    # Same name and every public key, but its own keypair that provisioning never issued.
    other = load_curve_keys(ProcCluster(tmp_path / "other", 3).config, "n2")
    stranger = Node(config, "n2", CurveKeys(public=other.public, secret=other.secret, peers=real.peers))
    await stranger.transport.start()
    try:
        for _ in range(25):
            stranger.transport.send_election(Message(MsgKind.VOTE, "n2", "n1", 99))
            await asyncio.sleep(0.02)
        assert all(m.term != 99 for m in n1.election)
    finally:
        await stranger.transport.close()


def test_codec_round_trips_and_refuses_anything_off_schema() -> None:
    msg = Message(MsgKind.PRE_VOTE, "n0", "n1", 5)
    batch = SetpointBatch(1, "n0", 3, 400, 1, RunState.SLEEP, {"n1": -250.0})
    state = NodeState("n1", 12.5, -100.0, 2e3, 3e3, "run", "ok", "0.1")
    meter_owner = NodeState(
        "n2", 40.0, 0.0, 2e3, 3e3, "run", "ok", "0.1", capacity_wh=1e4, grid_power_w=-512.5
    )
    for payload in (msg, batch, state, meter_owner):
        assert decode(encode(payload)) == payload
    good = json.loads(encode(batch))
    bad_bodies = [
        {**good, "v": 1},
        {**good, "type": "exec"},
        {**good, "body": {**good["body"], "extra": 1}},
        {**good, "body": {**good["body"], "term": -1}},
        {**good, "body": {**good["body"], "term": True}},
        {**good, "body": {**good["body"], "run_state": "overdrive"}},
        {**good, "body": {**good["body"], "setpoints_w": {"n1": "100"}}},
    ]
    for body in bad_bodies:
        with pytest.raises(CodecError):
            decode(json.dumps(body).encode())
    for raw in (pickle.dumps(batch), b"not json", encode(batch).replace(b"-250.0", b"NaN"), b" " * 70_000):
        with pytest.raises(CodecError):
            decode(raw)


async def test_epgm_without_pgm_support_is_a_clear_error(tmp_path: Path) -> None:
    if zmq.has("pgm"):
        pytest.skip("this libzmq has PGM; the netns test would apply")
    data = ProcCluster(tmp_path, 3, curve=False).config.model_dump(mode="json")
    data.update(transport="epgm", epgm_group="239.192.1.1:5555")
    for member in data["members"]:
        member["lan_ip"] = "127.0.0.1"
    config = ClusterConfig.model_validate_json(json.dumps(data))
    node = Node(config, "n0")
    with pytest.raises(RuntimeError, match="PGM"):
        await node.transport.start()
    await node.transport.close()


async def test_standalone_service_owns_nothing_and_stops(tmp_path: Path) -> None:
    service = ClusterService(ClusterConfig(), "n0", SimClock(), tmp_path, None, lambda s, t: {})
    task = asyncio.create_task(service.run())
    await asyncio.sleep(0)
    assert (service.role, service.term, service.leader_id, service.current_setpoint()) == (
        "standalone",
        0,
        None,
        None,
    )
    await service.stop()
    await asyncio.wait_for(task, 1.0)


async def test_single_voter_service_leads_and_commands_itself_after_the_hold(tmp_path: Path) -> None:
    config = ProcCluster(tmp_path, 1).config

    def state() -> NodeState:
        return NodeState("n0", 50.0, 0.0, 1e3, 1e3, "run", "ok", "1")

    events: list[dict] = []
    service = ClusterService(
        config,
        "n0",
        SystemClock(),
        tmp_path / "state",
        state,
        lambda s, t: {"n0": 800.0},
        recorder=events.append,
    )
    task = asyncio.create_task(service.run())
    try:
        await _until(lambda: service.current_setpoint() is not None)
        assert (service.role, service.leader_id, service.term) == ("leader", "n0", 1)
        assert service.current_setpoint().power_w == 800.0  # type: ignore[union-attr]
        assert service.node_states().keys() == {"n0"}
    finally:
        await service.stop()
        await asyncio.wait_for(task, 2.0)
    assert any(e["ev"] == "persist" and e["voted_for"] == "n0" for e in events)
    assert (tmp_path / "state" / "election_state.json").exists()


def test_setpoints_drained_after_a_stall_are_dropped(tmp_path: Path) -> None:
    """After SIGSTOP the sockets hand over a backlog of unknown age: it must not be run."""
    clock = SimClock()
    config = ProcCluster(tmp_path, 2, curve=False).config
    service = ClusterService(config, "n0", clock, tmp_path, None, lambda s, t: {})
    batch = SetpointBatch(1, "n1", 1, 400, 1, RunState.RUN, {"n0": 100.0})
    clock.advance(5.0)  # the loop has not run for 5 s
    service._on_published("n1", batch)
    assert service.current_setpoint() is None
    service._last_loop_s, service._stalled = clock.monotonic(), False  # the loop ran again
    service._on_published("n1", dataclasses.replace(batch, seq=2))
    assert service.current_setpoint() is not None
