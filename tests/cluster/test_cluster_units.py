"""Unit tests of the pure pieces: election core details, stores, node and master controllers, config."""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import pytest
from cluster_sim import make_config
from pydantic import ValidationError

from masterController.master.controller import MasterController
from masterController.master.setpoint import RunState, SetpointBatch
from masterController.membership.node_state import NodeState
from masterController.membership.summary import summarize
from masterController.membership.tracker import MembershipTracker
from masterController.node.controller import MasterDirective, NodeController, Verdict
from masterController.raft.core import ElectionCore, ElectionStatus
from masterController.raft.file_store import CorruptStateError, FileHardStateStore
from masterController.raft.messages import Message, MsgKind, Role
from masterController.raft.storage import HardState, MemoryHardStateStore
from masterController.transport.keygen_cli import register
from sitecontroller.config.cluster import ClusterConfig

CFG = make_config(3)


def _core(node_id: str, store: MemoryHardStateStore | FileHardStateStore, now_s: float = 0.0) -> ElectionCore:
    return ElectionCore(node_id, CFG, store, random.Random(0), now_s)


def _vote(src: str, term: int) -> Message:
    return Message(MsgKind.VOTE, src, "n0", term)


@pytest.mark.parametrize("durable", [True, False])
def test_vote_survives_restart_only_with_durable_state(durable: bool) -> None:
    store = MemoryHardStateStore()
    core = _core("n0", store)
    later = CFG.election_timeout_min_s + 0.01  # past the boot stickiness
    [resp] = core.step(_vote("n1", 5), later)
    assert resp.granted and store.load() == HardState(5, "n1")
    restarted = _core("n0", store if durable else MemoryHardStateStore(), now_s=later)
    [resp] = restarted.step(_vote("n2", 5), 2 * later + 0.01)
    assert resp.granted is (not durable)  # amnesia = double vote in term 5


def test_vote_is_persisted_before_the_reply_is_returned(tmp_path: Path) -> None:
    saved: list[HardState] = []

    class Spy(MemoryHardStateStore):
        def save(self, state: HardState) -> None:
            saved.append(state)
            super().save(state)

    core = _core("n0", Spy())
    out = core.step(_vote("n1", 2), 1.0)
    assert saved == [HardState(2, None), HardState(2, "n1")] and out[0].granted


def test_boot_stickiness_and_leader_stickiness_ignore_disruptive_votes() -> None:
    core = _core("n0", MemoryHardStateStore(), now_s=10.0)
    assert core.step(_vote("n1", 3), 10.1) == []  # just booted: maybe a lease is still running
    hb = Message(MsgKind.HEARTBEAT, "n1", "n0", 1, round=1)
    core.step(hb, 11.0)
    assert core.step(Message(MsgKind.PRE_VOTE, "n2", "n0", 2), 11.1) == []
    assert core.term == 1
    # A transfer vote bypasses stickiness.
    [resp] = core.step(Message(MsgKind.VOTE, "n2", "n0", 2, transfer=True), 11.1)
    assert resp.granted


def test_stale_heartbeat_gets_the_newer_term_so_the_old_leader_steps_down() -> None:
    core = _core("n0", MemoryHardStateStore(HardState(7, None)))
    [resp] = core.step(Message(MsgKind.HEARTBEAT, "n1", "n0", 4, round=9), 5.0)
    assert (resp.kind, resp.term, resp.round) == (MsgKind.HEARTBEAT_RESP, 7, 9)


def test_unknown_nodes_are_ignored() -> None:
    core = _core("n0", MemoryHardStateStore())
    assert core.step(Message(MsgKind.VOTE, "intruder", "n0", 9), 5.0) == []
    assert core.term == 0


def test_single_voter_leads_alone_and_keeps_its_lease() -> None:
    cfg = make_config(1, 1)
    core = ElectionCore("n0", cfg, MemoryHardStateStore(), random.Random(1), 0.0)
    out = core.tick(1.0)
    assert core.role is Role.LEADER and core.lease_valid(1.0)
    assert [m.dst for m in out] == ["n1"]
    for step in range(1, 100):
        core.tick(1.0 + step * 0.01)
    assert core.role is Role.LEADER and core.lease_valid(1.99)


def test_transfer_requires_leadership_and_a_voter_target() -> None:
    core = _core("n0", MemoryHardStateStore())
    with pytest.raises(RuntimeError):
        core.transfer_leadership("n1", 0.0)


def test_file_store_round_trip_and_corruption(tmp_path: Path) -> None:
    store = FileHardStateStore(tmp_path / "state")
    assert store.load() == HardState()
    store.save(HardState(3, "n2"))
    assert FileHardStateStore(tmp_path / "state").load() == HardState(3, "n2")
    (tmp_path / "state" / "election_state.json").write_text('{"v": 1, "term": -1, "voted_for": null}')
    with pytest.raises(CorruptStateError):
        store.load()


def _batch(term: int = 1, seq: int = 1, leader: str = "n1", **kw: object) -> SetpointBatch:
    fields: dict = {
        "term": term,
        "leader_id": leader,
        "seq": seq,
        "ttl_ms": 400,
        "config_version": 1,
        "run_state": RunState.RUN,
        "setpoints_w": {"n0": 1500.0},
    }
    fields.update(kw)
    return SetpointBatch(**fields)


def test_node_accepts_only_fresh_in_sequence_setpoints_of_the_known_leader() -> None:
    node = NodeController("n0", config_version=1)
    assert node.offer(_batch(), 10.0) is Verdict.ACCEPTED
    assert node.current(10.39).power_w == 1500.0  # type: ignore[union-attr]
    assert node.current(10.4) is None  # TTL on the node's own clock
    assert node.offer(_batch(seq=1), 10.5) is Verdict.OUT_OF_SEQUENCE
    assert node.offer(_batch(seq=2, leader="n2"), 10.5) is Verdict.WRONG_LEADER
    assert node.offer(_batch(seq=2, config_version=2), 10.5) is Verdict.CONFIG_MISMATCH
    assert node.offer(_batch(seq=2, ttl_ms=0), 10.5) is Verdict.INVALID
    assert node.offer(_batch(seq=2, setpoints_w={"n0": float("nan")}), 10.5) is Verdict.INVALID
    assert node.offer(_batch(term=2, seq=1, leader="n2"), 10.6) is Verdict.ACCEPTED
    assert node.offer(_batch(term=1, seq=9), 10.6) is Verdict.STALE_TERM
    assert node.offer(_batch(term=2, seq=2, leader="n2", run_state=RunState.HOLD), 10.7) is Verdict.ACCEPTED
    assert node.current(10.7) is None  # hold commands nothing: safe local mode


def _status(term: int = 1, since: float = 0.0, lease: bool = True) -> ElectionStatus:
    return ElectionStatus(Role.LEADER, term, "n0", lease, since)


STATES = {"n1": NodeState("n1", 50.0, 0.0, 5e3, 5e3, "run", "ok", "1")}


def test_master_holds_for_one_ttl_then_commands_and_never_without_lease() -> None:
    master = MasterController("n0", CFG, lambda states, now: {"n1": 700.0, "ghost": 1.0})
    first = master.next_batch(_status(), STATES, 0.1)
    assert first is not None and first.run_state is RunState.HOLD and first.setpoints_w == {}
    batch = master.next_batch(_status(), STATES, CFG.setpoint_ttl_s + 0.01)
    assert batch is not None and batch.setpoints_w == {"n1": 700.0} and batch.seq == 2
    assert master.next_batch(_status(lease=False), STATES, 5.0) is None
    assert master.next_batch(_status(term=2, since=5.0), STATES, 5.1).seq == 1  # type: ignore[union-attr]


def test_master_drops_non_finite_decisions() -> None:
    master = MasterController("n0", CFG, lambda states, now: {"n1": float("inf")})
    assert master.next_batch(_status(), STATES, 1.0).setpoints_w == {}  # type: ignore[union-attr]


def test_membership_tracks_offline_and_refuses_strangers() -> None:
    tracker = MembershipTracker(make_config(3))
    state = NodeState("n1", 40.0, 0.0, 1.0, 1.0, "run", "ok", "1")
    assert [e.kind for e in tracker.observe(state, 0.0)] == ["online"]
    assert tracker.online_states(1.0) == {"n1": state}
    assert [e.kind for e in tracker.expire(2.0)] == ["offline"]
    assert tracker.online_states(2.0) == {}
    with pytest.raises(ValueError, match="unknown node"):
        tracker.observe(NodeState("evil", 1, 0, 0, 0, "run", "ok", "1"), 0.0)
    assert tracker.observe_leader(1, "n0") and not tracker.observe_leader(1, "n0")


def test_summary_averages_soc_and_sums_limits() -> None:
    states = {
        "a": NodeState("a", 40.0, 100.0, 1e3, 2e3, "run", "ok", "1"),
        "b": NodeState("b", 60.0, -50.0, 1e3, 2e3, "run", "degraded", "1"),
    }
    summary = summarize(states)
    assert (summary.mean_soc_pct, summary.power_w, summary.max_discharge_power_w) == (50.0, 50.0, 4e3)
    assert summary.unhealthy == ("b",) and summarize({}).mean_soc_pct is None


def test_keygen_cli_writes_private_secrets_and_refuses_overwrite(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["cluster-keygen", "--keys-dir", str(tmp_path), "n0", "n1"])
    assert args.handler(args) == 0
    assert (tmp_path / "n1.key").exists() and (tmp_path / "n0.key_secret").stat().st_mode & 0o077 == 0
    with pytest.raises(SystemExit, match="refusing"):
        args.handler(args)


def test_config_defaults_are_standalone_and_bad_timing_is_refused() -> None:
    assert ClusterConfig().enabled is False
    with pytest.raises(ValidationError, match="lease"):
        make_config(3, leader_lease_s=0.35)
    with pytest.raises(ValidationError, match="heartbeat"):
        make_config(3, heartbeat_interval_s=0.2)
    with pytest.raises(ValidationError, match="duplicate"):
        ClusterConfig(members=(CFG.members[0], CFG.members[0]))
    with pytest.raises(ValidationError, match="epgm_group"):
        make_config(3, transport="epgm")
    with pytest.raises(ValidationError, match="lan_ip"):
        make_config(3, transport="epgm", epgm_group="239.192.1.1:5555")


def _deliver_all(cores: dict[str, ElectionCore], outbox: list[Message], now_s: float) -> list[MsgKind]:
    """Deliver messages (and their replies) in FIFO order; returns the kinds seen, a transcript."""
    transcript = []
    while outbox:
        msg = outbox.pop(0)
        transcript.append(msg.kind)
        if msg.dst in cores:
            outbox.extend(cores[msg.dst].step(msg, now_s))
    return transcript


def test_dueling_candidates_split_the_vote_then_one_wins() -> None:
    cores = {
        n: ElectionCore(n, CFG, MemoryHardStateStore(), random.Random(i), 0.0)
        for i, n in enumerate(["n1", "n2"])
    }
    now = 10.0  # n0 (the old leader) is gone; both time out together
    outbox = cores["n1"].tick(now) + cores["n2"].tick(now)
    transcript = _deliver_all(cores, outbox, now)
    # Each candidate asks both peers (n0 is dead) and refuses the other: it voted for itself.
    assert transcript.count(MsgKind.VOTE) == 4 and all(c.role is Role.CANDIDATE for c in cores.values())
    assert {c.term for c in cores.values()} == {1}  # split vote: both voted for themselves
    later = now + CFG.election_timeout_max_s
    first = min(cores.values(), key=lambda c: c._election_deadline_s)
    _deliver_all(cores, first.tick(later), later)
    assert first.role is Role.LEADER and first.term == 2
    other = next(c for c in cores.values() if c is not first)
    assert (other.role, other.leader_id, other.term) == (Role.FOLLOWER, first.node_id, 2)


def test_isolated_pre_candidate_never_raises_its_term() -> None:
    core = _core("n0", MemoryHardStateStore(HardState(4, None)))
    for step in range(1, 50):
        out = core.tick(step * 1.0)  # nobody answers
        assert all(m.kind is MsgKind.PRE_VOTE and m.term == 5 for m in out)
    assert core.term == 4 and core.role is Role.PRE_CANDIDATE


def test_site_mode_and_run_state_reach_followers_and_expire() -> None:
    master = MasterController("n1", CFG, lambda states, now: {"n0": 100.0})
    master.set_site_mode("peak_shaving")
    master.set_run_state(RunState.SLEEP)
    states = {"n0": NodeState("n0", 50.0, 0.0, 5e3, 5e3, "run", "ok", "1")}
    node = NodeController("n0", config_version=1)
    hold = master.next_batch(_status(), states, 0.1)
    assert hold is not None and node.offer(hold, 0.1) is Verdict.ACCEPTED
    expected = MasterDirective("n1", RunState.HOLD, "peak_shaving", 0.1 + CFG.setpoint_ttl_s)
    assert node.directive(0.2) == expected
    batch = master.next_batch(_status(), states, 1.0)
    assert batch is not None and node.offer(batch, 1.0) is Verdict.ACCEPTED
    directive = node.directive(1.1)
    assert directive is not None and directive.run_state is RunState.SLEEP
    assert node.directive(1.0 + CFG.setpoint_ttl_s) is None
    with pytest.raises(ValueError, match="hold"):
        master.set_run_state(RunState.HOLD)
