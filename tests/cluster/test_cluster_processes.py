"""Real node processes over ZeroMQ (CURVE) on loopback: kill -9, SIGSTOP and restarts, then the
recorded histories are checked against the invariants."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest
from cluster_invariants import (
    election_safety,
    hold_first_ttl,
    lease_exclusive,
    no_double_vote,
    setpoints_contract,
    terms_monotonic,
)
from cluster_procs import ProcCluster

pytestmark = pytest.mark.timeout(90)


def _all_applied_from(cluster: ProcCluster, leader: str, since: float) -> bool:
    applied = {
        r["node"]
        for r in cluster.history()
        if r["ev"] == "apply" and r["leader"] == leader and r["t"] > since
    }
    return applied >= set(cluster.procs)


def _new_leader(cluster: ProcCluster, old: str) -> str:
    def other() -> str | None:
        leader = cluster.agreed_leader()
        return leader if leader not in (None, old) else None

    return str(cluster.wait_for(other, timeout_s=10.0))


def test_kill_pause_restart_keep_the_invariants(tmp_path: Path) -> None:
    cluster = ProcCluster(tmp_path, 3)
    cfg = cluster.config
    cluster.start_all()
    try:
        first = str(cluster.wait_for(cluster.agreed_leader, timeout_s=15.0))
        cluster.wait_for(lambda: _all_applied_from(cluster, first, 0.0))

        killed_at = cluster.kill(first)
        second = _new_leader(cluster, first)
        cluster.wait_for(lambda: _all_applied_from(cluster, second, killed_at))
        term = cluster.latest_roles()[second]["term"]

        cluster.start(first)  # rejoins with its durable term and vote, must not depose `second`
        cluster.wait_for(lambda: cluster.agreed_leader() == second and first in cluster.latest_roles())
        time.sleep(1.0)  # let a disruptive rejoin show itself, if there were one
        assert cluster.agreed_leader() == second
        assert cluster.latest_roles()[second]["term"] == term

        paused_at = cluster.pause(second)
        third = _new_leader_excluding(cluster, second)
        time.sleep(0.5)
        cluster.resume(second)
        # The resumed old leader learns the new term and follows; it never commands again.
        cluster.wait_for(lambda: cluster.agreed_leader() == third)
        cluster.wait_for(lambda: _all_applied_from(cluster, third, paused_at))
    finally:
        cluster.stop_all()

    history = cluster.history()
    assert election_safety(history) == []
    assert no_double_vote(history) == []
    assert terms_monotonic(history) == []
    assert lease_exclusive(history) == []
    assert setpoints_contract(history) == []
    assert hold_first_ttl(history, cfg.setpoint_ttl_s) == []
    stale = [
        r
        for r in history
        if r["ev"] == "send" and r["node"] == second and r["t"] > paused_at and r["term"] == term
    ]
    assert stale == [], "the paused leader published after it resumed"


def test_graceful_stop_of_the_master_hands_over_without_an_election_timeout(tmp_path: Path) -> None:
    cluster = ProcCluster(tmp_path, 3)
    cluster.start_all()
    try:
        old = str(cluster.wait_for(cluster.agreed_leader, timeout_s=15.0))
        cluster.wait_for(lambda: _all_applied_from(cluster, old, 0.0))
        stopped_at = time.monotonic()
        proc = cluster.procs.pop(old)
        proc.terminate()  # SIGTERM: what systemd sends before a rolling update
        assert proc.wait(timeout=5) == 0
        new = _new_leader(cluster, old)
        elected = next(
            r["t"]
            for r in cluster.history()
            if r["ev"] == "role" and r["node"] == new and r["role"] == "leader"
        )
        # Far below ET_min: the successor campaigned on TIMEOUT_NOW, not on a timeout.
        assert elected - stopped_at < cluster.config.election_timeout_min_s
    finally:
        cluster.stop_all()
    history = cluster.history()
    assert election_safety(history) == [] and lease_exclusive(history) == []
    assert setpoints_contract(history) == []


def test_random_kills_pauses_and_restarts_of_five_processes(tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("CLUSTER_PROC_SEED", "7")))
    actions = int(os.environ.get("CLUSTER_PROC_ACTIONS", "10"))
    cluster = ProcCluster(tmp_path, 5)
    cluster.start_all()
    dead: set[str] = set()
    try:
        cluster.wait_for(cluster.agreed_leader, timeout_s=15.0)
        for _ in range(actions):
            leader = cluster.agreed_leader()
            live = sorted(set(cluster.ids) - dead)
            victim = leader if leader in live and rng.random() < 0.5 else rng.choice(live)
            action = rng.choice(["kill", "pause", "restart"])
            if action == "restart" and dead:
                revived = rng.choice(sorted(dead))
                cluster.start(revived)
                dead.discard(revived)
            elif action == "kill" and len(dead) < 2:
                cluster.kill(victim)
                dead.add(victim)
            else:
                cluster.pause(victim)
                time.sleep(rng.uniform(0.1, 0.8))
                cluster.resume(victim)
            time.sleep(rng.uniform(0.2, 0.8))
        for node_id in sorted(dead):
            cluster.start(node_id)
        healed_at = time.monotonic()
        leader = str(cluster.wait_for(cluster.agreed_leader, timeout_s=10.0))
        cluster.wait_for(lambda: _all_applied_from(cluster, leader, healed_at))
    finally:
        cluster.stop_all()
    history = cluster.history()
    cfg = cluster.config
    assert election_safety(history) == []
    assert no_double_vote(history) == []
    assert terms_monotonic(history) == []
    assert lease_exclusive(history) == []
    assert setpoints_contract(history) == []
    assert hold_first_ttl(history, cfg.setpoint_ttl_s) == []


def _new_leader_excluding(cluster: ProcCluster, paused: str) -> str:
    def other() -> str | None:
        leader = cluster.agreed_leader(exclude={paused})
        return leader if leader not in (None, paused) else None

    return str(cluster.wait_for(other, timeout_s=10.0))
