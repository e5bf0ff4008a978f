"""The node's identity from the Pi itself: the CPU serial number is unique per board."""

from __future__ import annotations

import re
from pathlib import Path

SERIAL_LINE = re.compile(r"^Serial\s*:\s*([0-9a-fA-F]{8,16})\s*$", re.MULTILINE)


class IdentityError(RuntimeError):
    pass


def cpu_serial(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    match = SERIAL_LINE.search(cpuinfo.read_text(errors="replace"))
    if match is None or set(match.group(1)) == {"0"}:
        raise IdentityError(f"no Raspberry Pi serial number in {cpuinfo} (not a Pi? pass --node-id)")
    return match.group(1).lower()


def node_id_from_serial(serial: str) -> str:
    """`pi-` and the last 8 hex digits: short enough for hostnames, unique per board."""
    return f"pi-{serial[-8:]}"
