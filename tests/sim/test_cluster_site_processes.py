"""`simulate --site config/sim/cluster-3.json`: three node processes on one shared plant.

A real-process test: it waits (bounded) for processes and sockets, never for simulated behaviour.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pymodbus.client import AsyncModbusTcpClient

ROOT = Path(__file__).resolve().parents[2]


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [int(s.getsockname()[1]) for s in sockets]
    for s in sockets:
        s.close()
    return ports


def cluster_site(tmp_path: Path) -> tuple[Path, int]:
    """config/sim/cluster-3.json on free ports (status, SCADA and the cluster endpoints)."""
    text = (ROOT / "config" / "sim" / "cluster-3.json").read_text()
    status_base, scada_base = free_ports(2)
    text = text.replace('"port": 8081', f'"port": {status_base}').replace(
        '"port": 15021', f'"port": {scada_base}'
    )
    for fixed, port in zip(
        ("17101", "17102", "17111", "17112", "17121", "17122"), free_ports(6), strict=True
    ):
        text = text.replace(f"127.0.0.1:{fixed}", f"127.0.0.1:{port}")
    site = tmp_path / "cluster.json"
    site.write_text(text)
    return site, scada_base


def status(url: str) -> dict[str, object] | None:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return json.load(response)
    except OSError:
        return None


def wait_for(what: str, condition: Callable[[], bool], timeout_s: float) -> float:
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout_s:
            raise AssertionError(f"{what}: not within {timeout_s} s")
        time.sleep(0.1)
    return time.monotonic() - start


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path, int]]:
    run_dir = tmp_path / "run"
    site, scada_base = cluster_site(tmp_path)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sitecontroller.cli",
            "simulate",
            "--site",
            str(site),
            "--run-dir",
            str(run_dir),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        yield proc, run_dir, scada_base
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def nodes(run_dir: Path) -> list[dict[str, object]]:
    try:
        return json.loads((run_dir / "nodes.json").read_text())
    except (OSError, ValueError):
        return []


def statuses(run_dir: Path) -> dict[str, dict[str, object] | None]:
    return {str(n["node_id"]): status(str(n["status_url"])) for n in nodes(run_dir)}


def one_leader_all_run(run_dir: Path, expected: int) -> bool:
    docs = [d for d in statuses(run_dir).values() if d is not None]
    leaders = {d["leader_id"] for d in docs}
    return (
        len(docs) == expected
        and all(d["state"] == "Run" for d in docs)
        and sum(d["role"] == "leader" for d in docs) == 1
        and len(leaders) == 1
        and None not in leaders
    )


def test_three_node_processes_elect_one_master_and_survive_its_death(
    cluster: tuple[subprocess.Popen[bytes], Path, int],
) -> None:
    proc, run_dir, scada_base = cluster
    wait_for("three nodes in Run under one leader", lambda: one_leader_all_run(run_dir, 3), 60.0)
    listing = nodes(run_dir)
    assert {n["node_id"] for n in listing} == {"n1", "n2", "n3"}
    docs = statuses(run_dir)
    leader = next(node for node, doc in docs.items() if doc and doc["role"] == "leader")
    term = docs[leader]["term"]  # type: ignore[index]
    assert all(d and d["nodes_online"] == 3 for d in docs.values())
    old_pid = next(int(n["pid"]) for n in listing if n["node_id"] == leader)  # type: ignore[arg-type]

    os.kill(old_pid, signal.SIGKILL)
    survivors = [n for n in ("n1", "n2", "n3") if n != leader]

    def new_leader() -> bool:
        docs = statuses(run_dir)
        live = [docs.get(n) for n in survivors]
        return all(
            d is not None and d["leader_id"] in survivors and int(d["term"]) > int(term)  # type: ignore[arg-type]
            for d in live
        )

    took_s = wait_for("a new leader among the survivors", new_leader, 10.0)
    assert took_s < 5.0
    # The simulator restarts the killed node; it rejoins as a follower and nodes.json has its new pid.
    wait_for("the killed node back as a follower", lambda: one_leader_all_run(run_dir, 3), 60.0)
    restarted = next(n for n in nodes(run_dir) if n["node_id"] == leader)
    assert restarted["pid"] != old_pid
    assert statuses(run_dir)[leader]["role"] == "follower"  # type: ignore[index]

    # SCADA may talk to any node: a follower forwards the write to the master, which commands the site.
    docs = statuses(run_dir)
    follower = next(n for n, d in docs.items() if d and d["role"] == "follower")
    follower_port = scada_base + ["n1", "n2", "n3"].index(follower)
    assert asyncio.run(write_register(follower_port, MODE_REGISTER, PASSIVE)) is None
    wait_for(
        "every node in passive mode",
        lambda: all(d and d["mode"] == "passive" for d in statuses(run_dir).values()),
        10.0,
    )

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


MODE_REGISTER = 101
PASSIVE = 6


async def write_register(port: int, address: int, value: int) -> int | None:
    """The exception code of the answer, None when the write was accepted."""
    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=3, retries=0)
    await client.connect()
    try:
        response = await client.write_registers(address, [value], device_id=1)
    finally:
        client.close()
    return response.exception_code if response.isError() else None
