"""Failover benchmark: real node processes over ZeroMQ (CURVE) on loopback.

For 3 and 5 nodes, `--runs` times: kill -9 the master, then measure
  (a) time until a surviving node becomes leader,
  (b) time until every live node has applied a (non-hold) setpoint from the new master;
and, separately, isolate the master by SIGSTOP-ing all its peers and measure
  (c) how long the isolated old master keeps believing it leads (role leader) and holds a lease;
and (d) SIGTERM the master (planned restart): time until its successor leads.

    .venv/bin/python bench/failover.py [--runs 20] [--sizes 3 5] [--load 2]
        [--timing election_timeout_min_s=0.6 election_timeout_max_s=1.2 ...]

Times come from the nodes' recorded histories (CLOCK_MONOTONIC is shared by all processes).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "cluster"))

# The shared process harness lives with the tests.
from cluster_procs import ProcCluster


def _first(history: list[dict], pred: Callable[[dict], bool]) -> dict | None:
    return next((r for r in history if pred(r)), None)


def _settle(cluster: ProcCluster) -> str:
    leader = str(cluster.wait_for(cluster.agreed_leader, timeout_s=20.0))
    since = time.monotonic()
    cluster.wait_for(lambda: _applied_everywhere(cluster, leader, since) is not None, timeout_s=10.0)
    return leader


def _applied_everywhere(cluster: ProcCluster, leader: str, since: float) -> float | None:
    """Time by which every live node applied a setpoint of `leader` after `since`."""
    first: dict[str, float] = {}
    for rec in cluster.history():
        if (
            rec["ev"] == "apply"
            and rec["leader"] == leader
            and rec["t"] > since
            and rec["node"] in cluster.procs
        ):
            first.setdefault(rec["node"], rec["t"])
    return max(first.values()) if set(first) >= set(cluster.procs) else None


def kill_runs(cluster: ProcCluster, runs: int) -> tuple[list[float], list[float]]:
    elect, apply = [], []
    for _ in range(runs):
        old = _settle(cluster)
        killed_at = cluster.kill(old)

        def new_leader(old: str = old) -> str | None:
            leader = cluster.agreed_leader()
            return leader if leader not in (None, old) else None

        leader = str(cluster.wait_for(new_leader, timeout_s=10.0))
        done = cluster.wait_for(lambda leader=leader, t=killed_at: _applied_everywhere(cluster, leader, t))
        role = _first(
            cluster.history(),
            lambda r, t=killed_at, n=leader: (
                r["ev"] == "role" and r["role"] == "leader" and r["node"] == n and r["t"] > t
            ),
        )
        assert role is not None
        elect.append(role["t"] - killed_at)
        apply.append(float(done) - killed_at)  # type: ignore[arg-type]
        cluster.start(old)
    return elect, apply


def graceful_runs(cluster: ProcCluster, runs: int) -> list[float]:
    """SIGTERM the master (planned restart): it hands over leadership before exiting."""
    handover = []
    for _ in range(runs):
        old = _settle(cluster)
        stopped_at = time.monotonic()
        proc = cluster.procs.pop(old)
        proc.terminate()
        proc.wait()
        role = cluster.wait_for(
            lambda t=stopped_at: _first(
                cluster.history(), lambda r: r["ev"] == "role" and r["role"] == "leader" and r["t"] > t
            )
        )
        handover.append(role["t"] - stopped_at)  # type: ignore[index]
        cluster.start(old)
    return handover


def isolation_runs(cluster: ProcCluster, runs: int) -> tuple[list[float], list[float]]:
    believes, lease = [], []
    for _ in range(runs):
        old = _settle(cluster)
        peers = [n for n in cluster.procs if n != old]
        isolated_at = time.monotonic()
        for peer in peers:
            cluster.pause(peer)
        cluster.wait_for(lambda o=old: cluster.latest_roles()[o]["role"] != "leader", timeout_s=40.0)
        history = cluster.history()
        step_down = _first(
            history, lambda r, o=old, t=isolated_at: r["ev"] == "role" and r["node"] == o and r["t"] > t
        )
        leases = [r["until"] for r in history if r["ev"] == "lease" and r["node"] == old]
        assert step_down is not None
        believes.append(step_down["t"] - isolated_at)
        lease.append(max(leases) - isolated_at)
        for peer in peers:
            cluster.resume(peer)
    return believes, lease


def _fmt(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return (
        f"  {name:<44} median {statistics.median(values) * 1000:7.1f} ms   p99 {p99 * 1000:7.1f} ms"
        f"   max {ordered[-1] * 1000:7.1f} ms   (n={len(values)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="kill -9 failover benchmark")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--isolation-runs", type=int, default=5)
    parser.add_argument("--graceful-runs", type=int, default=10)
    parser.add_argument("--sizes", type=int, nargs="+", default=[3, 5])
    parser.add_argument("--load", type=int, default=0, help="busy-loop processes competing for the CPU")
    parser.add_argument(
        "--timing", nargs="*", default=[], metavar="FIELD=VALUE", help="ClusterConfig timing overrides"
    )
    args = parser.parse_args()
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.load)]
    try:
        for size in args.sizes:
            _bench_size(size, args)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


def _bench_size(size: int, args: argparse.Namespace) -> None:
    timing = {key: float(value) for key, value in (item.split("=", 1) for item in args.timing)}
    with tempfile.TemporaryDirectory() as tmp:
        cluster = ProcCluster(Path(tmp), size, **timing)
        cfg = cluster.config
        cluster.start_all()
        try:
            elect, apply = kill_runs(cluster, args.runs)
            believes, lease = isolation_runs(cluster, args.isolation_runs)
            handover = graceful_runs(cluster, args.graceful_runs)
        finally:
            cluster.stop_all()
        terms = max((r["term"] for r in cluster.history() if r["ev"] == "role"), default=0)
    print(
        f"{size} nodes (ET {cfg.election_timeout_min_s}-{cfg.election_timeout_max_s} s, "
        f"heartbeat {cfg.heartbeat_interval_s} s, lease {cfg.leader_lease_s} s, "
        f"TTL {cfg.setpoint_ttl_s} s, CURVE on, {args.load} CPU hogs)"
    )
    induced = args.runs + args.isolation_runs + args.graceful_runs
    print(f"  terms used: {terms} for 1 start + {induced} induced failovers/isolations/handovers")
    print(_fmt("(a) kill -9 -> new leader", elect))
    print(_fmt("(b) kill -9 -> new setpoint applied on all", apply))
    print(_fmt("(c) isolated old leader still 'leader'", believes))
    print(_fmt("(c) isolated old leader's lease remaining", lease))
    print(_fmt("(d) SIGTERM (leadership transfer) -> new leader", handover))


if __name__ == "__main__":
    main()
