"""Cloud link benchmark: drain of a one-week backlog, outbox size on disk, CPU share at 10 s telemetry.

Starts its own Mosquitto (TLS) + hub emulator, fills the outbox with a week of realistic
SC_Spot_10s records (60_480), then runs the real cloud link (`sitecontroller cloud-agent`, the
real SDK) in a subprocess with the production defaults (batch 60, 10 sends/s: far below IoT Hub
S1's 100 sends/s per hub) and measures. Usage: .venv/bin/python bench/cloud_drain.py [--help]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sitecontroller.cloud import telemetry
from sitecontroller.cloud.local import start_local_cloud_sync
from sitecontroller.cloud.outbox import Outbox
from sitecontroller.config.cloud import CloudConfig

REPO = Path(__file__).resolve().parents[1]
WEEK = 7 * 24 * 360


def spot(node_id: str, wall_s: float, i: int) -> str:
    status = {
        "node_id": node_id,
        "state": "Run",
        "mode": "SelfConsumption",
        "role": "leader",
        "term": 4,
        "leader_id": node_id,
        "soc_pct": 50 + (i % 40) * 0.5,
        "battery_power_w": -3200.0 + i % 97,
        "setpoint_w": -3200.0,
        "grid_power_w": 120.5,
        "frequency_hz": 50.01,
        "charge_limit_w": 10000.0,
        "discharge_limit_w": 10000.0,
        "limiting_source": "none",
        "errors": [],
        "uptime_s": i * 10.0,
        "version": "1.0.0",
    }
    devices = {
        "bms": {
            "cell_v": [3.301 + (c + i) % 7 * 0.001 for c in range(16)],
            "cell_temp_c": [24.0 + c % 3 for c in range(8)],
            "soc_pct": 50.2,
            "soh_pct": 98.0,
            "current_a": -62.1,
            "voltage_v": 52.9,
        },
        "inverter": {"power_w": -3199.0, "reactive_power_var": 0.0, "dc_voltage_v": 52.8, "temp_c": 41.0},
        "meters": {
            "grid": {
                "power_w": 120.5,
                "voltage_v": [230.1, 229.8, 231.0],
                "current_a": [1.1, 0.9, 1.2],
                "energy_import_wh": 1234567 + i,
            }
        },
        "climate": {"cabinet_temp_c": 27.5, "fan_pct": 30},
        "buttons": {"stop": False},
    }
    link = {"state": "backoff", "last_error": "", "outbox_records": i, "outbox_bytes": 0, "outbox_dropped": 0}
    return telemetry.encode(telemetry.spot_record(node_id, wall_s, status, devices, link))


def disk_bytes(db: Path) -> int:
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=WEEK)
    parser.add_argument("--batch-size", type=int, default=CloudConfig().batch_size)
    parser.add_argument("--max-sends-per-s", type=float, default=CloudConfig().max_sends_per_s)
    parser.add_argument("--cpu-window-s", type=float, default=60.0)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cloud-bench-"))
    cloud = start_local_cloud_sync(work, "bench-node")
    db = work / "state" / "cloud" / "outbox.sqlite3"
    outbox = Outbox(db, CloudConfig().outbox_max_records, CloudConfig().outbox_max_bytes)
    t0 = time.monotonic()
    wall = 1_790_000_000.0
    for start in range(0, args.records, 5000):
        n = min(5000, args.records - start)
        outbox.append_many(
            [(telemetry.SPOT, spot("bench-node", wall + 10.0 * (start + k), start + k)) for k in range(n)]
        )
    fill_s = time.monotonic() - t0
    stats = outbox.stats()
    outbox.close()
    print(
        f"backlog: {stats.count} records ({stats.count / WEEK:.2f} weeks), "
        f"{stats.bytes / 1e6:.1f} MB of JSON, outbox on disk {disk_bytes(db) / 1e6:.1f} MB "
        f"(filled in {fill_s:.1f} s)"
    )

    config = {
        "enabled": True,
        "connection_string": cloud.connection_string,
        "server_ca_file": str(cloud.ca_file),
        "batch_size": args.batch_size,
        "max_sends_per_s": args.max_sends_per_s,
        "releases_dir": str(work / "opt"),
    }
    agent = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sitecontroller.cli",
            "cloud-agent",
            "--state-dir",
            str(work / "state"),
            "--node-id",
            "bench-node",
            "--config",
            json.dumps(config),
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=(work / "agent.log").open("wb"),
    )
    try:
        target = stats.newest_seq or 0
        t0 = time.monotonic()
        cloud.emulator.wait_for(lambda e: bool(e.telemetry), 30)
        first_s = time.monotonic() - t0
        done = cloud.emulator.wait_for(
            lambda e: bool(e.telemetry) and int(e.telemetry[-1].properties.get("last_seq", 0)) >= target, 3600
        )
        drain_s = time.monotonic() - t0
        messages = len(cloud.emulator.telemetry)
        wire = sum(len(m.body) for m in cloud.emulator.telemetry)
        print(
            f"drain: {'complete' if done else 'INCOMPLETE'} in {drain_s:.1f} s = {drain_s / 60:.2f} min "
            f"({stats.count / drain_s:.0f} records/s, {messages} messages, {messages / drain_s:.1f} msgs/s, "
            f"batch {args.batch_size}, cap {args.max_sends_per_s}/s; first message after {first_s:.1f} s)"
        )
        print(
            f"wire: {wire / 1e6:.1f} MB gzip ({wire / max(messages, 1) / 1024:.1f} KiB/message; "
            f"IoT Hub meters {sum((len(m.body) + 4095) // 4096 for m in cloud.emulator.telemetry)} x 4 KB)"
        )
        c0, w0 = cpu_s(agent.pid), time.monotonic()
        time.sleep(args.cpu_window_s)
        share = (cpu_s(agent.pid) - c0) / (time.monotonic() - w0)
        print(
            f"steady state (SC_Spot_10s every 10 s): cloud-agent CPU {100 * share:.2f} % of one core "
            f"over {args.cpu_window_s:.0f} s"
        )
    finally:
        agent.terminate()
        agent.wait(10)
        cloud.close()
    print(f"machine: {os.cpu_count()} cores shared with other engineers' tests (figures measured under load)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
