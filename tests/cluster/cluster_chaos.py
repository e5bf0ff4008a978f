"""One seeded chaos run: random cluster shape, hostile network and a nemesis, then heal and converge."""

from __future__ import annotations

import random
from dataclasses import dataclass

from cluster_invariants import check_all
from cluster_sim import Faults, SimNode, Simulation, make_config

CHAOS_END_S = 3.0
SETTLE_S = 8.0


@dataclass
class ChaosResult:
    seed: int
    violations: list[str]
    # Time from the final heal until every live battery node runs a setpoint of one agreed leader.
    converge_s: float | None
    terms: int


ACTIONS = (
    "isolate_leader",
    "isolate",
    "split",
    "heal",
    "crash",
    "crash_leader",
    "transfer",
    "bridge",
    "pause",
)


def chaos_run(seed: int, schedule: list[tuple[float, str]] | None = None) -> ChaosResult:
    """`schedule` = [(gap_s, action), ...] during the chaos phase; random from the seed if None."""
    rng = random.Random(seed)
    config = make_config(rng.choice([3, 3, 5]), rng.choice([0, 0, 1]))
    faults = Faults(
        drop_p=rng.uniform(0.0, 0.15),
        dup_p=rng.uniform(0.0, 0.1),
        slow_p=rng.uniform(0.0, 0.05),
        skew=config.clock_drift_bound / 2,
    )
    sim = Simulation(config, seed, faults)
    ids = sorted(sim.nodes)
    if schedule is None:
        schedule = [(rng.uniform(0.15, 0.8), rng.choice(ACTIONS)) for _ in range(int(CHAOS_END_S / 0.15))]
    t = 0.5
    for gap_s, action in schedule:
        t += gap_s
        if t >= CHAOS_END_S:
            break
        sim.run_until(t)
        _nemesis(sim, rng, ids, action)
    sim.run_until(CHAOS_END_S)
    sim.heal()
    for node in sim.nodes.values():
        if not node.alive:
            node.start(durable=True)
    converged_at = sim.run_until(CHAOS_END_S + SETTLE_S, probe=sim.all_following_setpoints)
    violations = check_all(
        sim.history,
        voters=set(config.voter_ids),
        ttl_s=config.setpoint_ttl_s * (1 - config.clock_drift_bound),
        lease_s=config.leader_lease_s,
        delay_s=faults.max_delay_s + 0.02,
    )
    leaders = {r["node"] for r in sim.history if r["ev"] == "role" and r["role"] == "leader"}
    violations += [f"non-voter {n} became leader" for n in leaders - config.voter_ids]
    terms = max(n.core.term for n in sim.nodes.values())
    converge_s = None if converged_at is None else converged_at - CHAOS_END_S
    return ChaosResult(seed, violations, converge_s, terms)


def _nemesis(sim: Simulation, rng: random.Random, ids: list[str], action: str) -> None:
    leaders = [n.node_id for n in sim.leaders()]
    if action == "isolate_leader" and leaders:
        sim.isolate(leaders[0])
    elif action == "isolate":
        sim.isolate(rng.choice(ids))
    elif action == "split":
        sim.split(set(rng.sample(ids, rng.randint(1, len(ids) - 1))))
    elif action == "bridge" and len(ids) >= 5:
        # The first node stays linked to both sides: a bridge (non-transitive connectivity).
        _bridge, *rest = rng.sample(ids, len(ids))
        side_a, side_b = set(rest[: len(rest) // 2]), set(rest[len(rest) // 2 :])
        sim.partition({frozenset((a, b)) for a in side_a for b in side_b})
    elif action in ("crash", "crash_leader"):
        victims = leaders if action == "crash_leader" and leaders else ids
        node = sim.nodes[rng.choice(victims)]
        if node.alive:
            node.crash()
            sim.schedule(sim.now + rng.uniform(0.1, 1.2), _restart, node)
    elif action == "pause":
        # SIGSTOP, preferably of the leader: on resume its clock has moved on, its lease has not.
        node = sim.nodes[leaders[0] if leaders and rng.random() < 0.7 else rng.choice(ids)]
        node.paused_until = max(node.paused_until, sim.now + rng.uniform(0.05, 1.0))
        sim.record(node.node_id, "pause", until=node.paused_until)
    elif action == "transfer" and leaders:
        leader = sim.nodes[leaders[0]]
        targets = sorted(sim.config.voter_ids - {leader.node_id})
        if targets:
            msgs = leader.core.transfer_leadership(rng.choice(targets), leader.local(sim.now))
            leader.after_event()
            sim.send_all(leader, msgs)
    else:
        sim.heal()


def _restart(node: SimNode) -> None:
    if not node.alive:
        node.start(durable=True)
