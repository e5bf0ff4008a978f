"""Durable store-and-forward outbox for telemetry (SQLite in WAL mode).

Records are committed (fsynced, synchronous=FULL) before anything is sent and deleted only after
the hub acknowledged the message that carried them, so a kill -9 or power loss loses nothing
committed; at worst a record is sent twice and the cloud de-duplicates on its sequence number.
Bounded by record count and bytes: the oldest records go first and are counted.

All methods are blocking but short; the async side calls them through `asyncio.to_thread`.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class Record:
    seq: int
    kind: str
    body: str  # compact JSON of one telemetry record (without its seq)


@dataclass(frozen=True, slots=True)
class OutboxStats:
    count: int
    bytes: int
    dropped: int
    oldest_seq: int | None
    newest_seq: int | None


class Outbox:
    def __init__(self, path: Path, max_records: int, max_bytes: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._max_records = max_records
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: every commit is fsynced to the WAL, so "committed" survives power loss.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._count, self._bytes = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(body)), 0) FROM records"
        ).fetchone()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def append(self, kind: str, body: str) -> int:
        """Commit one record; returns its sequence number (strictly increasing, never reused)."""
        return self.append_many([(kind, body)])[0]

    def append_many(self, items: list[tuple[str, str]]) -> list[int]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                seqs = []
                for kind, body in items:
                    cur = self._db.execute("INSERT INTO records (kind, body) VALUES (?, ?)", (kind, body))
                    seqs.append(int(cur.lastrowid or 0))
                    self._count += 1
                    self._bytes += len(body)  # bodies are ASCII JSON: chars == bytes
                self._enforce_bounds()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                self._recount()
                raise
            return seqs

    def peek(self, limit: int) -> list[Record]:
        """The oldest records, in sequence order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, kind, body FROM records ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        return [Record(seq, kind, body) for seq, kind, body in rows]

    def ack(self, up_to_seq: int) -> None:
        """The hub acknowledged everything up to and including `up_to_seq`."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM records WHERE seq <= ?", (up_to_seq,))
            self._db.execute("COMMIT")
            self._recount()

    def stats(self) -> OutboxStats:
        with self._lock:
            lo, hi = self._db.execute("SELECT MIN(seq), MAX(seq) FROM records").fetchone()
            return OutboxStats(self._count, self._bytes, self._dropped(), lo, hi)

    def _dropped(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'dropped'").fetchone()
        return int(row[0]) if row else 0

    def _enforce_bounds(self) -> None:
        if self._count <= self._max_records and self._bytes <= self._max_bytes:
            return
        # Drop oldest first, in chunks, until both bounds hold; the count goes out in telemetry.
        dropped = 0
        while self._count > self._max_records or self._bytes > self._max_bytes:
            excess = max(self._count - self._max_records, 1)
            rows = self._db.execute(
                "SELECT seq, LENGTH(body) FROM records ORDER BY seq LIMIT ?", (min(excess, 1000),)
            ).fetchall()
            if not rows:
                break
            self._db.execute("DELETE FROM records WHERE seq <= ?", (rows[-1][0],))
            dropped += len(rows)
            self._count -= len(rows)
            self._bytes -= sum(size for _, size in rows)
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES ('dropped', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = value + excluded.value",
            (dropped,),
        )

    def _recount(self) -> None:
        self._count, self._bytes = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(body)), 0) FROM records"
        ).fetchone()
