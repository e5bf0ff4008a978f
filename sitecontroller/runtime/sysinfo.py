"""Facts about this node that survive restarts: firmware, boots, runtime, battery history."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sitecontroller.runtime.atomic import atomic_write_text

HISTORY_LENGTH = 50


@dataclass
class SysInfo:
    firmware_version: str = ""
    last_boot_wall_s: float = 0.0
    boot_count: int = 0
    total_runtime_s: float = 0.0
    last_mode_change_wall_s: float | None = None
    soc_delta_pct: float = 0.0
    soh_pct: float | None = None
    last_fully_charged_wall_s: float | None = None
    last_fully_discharged_wall_s: float | None = None
    bms_sleep_time_s: float = 0.0
    cell_balance_history: list[dict[str, float | str]] = field(default_factory=list)
    raft_term: int = 0

    def record_boot(self, version: str, wall_s: float) -> None:
        self.firmware_version = version
        self.last_boot_wall_s = wall_s
        self.boot_count += 1

    def add_balance_event(self, event: dict[str, float | str]) -> None:
        self.cell_balance_history = [*self.cell_balance_history, event][-HISTORY_LENGTH:]

    def to_json(self) -> dict[str, object]:
        return asdict(self)


class SysInfoStore:
    def __init__(self, path: Path) -> None:
        self._path = path

    def load(self) -> SysInfo:
        try:
            data = json.loads(self._path.read_text())
        except FileNotFoundError:
            return SysInfo()
        except (OSError, ValueError):
            # A damaged file must not stop the node; history restarts, the damage is kept aside.
            self._path.replace(self._path.with_suffix(".corrupt"))
            return SysInfo()
        known = {k: v for k, v in data.items() if k in SysInfo.__dataclass_fields__}
        return SysInfo(**known)

    def save(self, info: SysInfo) -> None:
        atomic_write_text(self._path, json.dumps(info.to_json(), indent=1))
