"""Runs the simulated single-node site in real time and prints its CPU use and peak memory.

    .venv/bin/python bench/node_load.py [--duration 60] [--devices direct|emulated|both]

`direct`: the node with its devices coupled in-process (the daemon's own cost). `emulated`: the
same node reaching a BMS emulator over CAN and inverter/meter emulators over Modbus TCP, all in the
one process (the emulators' servers and the plant are included in the figure).
Target (issue 2): under 2 % of one core and under 120 MB peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--devices", choices=["emulated", "direct", "both"], default="both")
    args = parser.parse_args()
    for mode in ("direct", "emulated") if args.devices == "both" else (args.devices,):
        print(json.dumps({"devices": mode, **measure(mode, args.duration)}))


def measure(mode: str, duration_s: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site.json"
        text = (ROOT / "config/sim/single-node.json").read_text()
        ports = text.replace('"port": 8080', f'"port": {free_port()}')
        site.write_text(ports.replace('"port": 15020', f'"port": {free_port()}'))
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sitecontroller.cli",
                "simulate",
                "--site",
                str(site),
                "--state-dir",
                tmp,
                "--devices",
                mode,
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(5.0)  # start-up (imports) is not the steady state being measured
        cpu_start = cpu_seconds(proc.pid)
        wall_start = time.monotonic()
        time.sleep(duration_s)
        cpu_used = cpu_seconds(proc.pid) - cpu_start
        wall = time.monotonic() - wall_start
        rss = peak_rss_mb(proc.pid)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    return {
        "duration_s": round(wall, 1),
        "cpu_s_per_minute": round(cpu_used / wall * 60.0, 3),
        "cpu_pct_of_one_core": round(cpu_used / wall * 100.0, 2),
        "peak_rss_mb": round(rss, 1),
        "exit_code": proc.returncode,
    }


if __name__ == "__main__":
    main()
