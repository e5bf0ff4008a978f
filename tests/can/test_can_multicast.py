"""CAN across processes over python-can's udp_multicast interface, inside a network namespace of
our own (host loopback has no multicast here). Needs root and `ip`; opt in with
SITECONTROLLER_NETNS_TESTS=1 (CI runs it)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import textwrap
import uuid

import pytest

pytestmark = pytest.mark.skipif(
    os.environ.get("SITECONTROLLER_NETNS_TESTS") != "1" or os.geteuid() != 0,
    reason="network-namespace test: set SITECONTROLLER_NETNS_TESTS=1 and run as root",
)

GROUP = "239.74.163.2"

RECEIVER = textwrap.dedent(
    f"""
    import argparse
    from sitecontroller.bms.cli import register, run_dump
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["can", "dump", "--interface", "udp_multicast", "--channel", "{GROUP}",
                              "--dbc", "cbms", "--count", "3", "--duration", "20"])
    raise SystemExit(run_dump(args))
    """
)

SENDER = textwrap.dedent(
    f"""
    import struct, sys, time
    import can
    bus = can.Bus(interface="udp_multicast", channel="{GROUP}")
    data = struct.pack("<HhBBBB", 8124, -250, 121, 190, 3, 0)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and sys.stdin.readline():  # one frame per line from the test
        bus.send(can.Message(arbitration_id=0x201, data=data, is_extended_id=False))
    bus.shutdown()
    """
)


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


@pytest.fixture
def netns():
    name = f"scbms{uuid.uuid4().hex[:8]}"
    ip("netns", "add", name)
    try:
        ip("-n", name, "link", "set", "lo", "up")
        ip("-n", name, "link", "set", "lo", "multicast", "on")
        ip("-n", name, "route", "add", "224.0.0.0/4", "dev", "lo")
        yield name
    finally:
        ip("netns", "del", name)


def test_dump_in_one_process_decodes_frames_from_another(netns: str) -> None:
    run = ["ip", "netns", "exec", netns, sys.executable, "-c"]
    receiver = subprocess.Popen([*run, RECEIVER], stdout=subprocess.PIPE, text=True, cwd=os.getcwd())
    sender = subprocess.Popen([*run, SENDER], stdin=subprocess.PIPE, text=True, cwd=os.getcwd())
    try:
        assert sender.stdin is not None
        for _ in range(150):  # the receiver joins the group at its own pace: keep sending until it is done
            if receiver.poll() is not None:
                break
            sender.stdin.write("x\n")
            sender.stdin.flush()
            with contextlib.suppress(subprocess.TimeoutExpired):
                receiver.wait(timeout=0.1)
        out, _ = receiver.communicate(timeout=10)
    finally:
        for proc in (receiver, sender):
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)
    assert receiver.returncode == 0
    assert "RackStatus rack 1 RackVoltage=812.4V RackCurrent=-25A" in out
