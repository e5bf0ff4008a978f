"""Logging: human lines to stdout (journald adds its own timestamps and reads the <N> priority
prefix), and JSON lines to a rotating file for upload and machine reading."""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import sys
from pathlib import Path

# sd-daemon(3) priorities: journald files each stdout line under the level its prefix names.
_SYSLOG_PRIORITY = {
    logging.DEBUG: 7,
    logging.INFO: 6,
    logging.WARNING: 4,
    logging.ERROR: 3,
    logging.CRITICAL: 2,
}


class JournalFormatter(logging.Formatter):
    def __init__(self, journald: bool) -> None:
        fmt = "%(name)s: %(message)s" if journald else "%(asctime)s %(levelname)-8s %(name)s: %(message)s"
        super().__init__(fmt)
        self._journald = journald

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        return f"<{_SYSLOG_PRIORITY.get(record.levelno, 6)}>{line}" if self._journald else line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": record.created,
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: str, log_file: Path | None, max_bytes: int, backups: int) -> None:
    root = logging.getLogger()
    root.setLevel(level)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    console = logging.StreamHandler(sys.stdout)
    console.setFormatter(JournalFormatter(journald="JOURNAL_STREAM" in os.environ))
    root.addHandler(console)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        rotating = logging.handlers.RotatingFileHandler(log_file, maxBytes=max_bytes, backupCount=backups)
        rotating.setFormatter(JsonFormatter())
        root.addHandler(rotating)
    # The IoT SDK and pymodbus are chatty at INFO; their warnings still come through.
    for noisy in ("azure", "paho", "pymodbus", "can"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
