"""Offline checks of a recorded cluster history against the invariants of the reference.

A history is a list of records (dicts) ordered by `t`, a global time (the simulation's virtual
time, or CLOCK_MONOTONIC, which is system-wide on Linux, for real processes). Each has `node`
and `ev`:

- role     {role, term, leader, since?}  election state changed (since: leader's election time)
- persist  {term, voted_for}             hard state written (before any message left)
- lease    {term, until}                 leader holds a valid lease from t until `until`
- send     {term, seq, run_state}        leader published a setpoint batch
- apply    {term, leader, seq, run_state, expires}   node accepted a power setpoint
- use      {term, leader, seq}           node is running that setpoint at time t
- lease_end {term}                      the lease ended early (step-down)
- crash / start {durable}                process died / started
- partition {blocked: [[a, b], ...]}     (node "*") network links cut from t on; [] heals

Every checker returns a list of human-readable violations (empty = holds).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable

Record = dict


def election_safety(history: Iterable[Record]) -> list[str]:
    leaders: dict[int, set[str]] = defaultdict(set)
    for rec in history:
        if rec["ev"] == "role" and rec["role"] == "leader":
            leaders[rec["term"]].add(rec["node"])
    return [f"term {term}: leaders {sorted(nodes)}" for term, nodes in leaders.items() if len(nodes) > 1]


def no_double_vote(history: Iterable[Record]) -> list[str]:
    votes: dict[tuple[str, int], set[str]] = defaultdict(set)
    for rec in history:
        if rec["ev"] == "persist" and rec["voted_for"] is not None:
            votes[(rec["node"], rec["term"])].add(rec["voted_for"])
    return [f"{node} voted {sorted(v)} in term {term}" for (node, term), v in votes.items() if len(v) > 1]


def terms_monotonic(history: Iterable[Record]) -> list[str]:
    last: dict[str, int] = {}
    bad = []
    for rec in history:
        if rec["ev"] in ("role", "persist"):
            node, term = rec["node"], rec["term"]
            if term < last.get(node, 0):
                bad.append(f"{node}: term went {last[node]} -> {term} at t={rec['t']:.3f}")
            last[node] = max(term, last.get(node, 0))
    return bad


def lease_intervals(history: Iterable[Record]) -> dict[tuple[str, int], list[tuple[float, float]]]:
    """Merged [from, until) intervals of valid leases per (leader, term)."""
    raw: dict[tuple[str, int], list[tuple[float, float]]] = defaultdict(list)
    for rec in history:
        key = (rec["node"], rec.get("term", 0))
        if rec["ev"] == "lease":
            raw[key].append((rec["t"], rec["until"]))
        elif rec["ev"] in ("lease_end", "crash"):
            # The lease stopped early (step-down or death): clip what was recorded before.
            ends_at = rec["t"]
            keys = [k for k in raw if k[0] == rec["node"]] if rec["ev"] == "crash" else [key]
            for k in keys:
                raw[k] = [(s, min(e, ends_at)) for s, e in raw[k]]
    merged = {}
    for key, spans in raw.items():
        out: list[tuple[float, float]] = []
        for start, end in sorted(spans):
            if out and start <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], end))
            else:
                out.append((start, end))
        merged[key] = out
    return merged


def lease_exclusive(history: list[Record], tolerance_s: float = 0.0) -> list[str]:
    spans = [(s, e, key) for key, ivs in lease_intervals(history).items() for s, e in ivs]
    spans.sort()
    bad = []
    for i, (_s1, e1, k1) in enumerate(spans):
        for s2, e2, k2 in spans[i + 1 :]:
            if s2 >= e1:
                break
            overlap = min(e1, e2) - s2
            if k1 != k2 and overlap > tolerance_s:
                bad.append(f"leases {k1} and {k2} overlap {overlap * 1000:.1f} ms at t={s2:.3f}")
    return bad


def setpoints_contract(history: list[Record], *, ttl_tolerance_s: float = 0.0) -> list[str]:
    """No stale-term apply or use, one leader per (node, term), seq increasing, use within TTL,
    and every apply traceable to a send made while its leader held a lease."""
    bad = []
    highest: dict[str, int] = defaultdict(int)
    term_leader: dict[tuple[str, int], str] = {}
    last_seq: dict[tuple[str, int], int] = {}
    applied: dict[tuple[str, int, int], Record] = {}
    sends = {(r["node"], r["term"], r["seq"]): r for r in history if r["ev"] == "send"}
    leases = lease_intervals(history)
    for rec in history:
        node, ev = rec["node"], rec["ev"]
        if ev == "role":
            highest[node] = max(highest[node], rec["term"])
        elif ev == "apply":
            term, leader, seq = rec["term"], rec["leader"], rec["seq"]
            if term < highest[node]:
                bad.append(f"{node} applied term {term} after seeing term {highest[node]} (t={rec['t']:.3f})")
            highest[node] = max(highest[node], term)
            if term_leader.setdefault((node, term), leader) != leader:
                bad.append(f"{node} applied setpoints of two leaders in term {term}")
            if seq <= last_seq.get((node, term), 0):
                bad.append(f"{node} applied seq {seq} after {last_seq[(node, term)]} in term {term}")
            last_seq[(node, term)] = seq
            applied[(node, term, seq)] = rec
            send = sends.get((leader, term, seq))
            if send is None:
                bad.append(f"{node} applied ({leader}, {term}, {seq}) that was never sent")
            elif not any(s <= send["t"] < e for s, e in leases.get((leader, term), [])):
                bad.append(f"{leader} sent term {term} seq {seq} without a valid lease (t={send['t']:.3f})")
        elif ev == "use":
            src = applied.get((node, rec["term"], rec["seq"]))
            if src is None:
                bad.append(f"{node} ran a setpoint it never applied: {rec}")
            elif rec["t"] > src["expires"] + ttl_tolerance_s:
                bad.append(f"{node} ran term {rec['term']} seq {rec['seq']} past its TTL (t={rec['t']:.3f})")
            if rec["term"] < highest[node]:
                bad.append(f"{node} ran term {rec['term']} after seeing term {highest[node]}")
        elif ev == "crash":
            # The node controller is volatile: after a restart the sequence starts over.
            for key in [k for k in last_seq if k[0] == node]:
                del last_seq[key]
    return bad


def hold_first_ttl(history: list[Record], ttl_s: float) -> list[str]:
    """A new leader commands nothing but hold during its first TTL."""
    since: dict[tuple[str, int], float] = {}
    bad = []
    for rec in history:
        if rec["ev"] == "role" and rec["role"] == "leader":
            # `since` is the core's own election instant; the record itself may be written later.
            since[(rec["node"], rec["term"])] = rec.get("since") or rec["t"]
        elif rec["ev"] == "send" and rec["run_state"] != "hold":
            start = since.get((rec["node"], rec["term"]))
            if start is None or rec["t"] < start + ttl_s - 1e-9:
                bad.append(
                    f"{rec['node']} commanded {rec['run_state']} in its first TTL of term {rec['term']}"
                )
    return bad


def actuation_exclusive(history: list[Record], tolerance_s: float) -> list[str]:
    """Setpoints of two different leaders never run on the site at the same time (beyond delay)."""
    spans: dict[tuple[str, int], list[float]] = {}
    for rec in history:
        if rec["ev"] == "use":
            key = (rec["leader"], rec["term"])
            first_last = spans.setdefault(key, [rec["t"], rec["t"]])
            first_last[1] = rec["t"]
    ordered = sorted((s, e, k) for k, (s, e) in spans.items())
    bad = []
    for (_s1, e1, k1), (s2, _e2, k2) in itertools.pairwise(ordered):
        if e1 - s2 > tolerance_s:
            bad.append(f"setpoints of {k1} and {k2} ran together for {(e1 - s2) * 1000:.1f} ms")
    return bad


def minority_silence(
    history: list[Record], voters: set[str], lease_s: float, tolerance_s: float
) -> list[str]:
    """A leader that cannot reach a majority of voters holds no lease after `lease_s` from the cut."""
    quorum = len(voters) // 2 + 1
    blocked: set[frozenset[str]] = set()
    cut_at = 0.0
    bad = []
    for rec in history:
        if rec["ev"] == "partition":
            blocked = {frozenset(pair) for pair in rec["blocked"]}
            cut_at = rec["t"]
        elif rec["ev"] == "lease" and blocked and rec["t"] > cut_at + lease_s + tolerance_s:
            node = rec["node"]
            reach = sum(1 for v in voters if v == node or frozenset((node, v)) not in blocked)
            if reach < quorum:
                bad.append(f"{node} held a lease in a minority at t={rec['t']:.3f} (cut at {cut_at:.3f})")
    return bad


def check_all(
    history: list[Record], *, voters: set[str], ttl_s: float, lease_s: float, delay_s: float
) -> list[str]:
    return [
        *election_safety(history),
        *no_double_vote(history),
        *terms_monotonic(history),
        *lease_exclusive(history),
        *setpoints_contract(history),
        *hold_first_ttl(history, ttl_s),
        *actuation_exclusive(history, tolerance_s=delay_s),
        *minority_silence(history, voters, lease_s, tolerance_s=delay_s),
    ]
