"""Outage: a (time-compressed) week of telemetry while the broker is down, then the drain; and
kill -9 of the cloud process during the drain. Every committed record arrives, in order.

CLOUD_OUTAGE_RECORDS sets the backlog (default: one week of 10 s records = 60_480).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from cloudtest_support import REPO, async_wait_until, wait_until

from sitecontroller.cloud import telemetry
from sitecontroller.cloud.outbox import Outbox
from sitecontroller.core.clock import SimClock

WEEK_RECORDS = int(os.environ.get("CLOUD_OUTAGE_RECORDS", str(7 * 24 * 360)))


def fill(outbox: Outbox, node_id: str, count: int) -> list[int]:
    """`count` SC_Spot_10s records stamped 10 s apart (the week, compressed)."""
    clock = SimClock(wall_s=1_790_000_000.0)
    seqs: list[int] = []
    for start in range(0, count, 5000):
        chunk = []
        for _ in range(min(5000, count - start)):
            clock.advance(10.0)
            status = {"node_id": node_id, "state": "Run", "mode": "SelfConsumption", "soc_pct": 50.0}
            chunk.append(
                (
                    telemetry.SPOT,
                    telemetry.encode(
                        telemetry.spot_record(
                            node_id,
                            clock.wall(),
                            status,
                            {"bms": {"cell_max_v": 3.31}},
                            {
                                "state": "backoff",
                                "last_error": "",
                                "outbox_records": 0,
                                "outbox_bytes": 0,
                                "outbox_dropped": 0,
                            },
                        )
                    ),
                )
            )
        seqs.extend(outbox.append_many(chunk))
    return seqs


def seqs_received(hub: Any) -> list[int]:
    return [r["seq"] for r in hub.emulator.records()]


def missing(expected: list[int], hub: Any) -> set[int]:
    return set(expected) - set(seqs_received(hub))


async def test_week_outage_then_ordered_drain_without_loss(start_node: Any, private_hub: Any) -> None:
    node = await start_node(telemetry_interval_s=3600.0, batch_size=120)
    assert await async_wait_until(lambda: len(seqs_received(private_hub)) >= 1, 5)
    private_hub.broker.stop()
    assert await async_wait_until(lambda: node.service.connection_state != "connected", 15)

    backlog = fill(node.service.outbox, private_hub.device_id, WEEK_RECORDS)
    private_hub.broker.start()
    assert await async_wait_until(lambda: node.service.outbox.stats().count == 0, 120), (
        node.service.link_status()
    )
    assert await async_wait_until(lambda: len(missing(backlog, private_hub)) == 0, 30), (
        f"{len(missing(backlog, private_hub))} of {len(backlog)} records never arrived"
    )

    received = seqs_received(private_hub)
    assert len(received) == len(set(received)), "every record exactly once"
    assert received == sorted(received), "in order"
    assert node.service.outbox.stats().dropped == 0


def test_kill_9_during_drain_loses_nothing_committed(private_hub: Any, tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    count = min(WEEK_RECORDS, 6_000)
    outbox = Outbox(state_dir / "cloud" / "outbox.sqlite3", 100_000, 80_000_000)
    committed = fill(outbox, private_hub.device_id, count)
    outbox.close()
    config = json.dumps(
        {
            "enabled": True,
            "connection_string": private_hub.connection_string,
            "server_ca_file": private_hub.ca_file,
            "batch_size": 20,
            "max_sends_per_s": 40.0,
            "releases_dir": str(tmp_path / "opt"),
            "backoff_initial_s": 0.2,
            "backoff_max_s": 1.0,
        }
    )
    command = [
        sys.executable,
        "-m",
        "sitecontroller.cli",
        "cloud-agent",
        "--state-dir",
        str(state_dir),
        "--node-id",
        private_hub.device_id,
        "--config",
        config,
    ]

    def agent() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=(tmp_path / "agent.log").open("ab")
        )

    first = agent()
    try:
        assert wait_until(lambda: len(seqs_received(private_hub)) >= count // 4, 60)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        first.kill()
    db = sqlite3.connect(state_dir / "cloud" / "outbox.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()

    second = agent()
    try:
        assert wait_until(lambda: not missing(committed, private_hub), 90), (
            f"{len(missing(committed, private_hub))} committed records lost"
        )
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(10)
    received = seqs_received(private_hub)
    first_arrivals = list(dict.fromkeys(received))
    assert first_arrivals == sorted(first_arrivals), "drain order kept across the kill"
    # At-least-once: at most the one in-flight batch is sent again; the cloud de-duplicates on seq.
    assert len(received) - len(first_arrivals) <= 20
