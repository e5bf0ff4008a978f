"""The election core: Raft's leader election as a pure state machine (etcd-raft style, no log).

`tick(now_s)` and `step(msg, now_s)` return the messages to send; all I/O is outside, except the
injected `HardStateStore`, which the core calls *before* returning any message that depends on
the new term or vote (a store that fsyncs in `save()` therefore persists before anything leaves).

Safety argument for the leader lease (Raft thesis 6.4.1), which the simulation tests check:
a follower that acked heartbeat round r refuses (pre-)votes until `election_timeout_min` after it
heard that round (stickiness), and a node restarting behaves as if it had just heard a leader.
The leader's lease ends `leader_lease_s` after it *sent* round r, and the config validator keeps
`leader_lease_s` below `election_timeout_min` minus the clock-drift margin. Any new quorum
contains an acker (or the old leader itself, which refuses votes while leading), so no new
leader is elected before the old lease has lapsed.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from masterController.raft.messages import Message, MsgKind, Role
from masterController.raft.storage import HardState, HardStateStore
from sitecontroller.config.cluster import ClusterConfig


@dataclass(frozen=True, slots=True)
class ElectionStatus:
    role: Role
    term: int
    leader_id: str | None
    lease_valid: bool
    # When this node became leader of the current term (None unless leader).
    leader_since_s: float | None


class ElectionCore:
    def __init__(
        self, node_id: str, config: ClusterConfig, store: HardStateStore, rng: random.Random, now_s: float
    ) -> None:
        if node_id not in config.member_ids:
            raise ValueError(f"node {node_id!r} is not a configured cluster member")
        self._id = node_id
        self._cfg = config
        self._store = store
        self._rng = rng
        self._voters = config.voter_ids
        self._members = config.member_ids
        self._quorum = len(self._voters) // 2 + 1
        hard = store.load()
        self._term = hard.term
        self._voted_for = hard.voted_for
        self._role = Role.FOLLOWER
        self._leader_id: str | None = None
        # A restart counts as having just heard a leader: keeps the lease argument across crashes.
        self._heard_leader_s = now_s
        self._election_deadline_s = 0.0
        self._reset_election_timer(now_s)
        self._votes: dict[str, bool] = {}
        # Leader state.
        self._leader_since_s: float | None = None
        self._round = 0
        self._round_sent_s: dict[int, float] = {}
        self._round_acks: dict[int, set[str]] = {}
        self._next_heartbeat_s = 0.0
        self._quorum_contact_s: float | None = None

    # ---- read-only state ----------------------------------------------------------------------
    @property
    def node_id(self) -> str:
        return self._id

    @property
    def role(self) -> Role:
        return self._role

    @property
    def term(self) -> int:
        return self._term

    @property
    def leader_id(self) -> str | None:
        return self._leader_id

    @property
    def leader_since_s(self) -> float | None:
        """When this node became leader of the current term (None unless leader)."""
        return self._leader_since_s

    @property
    def is_voter(self) -> bool:
        return self._id in self._voters

    def lease_expiry_s(self) -> float | None:
        """End of the leader's lease on this node's clock, or None when not a leader with a lease."""
        if self._role is not Role.LEADER or self._quorum_contact_s is None:
            return None
        return self._quorum_contact_s + self._cfg.leader_lease_s

    def lease_valid(self, now_s: float) -> bool:
        expiry_s = self.lease_expiry_s()
        return expiry_s is not None and now_s < expiry_s

    def status(self, now_s: float) -> ElectionStatus:
        return ElectionStatus(
            role=self._role,
            term=self._term,
            leader_id=self._leader_id,
            lease_valid=self.lease_valid(now_s),
            leader_since_s=self._leader_since_s,
        )

    # ---- inputs -------------------------------------------------------------------------------
    def tick(self, now_s: float) -> list[Message]:
        if self._role is Role.LEADER:
            contact_s = self._quorum_contact_s if self._quorum_contact_s is not None else self._leader_since_s
            assert contact_s is not None
            if now_s >= contact_s + self._cfg.election_timeout_min_s:
                # Check-quorum: no majority heard within an election timeout, so someone else may
                # be elected; stop leading (the lease has long lapsed, setpoints already stopped).
                self._become_follower(self._term, None, now_s, sticky=False)
                return []
            if now_s >= self._next_heartbeat_s:
                return self._heartbeat_round(now_s)
            return []
        if (
            self._leader_id is not None
            and not self.is_voter
            and now_s >= self._heard_leader_s + self._cfg.election_timeout_max_s
        ):
            self._leader_id = None  # a non-voter never campaigns, but stops claiming a dead leader
        if self.is_voter and now_s >= self._election_deadline_s:
            return self._campaign(now_s, transfer=False)
        return []

    def step(self, msg: Message, now_s: float) -> list[Message]:
        if msg.dst != self._id or msg.src == self._id or msg.src not in self._members:
            return []  # discovery never widens the membership
        if msg.term > self._term:
            if msg.kind in (MsgKind.PRE_VOTE, MsgKind.VOTE) and not msg.transfer and self._in_lease(now_s):
                return []  # leader stickiness: a healthy leader is not deposed by a rejoining node
            if msg.kind is MsgKind.PRE_VOTE or (msg.kind is MsgKind.PRE_VOTE_RESP and msg.granted):
                pass  # pre-votes never change terms
            else:
                leader = msg.src if msg.kind is MsgKind.HEARTBEAT else None
                self._become_follower(msg.term, leader, now_s, sticky=leader is not None)
        elif msg.term < self._term:
            # Tell a stale leader or pre-candidate the newer term, so it steps down.
            if msg.kind is MsgKind.HEARTBEAT:
                return [self._reply(msg, MsgKind.HEARTBEAT_RESP, self._term, round_=msg.round)]
            if msg.kind is MsgKind.PRE_VOTE:
                return [self._reply(msg, MsgKind.PRE_VOTE_RESP, self._term)]
            return []
        handler = {
            MsgKind.HEARTBEAT: self._on_heartbeat,
            MsgKind.HEARTBEAT_RESP: self._on_heartbeat_resp,
            MsgKind.PRE_VOTE: self._on_pre_vote,
            MsgKind.PRE_VOTE_RESP: self._on_pre_vote_resp,
            MsgKind.VOTE: self._on_vote,
            MsgKind.VOTE_RESP: self._on_vote_resp,
            MsgKind.TIMEOUT_NOW: self._on_timeout_now,
        }[msg.kind]
        return handler(msg, now_s)

    def transfer_target(self) -> str | None:
        """The voter that acked the newest heartbeat round: the best-placed successor, if any."""
        if self._role is not Role.LEADER:
            return None
        for round_ in sorted(self._round_acks, reverse=True):
            others = sorted(self._round_acks[round_] - {self._id})
            if others:
                return others[0]
        return None

    def transfer_leadership(self, target: str, now_s: float) -> list[Message]:
        """Hand leadership to `target` (rolling updates): stop commanding now, tell it to campaign."""
        if self._role is not Role.LEADER:
            raise RuntimeError(f"node {self._id!r} is not the leader")
        if target not in self._voters or target == self._id:
            raise ValueError(f"cannot transfer leadership to {target!r}: not another voter")
        term = self._term
        # Stepping down first means the forced election never overlaps this node's lease.
        self._become_follower(term, None, now_s, sticky=False)
        return [Message(MsgKind.TIMEOUT_NOW, self._id, target, term)]

    # ---- message handlers ---------------------------------------------------------------------
    def _on_heartbeat(self, msg: Message, now_s: float) -> list[Message]:
        if self._role is Role.LEADER:
            return []  # impossible by election safety; never obey a rival
        if self._role is not Role.FOLLOWER or self._leader_id != msg.src:
            self._become_follower(self._term, msg.src, now_s, sticky=True)
        self._heard_leader_s = now_s
        self._reset_election_timer(now_s)
        return [self._reply(msg, MsgKind.HEARTBEAT_RESP, self._term, round_=msg.round)]

    def _on_heartbeat_resp(self, msg: Message, now_s: float) -> list[Message]:
        acks = self._round_acks.get(msg.round)
        if self._role is not Role.LEADER or msg.src not in self._voters or acks is None:
            return []
        acks.add(msg.src)
        if len(acks) >= self._quorum:
            self._quorum_reached(msg.round)
        return []

    def _on_pre_vote(self, msg: Message, now_s: float) -> list[Message]:
        grant = (
            self.is_voter
            and msg.src in self._voters
            and msg.term > self._term
            and (msg.transfer or not self._in_lease(now_s))
        )
        return [self._reply(msg, MsgKind.PRE_VOTE_RESP, msg.term if grant else self._term, granted=grant)]

    def _on_vote(self, msg: Message, now_s: float) -> list[Message]:
        grant = (
            self.is_voter
            and msg.src in self._voters
            and self._role is not Role.LEADER
            and self._voted_for in (None, msg.src)
        )
        if grant:
            self._voted_for = msg.src
            self._persist()
            self._reset_election_timer(now_s)
        return [self._reply(msg, MsgKind.VOTE_RESP, self._term, granted=grant)]

    def _on_pre_vote_resp(self, msg: Message, now_s: float) -> list[Message]:
        if self._role is not Role.PRE_CANDIDATE or msg.term != self._term + 1 or msg.src not in self._voters:
            return []
        self._votes[msg.src] = msg.granted
        if sum(self._votes.values()) >= self._quorum:
            return self._become_candidate(now_s, transfer=False)
        return []

    def _on_vote_resp(self, msg: Message, now_s: float) -> list[Message]:
        if self._role is not Role.CANDIDATE or msg.src not in self._voters:
            return []
        self._votes[msg.src] = msg.granted
        if sum(self._votes.values()) >= self._quorum:
            return self._become_leader(now_s)
        return []

    def _on_timeout_now(self, msg: Message, now_s: float) -> list[Message]:
        if not self.is_voter or msg.src != self._leader_id:
            return []  # only the leader this node follows may hand leadership over
        return self._campaign(now_s, transfer=True)

    # ---- transitions --------------------------------------------------------------------------
    def _campaign(self, now_s: float, *, transfer: bool) -> list[Message]:
        if transfer or not self._cfg.pre_vote:
            return self._become_candidate(now_s, transfer=transfer)
        self._role = Role.PRE_CANDIDATE
        self._leader_id = None
        self._votes = {self._id: True}
        self._reset_election_timer(now_s)
        if len(self._votes) >= self._quorum:
            return self._become_candidate(now_s, transfer=False)
        return self._to_other_voters(MsgKind.PRE_VOTE, self._term + 1, transfer=False)

    def _become_candidate(self, now_s: float, *, transfer: bool) -> list[Message]:
        self._role = Role.CANDIDATE
        self._leader_id = None
        self._term += 1
        self._voted_for = self._id
        self._persist()
        self._votes = {self._id: True}
        self._reset_election_timer(now_s)
        if len(self._votes) >= self._quorum:
            return self._become_leader(now_s)
        return self._to_other_voters(MsgKind.VOTE, self._term, transfer=transfer)

    def _become_leader(self, now_s: float) -> list[Message]:
        self._role = Role.LEADER
        self._leader_id = self._id
        self._leader_since_s = now_s
        self._quorum_contact_s = None
        self._round_sent_s.clear()
        self._round_acks.clear()
        return self._heartbeat_round(now_s)

    def _become_follower(self, term: int, leader: str | None, now_s: float, *, sticky: bool) -> None:
        if term > self._term:
            self._term = term
            self._voted_for = None
            self._persist()
        self._role = Role.FOLLOWER
        self._leader_id = leader
        self._leader_since_s = None
        self._quorum_contact_s = None
        self._round_sent_s.clear()
        self._round_acks.clear()
        self._votes = {}
        if sticky:
            self._heard_leader_s = now_s
        elif leader is None:
            self._heard_leader_s = -math.inf
        self._reset_election_timer(now_s)

    # ---- helpers ------------------------------------------------------------------------------
    def _heartbeat_round(self, now_s: float) -> list[Message]:
        self._round += 1
        self._round_sent_s[self._round] = now_s
        self._round_acks[self._round] = {self._id}
        self._next_heartbeat_s = now_s + self._cfg.heartbeat_interval_s
        # Rounds older than an election timeout can no longer extend anything useful.
        horizon_s = now_s - self._cfg.election_timeout_min_s
        for old in [r for r, sent_s in self._round_sent_s.items() if sent_s < horizon_s]:
            del self._round_sent_s[old]
            del self._round_acks[old]
        if len(self._round_acks[self._round]) >= self._quorum:
            self._quorum_reached(self._round)
        return [
            Message(MsgKind.HEARTBEAT, self._id, peer, self._term, round=self._round)
            for peer in sorted(self._members - {self._id})
        ]

    def _quorum_reached(self, round_: int) -> None:
        sent_s = self._round_sent_s[round_]
        if self._quorum_contact_s is None or sent_s > self._quorum_contact_s:
            self._quorum_contact_s = sent_s

    def _in_lease(self, now_s: float) -> bool:
        if self._role is Role.LEADER:
            return True
        return now_s < self._heard_leader_s + self._cfg.election_timeout_min_s

    def _reset_election_timer(self, now_s: float) -> None:
        timeout_s = self._rng.uniform(self._cfg.election_timeout_min_s, self._cfg.election_timeout_max_s)
        self._election_deadline_s = now_s + timeout_s

    def _persist(self) -> None:
        self._store.save(HardState(term=self._term, voted_for=self._voted_for))

    def _to_other_voters(self, kind: MsgKind, term: int, *, transfer: bool) -> list[Message]:
        peers = sorted(self._voters - {self._id})
        return [Message(kind, self._id, peer, term, transfer=transfer) for peer in peers]

    def _reply(
        self, msg: Message, kind: MsgKind, term: int, *, granted: bool = False, round_: int = 0
    ) -> Message:
        return Message(kind, self._id, msg.src, term, granted=granted, round=round_)
