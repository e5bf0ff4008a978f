"""Real cluster node processes on loopback: config with free ports, CURVE keys, spawn/kill/pause,
and the merged JSONL history (times are CLOCK_MONOTONIC, shared by all processes on the host)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from masterController.transport.keys import generate_keys
from sitecontroller.config.cluster import ClusterConfig, ClusterMember, CurveConfig

REPO = Path(__file__).resolve().parents[2]


def free_ports(count: int) -> list[int]:
    socks = []
    for _ in range(count):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        socks.append(sock)
    ports = [s.getsockname()[1] for s in socks]
    for sock in socks:
        sock.close()
    return ports


class ProcCluster:
    def __init__(self, root: Path, n_voters: int, *, curve: bool = True, **timing: float) -> None:
        self.root = root
        ports = free_ports(2 * n_voters)
        ids = [f"n{i}" for i in range(n_voters)]
        keys_dir = root / "keys"
        if curve:
            generate_keys(keys_dir, ids)
        self.config = ClusterConfig(
            enabled=True,
            members=tuple(
                ClusterMember(
                    node_id=node_id,
                    election_endpoint=f"tcp://127.0.0.1:{ports[2 * i]}",
                    publish_endpoint=f"tcp://127.0.0.1:{ports[2 * i + 1]}",
                )
                for i, node_id in enumerate(ids)
            ),
            curve=CurveConfig(enabled=curve, keys_dir=str(keys_dir)),
            **timing,
        )
        self.config_path = root / "cluster.json"
        self.config_path.write_text(self.config.model_dump_json())
        self.ids = ids
        self.procs: dict[str, subprocess.Popen] = {}

    def history_path(self, node_id: str) -> Path:
        return self.root / f"{node_id}.jsonl"

    def start(self, node_id: str) -> None:
        cmd = [
            sys.executable,
            "-m",
            "masterController.cluster_node_main",
            "--config",
            str(self.config_path),
            "--node-id",
            node_id,
            "--state-dir",
            str(self.root / "state" / node_id),
            "--history",
            str(self.history_path(node_id)),
        ]
        log = open(self.root / f"{node_id}.log", "a")  # noqa: SIM115 - handed to the child
        self.procs[node_id] = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=log)
        log.close()

    def start_all(self) -> None:
        for node_id in self.ids:
            self.start(node_id)

    def kill(self, node_id: str) -> float:
        proc = self.procs.pop(node_id)
        at = time.monotonic()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self._append(node_id, {"t": at, "node": node_id, "ev": "crash"})
        return at

    def pause(self, node_id: str) -> float:
        os.kill(self.procs[node_id].pid, signal.SIGSTOP)
        return time.monotonic()

    def resume(self, node_id: str) -> None:
        os.kill(self.procs[node_id].pid, signal.SIGCONT)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            os.kill(proc.pid, signal.SIGCONT)
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()

    def _append(self, node_id: str, record: dict) -> None:
        with open(self.history_path(node_id), "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")

    def history(self) -> list[dict]:
        records = []
        for node_id in self.ids:
            path = self.history_path(node_id)
            if path.exists():
                for line in path.read_text(encoding="utf-8").splitlines():
                    if line.strip():
                        records.append(json.loads(line))
        records.sort(key=lambda r: r["t"])
        return records

    def latest_roles(self) -> dict[str, dict]:
        """Each live node's last recorded role record."""
        latest: dict[str, dict] = {}
        for rec in self.history():
            if rec["ev"] == "role" and rec["node"] in self.procs:
                latest[rec["node"]] = rec
        return latest

    def wait_for(self, predicate: Callable[[], object], timeout_s: float = 10.0) -> object:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.02)  # polling real processes, bounded by the deadline
        raise TimeoutError(f"condition not met within {timeout_s} s")

    def agreed_leader(self, exclude: set[str] = frozenset()) -> str | None:  # type: ignore[assignment]
        """The leader every live node (except `exclude`) records, if they all agree."""
        roles = {n: r for n, r in self.latest_roles().items() if n not in exclude}
        live = set(self.procs) - exclude
        if set(roles) != live:
            return None
        leaders = {r["leader"] for r in roles.values()}
        terms = {r["term"] for r in roles.values()}
        if len(leaders) == 1 and len(terms) == 1 and None not in leaders:
            return leaders.pop()
        return None
