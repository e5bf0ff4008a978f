"""Pack outbox records into IoT Hub messages: gzip JSON envelopes under the 256 KB cap."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass

from sitecontroller.cloud.outbox import Record
from sitecontroller.cloud.telemetry import SCHEMA_VERSION

BATCH_SCHEMA = "sitecontroller.telemetry.batch"


@dataclass(frozen=True, slots=True)
class Batch:
    first_seq: int
    last_seq: int
    count: int
    body: bytes  # gzip-compressed JSON envelope
    message_id: str


def _envelope(node_id: str, records: list[Record]) -> bytes:
    # Records are already JSON; splice them in (with their seq) instead of parsing them again.
    parts = [f'{{"seq":{r.seq},' + r.body[1:] if r.body != "{}" else f'{{"seq":{r.seq}}}' for r in records]
    head = json.dumps(
        {
            "schema": BATCH_SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "node_id": node_id,
            "first_seq": records[0].seq,
            "last_seq": records[-1].seq,
            "count": len(records),
        },
        separators=(",", ":"),
    )
    text = head[:-1] + ',"records":[' + ",".join(parts) + "]}"
    # mtime=0: the same records always give the same bytes (deterministic retries).
    return gzip.compress(text.encode(), compresslevel=6, mtime=0)


def pack(node_id: str, records: list[Record], max_bytes: int) -> Batch:
    """The longest prefix of `records` whose compressed message fits in `max_bytes`.

    Raises ValueError if even a single record does not fit (the caller drops and counts it).
    """
    n = len(records)
    while n > 0:
        body = _envelope(node_id, records[:n])
        if len(body) <= max_bytes:
            first, last = records[0].seq, records[n - 1].seq
            return Batch(first, last, n, body, f"{node_id}-{first}-{last}")
        n = n // 2
    raise ValueError(f"record {records[0].seq} alone exceeds {max_bytes} bytes compressed")


def unpack(body: bytes) -> dict[str, object]:
    """Inverse of pack (used by the hub emulator, the tests and cloud-side consumers)."""
    return json.loads(gzip.decompress(body))
