"""epgm multicast of node states between two network namespaces joined by a veth pair.

Needs root, iproute2 and a Python whose pyzmq was built against a libzmq with PGM, named by
`CLUSTER_EPGM_PYTHON` (see docs/cluster.md: `apt-get install libzmq3-dev`, then in a separate venv
`pip install --no-binary pyzmq pyzmq pydantic`). Skipped otherwise: the PyPI wheel has no PGM.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cluster_procs import REPO

from sitecontroller.config.cluster import ClusterConfig, ClusterMember

PGM_PYTHON = os.environ.get("CLUSTER_EPGM_PYTHON", "")

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(not PGM_PYTHON, reason="CLUSTER_EPGM_PYTHON (a PGM-capable pyzmq) not set"),
    pytest.mark.skipif(os.geteuid() != 0 or shutil.which("ip") is None, reason="needs root and iproute2"),
]


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@pytest.fixture
def two_namespaces() -> Iterator[tuple[str, str]]:
    tag = f"{os.getpid() % 100000}"
    ns_a, ns_b = f"cla{tag}", f"clb{tag}"
    _ip("netns", "add", ns_a)
    _ip("netns", "add", ns_b)
    try:
        _ip("link", "add", f"va{tag}", "type", "veth", "peer", "name", f"vb{tag}")
        for ns, dev, addr in ((ns_a, f"va{tag}", "10.231.0.1/24"), (ns_b, f"vb{tag}", "10.231.0.2/24")):
            _ip("link", "set", dev, "netns", ns)
            _ip("-n", ns, "addr", "add", addr, "dev", dev)
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", ns, "link", "set", dev, "up")
            _ip("-n", ns, "route", "add", "224.0.0.0/4", "dev", dev)
        yield ns_a, ns_b
    finally:
        for ns in (ns_a, ns_b):
            subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True)


def test_node_states_cross_namespaces_over_epgm(two_namespaces: tuple[str, str], tmp_path: Path) -> None:
    members = tuple(
        ClusterMember(
            node_id=f"n{i}",
            election_endpoint=f"tcp://10.231.0.{i + 1}:7101",
            publish_endpoint=f"tcp://10.231.0.{i + 1}:7102",
            lan_ip=f"10.231.0.{i + 1}",
        )
        for i in range(2)
    )
    config = ClusterConfig(enabled=True, members=members, transport="epgm", epgm_group="239.192.1.1:5555")
    path = tmp_path / "cluster.json"
    path.write_text(config.model_dump_json())
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    probes = [
        subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                ns,
                PGM_PYTHON,
                str(Path(__file__).parent / "epgm_probe.py"),
                "--config",
                str(path),
                "--node-id",
                f"n{i}",
            ],
            stdout=subprocess.PIPE,
            env=env,
        )
        for i, ns in enumerate(two_namespaces)
    ]
    results = [json.loads(p.communicate(timeout=30)[0]) for p in probes]
    assert [p.returncode for p in probes] == [0, 0], results
    assert all(r["received_multicast"] > 0 for r in results)
