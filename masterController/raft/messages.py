"""Election messages exchanged by the cores. Pure data; the transport encodes them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class MsgKind(StrEnum):
    PRE_VOTE = "pre_vote"
    PRE_VOTE_RESP = "pre_vote_resp"
    VOTE = "vote"
    VOTE_RESP = "vote_resp"
    HEARTBEAT = "heartbeat"
    HEARTBEAT_RESP = "heartbeat_resp"
    # Leadership transfer: the leader tells a caught-up voter to campaign at once.
    TIMEOUT_NOW = "timeout_now"


@dataclass(frozen=True, slots=True)
class Message:
    kind: MsgKind
    src: str
    dst: str
    term: int
    # Vote / pre-vote responses: whether granted. Heartbeat responses: always False.
    granted: bool = False
    # Heartbeat round number, echoed in the response: the leader's lease runs from the round's send time.
    round: int = 0
    # A vote caused by a leadership transfer bypasses the followers' leader stickiness.
    transfer: bool = False


class Role(StrEnum):
    FOLLOWER = "follower"
    PRE_CANDIDATE = "pre_candidate"
    CANDIDATE = "candidate"
    LEADER = "leader"
