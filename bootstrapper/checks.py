"""Pre-flight checks: is the wall clock believable (tokens and certificates depend on it), and can
the node reach its cloud endpoint."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

# Nothing this software runs against predates it: an earlier clock means no NTP sync yet.
EARLIEST_BELIEVABLE_WALL_S = 1_767_225_600.0  # 2026-01-01T00:00:00Z


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str


def wall_clock(now_s: float | None = None) -> Check:
    now_s = time.time() if now_s is None else now_s
    ok = now_s >= EARLIEST_BELIEVABLE_WALL_S
    return Check("wall clock", ok, time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(now_s)))


def reachable(host: str, port: int, timeout_s: float = 5.0) -> Check:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return Check(f"reach {host}:{port}", True, "connected")
    except OSError as exc:
        return Check(f"reach {host}:{port}", False, exc.strerror or str(exc))
