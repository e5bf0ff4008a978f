"""Setpoint acceptance on a node (pure): highest term, recognised leader, in sequence, inside TTL.

Whatever is not a valid lease right now yields `None` from `current()`: the daemon then runs its
safe local mode (ramp to 0 W, keeping local droop / contracted fast frequency response).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from masterController.master.setpoint import RunState, SetpointBatch

# A lease longer than this is refused outright: no master may pin a node's power for minutes.
MAX_TTL_MS = 60_000


class Verdict(StrEnum):
    ACCEPTED = "accepted"
    STALE_TERM = "stale_term"
    WRONG_LEADER = "wrong_leader"
    OUT_OF_SEQUENCE = "out_of_sequence"
    CONFIG_MISMATCH = "config_mismatch"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class MasterDirective:
    """What the master last said to the whole site (also during its hold), valid until expiry."""

    leader_id: str
    run_state: RunState
    site_mode: str
    expires_at_s: float


@dataclass(frozen=True, slots=True)
class AppliedSetpoint:
    term: int
    leader_id: str
    seq: int
    run_state: RunState
    power_w: float
    received_at_s: float
    expires_at_s: float


class NodeController:
    def __init__(self, node_id: str, config_version: int) -> None:
        self._id = node_id
        self._config_version = config_version
        self._highest_term = 0
        self._term_leader: str | None = None
        self._last_seq = 0
        self._applied: AppliedSetpoint | None = None
        self._directive: MasterDirective | None = None

    @property
    def highest_term(self) -> int:
        return self._highest_term

    def observe_term(self, term: int, leader_id: str | None) -> None:
        """Terms seen by the election core (own candidacy included) fence older setpoints at once."""
        if term > self._highest_term:
            self._highest_term, self._term_leader, self._last_seq = term, leader_id, 0
            if self._applied is not None and self._applied.term < term:
                self._applied = None
            self._directive = None
        elif term == self._highest_term and self._term_leader is None:
            self._term_leader = leader_id

    def offer(self, batch: SetpointBatch, now_s: float) -> Verdict:
        if batch.ttl_ms <= 0 or batch.ttl_ms > MAX_TTL_MS or batch.seq <= 0:
            return Verdict.INVALID
        if batch.config_version != self._config_version:
            return Verdict.CONFIG_MISMATCH
        if batch.term < self._highest_term:
            return Verdict.STALE_TERM
        self.observe_term(batch.term, batch.leader_id)
        if self._term_leader != batch.leader_id:
            return Verdict.WRONG_LEADER
        if batch.seq <= self._last_seq:
            return Verdict.OUT_OF_SEQUENCE
        power_w = batch.setpoints_w.get(self._id)
        if power_w is not None and not math.isfinite(power_w):
            return Verdict.INVALID
        self._last_seq = batch.seq
        expires_at_s = now_s + batch.ttl_ms / 1000.0
        self._directive = MasterDirective(batch.leader_id, batch.run_state, batch.site_mode, expires_at_s)
        if batch.run_state is RunState.HOLD or power_w is None:
            self._applied = None  # the leader is known, but commands nothing for this node
        else:
            self._applied = AppliedSetpoint(
                term=batch.term,
                leader_id=batch.leader_id,
                seq=batch.seq,
                run_state=batch.run_state,
                power_w=power_w,
                received_at_s=now_s,
                expires_at_s=expires_at_s,
            )
        return Verdict.ACCEPTED

    def directive(self, now_s: float) -> MasterDirective | None:
        """The master's site-wide run state and mode, or None when no master spoke within a TTL."""
        if self._directive is None or now_s >= self._directive.expires_at_s:
            return None
        return self._directive

    def current(self, now_s: float) -> AppliedSetpoint | None:
        """The setpoint to run now, or None for the safe local mode (expired on this node's clock)."""
        if self._applied is None or now_s >= self._applied.expires_at_s:
            return None
        return self._applied
