"""Deterministic simulation of a site cluster: the pure cores on a seeded, hostile network.

Virtual global time; each node has its own monotonic clock running at a slightly different rate
(within the configured drift bound). The network drops, duplicates, delays (so reorders) and
partitions messages; nodes crash and restart with their durable store (or, on request, without
it). Everything goes into a history that `cluster_invariants` checks offline.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass

from masterController.history import RecordingStore
from masterController.master.controller import MasterController
from masterController.master.setpoint import SetpointBatch
from masterController.membership.node_state import NodeState
from masterController.node.controller import NodeController, Verdict
from masterController.raft.core import ElectionCore
from masterController.raft.messages import Message, Role
from masterController.raft.storage import HardState, MemoryHardStateStore
from sitecontroller.config.cluster import ClusterConfig, ClusterMember

TICK_S = 0.01


def make_config(n_voters: int, n_followers: int = 0, **timing: float | bool) -> ClusterConfig:
    members = tuple(
        ClusterMember(
            node_id=f"n{i}",
            election_endpoint=f"tcp://127.0.0.1:{7100 + 2 * i}",
            publish_endpoint=f"tcp://127.0.0.1:{7101 + 2 * i}",
            voter=i < n_voters,
        )
        for i in range(n_voters + n_followers)
    )
    return ClusterConfig(enabled=True, members=members, **timing)


@dataclass
class Faults:
    drop_p: float = 0.0
    dup_p: float = 0.0
    delay_min_s: float = 0.0002
    delay_max_s: float = 0.003
    # Occasionally a message is held back much longer (reordering past later ones).
    slow_p: float = 0.0
    slow_max_s: float = 0.05
    # Max relative clock-rate deviation of a node from global time.
    skew: float = 0.0

    @property
    def max_delay_s(self) -> float:
        return max(self.delay_max_s, self.slow_max_s if self.slow_p > 0 else 0.0)


class SimNode:
    def __init__(self, sim: Simulation, node_id: str, rate: float, offset_s: float) -> None:
        self.sim, self.node_id, self.rate, self.offset_s = sim, node_id, rate, offset_s
        self.store = self._new_disk()
        self.alive = False
        self.incarnation = 0
        # SIGSTOP: until then the node neither ticks nor reads (the kernel keeps its messages).
        self.paused_until = 0.0
        self.core: ElectionCore
        self.master: MasterController
        self.follower: NodeController
        self.next_publish_s = 0.0
        self.last_role: tuple[Role, int, str | None] | None = None
        self.last_lease_until: float | None = None

    def _new_disk(self) -> RecordingStore:
        """A simulated disk: survives crashes, logs every write into the history."""

        def record(state: HardState) -> None:
            self.sim.record(self.node_id, "persist", term=state.term, voted_for=state.voted_for)

        return RecordingStore(MemoryHardStateStore(), record)

    def local(self, t: float) -> float:
        return self.offset_s + self.rate * t

    def to_global(self, local_s: float) -> float:
        return (local_s - self.offset_s) / self.rate

    def start(self, durable: bool) -> None:
        if not durable:
            self.store = self._new_disk()
        now = self.local(self.sim.now)
        rng = random.Random(self.sim.rng.random())
        self.core = ElectionCore(self.node_id, self.sim.config, self.store, rng, now)
        self.master = MasterController(self.node_id, self.sim.config, self.sim.decide)
        self.follower = NodeController(self.node_id, self.sim.config.config_version)
        self.alive = True
        self.incarnation += 1
        self.last_role = None
        self.last_lease_until = None
        self.next_publish_s = now
        self.sim.record(self.node_id, "start", durable=durable)
        self.after_event()
        self.sim.schedule(self.sim.now + self.sim.rng.uniform(0, TICK_S), self.tick, self.incarnation)

    def crash(self) -> None:
        self.alive = False
        self.sim.record(self.node_id, "crash")

    def after_event(self) -> None:
        core = self.core
        role = (core.role, core.term, core.leader_id)
        if role != self.last_role:
            if self.last_lease_until is not None and self.sim.now < self.last_lease_until:
                # Stepping down (transfer, higher term) ends the lease before its expiry.
                self.sim.record(self.node_id, "lease_end", term=self.last_role[1] if self.last_role else 0)
            self.last_lease_until = None
            self.last_role = role
            self.sim.record(self.node_id, "role", role=str(core.role), term=core.term, leader=core.leader_id)
        self.follower.observe_term(core.term, core.leader_id)

    def tick(self, incarnation: int) -> None:
        if not self.alive or incarnation != self.incarnation:
            return
        if self.sim.now < self.paused_until:
            self.sim.schedule(self.paused_until, self.tick, incarnation)
            return
        now = self.local(self.sim.now)
        self.sim.send_all(self, self.core.tick(now))
        self.after_event()
        expiry = self.core.lease_expiry_s()
        if (
            self.core.lease_valid(now)
            and expiry is not None
            and self.to_global(expiry) != self.last_lease_until
        ):
            self.last_lease_until = self.to_global(expiry)
            self.sim.record(self.node_id, "lease", term=self.core.term, until=self.last_lease_until)
        if now >= self.next_publish_s:
            self.publish(now)
        current = self.follower.current(now)
        if current is not None:
            self.sim.record(self.node_id, "use", term=current.term, leader=current.leader_id, seq=current.seq)
        self.sim.schedule(self.sim.now + TICK_S / self.rate, self.tick, incarnation)

    def publish(self, now: float) -> None:
        batch = self.master.next_batch(self.core.status(now), self.sim.node_states, now)
        if batch is None:
            return
        self.next_publish_s = now + self.sim.config.setpoint_interval_s
        self.sim.record(self.node_id, "send", term=batch.term, seq=batch.seq, run_state=str(batch.run_state))
        for peer in self.sim.nodes.values():
            if peer is self:
                self.receive_setpoint(batch)
            else:
                self.sim.transmit(self.node_id, peer.node_id, batch)

    def receive(self, payload: Message | SetpointBatch) -> None:
        if isinstance(payload, Message):
            out = self.core.step(payload, self.local(self.sim.now))
            self.after_event()
            self.sim.send_all(self, out)
        else:
            self.receive_setpoint(payload)

    def receive_setpoint(self, batch: SetpointBatch) -> None:
        now = self.local(self.sim.now)
        verdict = self.follower.offer(batch, now)
        applied = self.follower.current(now)
        if verdict is Verdict.ACCEPTED and applied is not None and applied.seq == batch.seq:
            self.sim.record(
                self.node_id,
                "apply",
                term=batch.term,
                leader=batch.leader_id,
                seq=batch.seq,
                run_state=str(batch.run_state),
                expires=self.to_global(applied.expires_at_s),
            )


class Simulation:
    def __init__(self, config: ClusterConfig, seed: int, faults: Faults) -> None:
        self.config = config
        self.rng = random.Random(seed)
        self.faults = faults
        self.now = 0.0
        self.history: list[dict] = []
        self._queue: list[tuple[float, int, Callable[..., None], tuple]] = []
        self._counter = itertools.count()
        self.blocked: set[frozenset[str]] = set()
        self.node_states = {
            m.node_id: NodeState(m.node_id, 50.0, 0.0, 5000.0, 5000.0, "run", "ok", "sim")
            for m in config.members
            if not m.witness
        }
        self.nodes = {
            m.node_id: SimNode(
                self,
                m.node_id,
                rate=1.0 + self.rng.uniform(-faults.skew, faults.skew),
                offset_s=self.rng.uniform(0, 1000),
            )
            for m in config.members
        }
        for node in self.nodes.values():
            node.start(durable=True)

    @staticmethod
    def decide(node_states: dict[str, NodeState], now_s: float) -> dict[str, float]:
        return {node_id: 1000.0 for node_id in node_states}

    # ---- event loop ---------------------------------------------------------------------------
    def schedule(self, at: float, fn: Callable[..., None], *args: object) -> None:
        heapq.heappush(self._queue, (at, next(self._counter), fn, args))

    def run_until(self, end: float, probe: Callable[[], bool] | None = None) -> float | None:
        """Run to `end`; with a probe, stop at (and return) the first event time it holds after."""
        while self._queue and self._queue[0][0] <= end:
            at, _, fn, args = heapq.heappop(self._queue)
            self.now = at
            fn(*args)
            if probe is not None and probe():
                return at
        self.now = end
        return None

    def record(self, node: str, ev: str, **fields: object) -> None:
        self.history.append({"t": self.now, "node": node, "ev": ev, **fields})

    # ---- network ------------------------------------------------------------------------------
    def connected(self, a: str, b: str) -> bool:
        return frozenset((a, b)) not in self.blocked

    def send_all(self, node: SimNode, messages: list[Message]) -> None:
        for msg in messages:
            self.transmit(node.node_id, msg.dst, msg)

    def transmit(self, src: str, dst: str, payload: Message | SetpointBatch) -> None:
        f = self.faults
        if not self.connected(src, dst) or self.rng.random() < f.drop_p:
            return
        copies = 2 if self.rng.random() < f.dup_p else 1
        for _ in range(copies):
            delay = self.rng.uniform(f.delay_min_s, f.delay_max_s)
            if self.rng.random() < f.slow_p:
                delay = self.rng.uniform(f.delay_max_s, f.slow_max_s)
            self.schedule(self.now + delay, self._deliver, src, dst, payload)

    def _deliver(self, src: str, dst: str, payload: Message | SetpointBatch) -> None:
        node = self.nodes[dst]
        if node.alive and self.now < node.paused_until:
            self.schedule(node.paused_until + 1e-6, self._deliver, src, dst, payload)
        elif node.alive and self.connected(src, dst):
            node.receive(payload)

    def partition(self, blocked: set[frozenset[str]]) -> None:
        self.blocked = blocked
        self.record("*", "partition", blocked=sorted(sorted(pair) for pair in blocked))

    def isolate(self, node_id: str) -> None:
        self.partition({frozenset((node_id, other)) for other in self.nodes if other != node_id})

    def split(self, side_a: set[str]) -> None:
        side_b = set(self.nodes) - side_a
        self.partition({frozenset((a, b)) for a in side_a for b in side_b})

    def heal(self) -> None:
        self.partition(set())

    # ---- observation --------------------------------------------------------------------------
    def leaders(self) -> list[SimNode]:
        return [n for n in self.nodes.values() if n.alive and n.core.role is Role.LEADER]

    def agreed_leader(self) -> str | None:
        """The leader every live node follows, holding a lease, if there is exactly one."""
        leaders = [n for n in self.leaders() if n.core.lease_valid(n.local(self.now))]
        if len(leaders) != 1:
            return None
        leader = leaders[0]
        live = [n for n in self.nodes.values() if n.alive]
        if all(n.core.leader_id == leader.node_id and n.core.term == leader.core.term for n in live):
            return leader.node_id
        return None

    def all_following_setpoints(self) -> bool:
        """Every live battery node runs a setpoint of the one agreed leader."""
        leader = self.agreed_leader()
        if leader is None:
            return False
        for node in self.nodes.values():
            if node.alive and node.node_id in self.node_states:
                current = node.follower.current(node.local(self.now))
                if current is None or current.leader_id != leader:
                    return False
        return True
