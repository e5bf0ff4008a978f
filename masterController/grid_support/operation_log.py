"""The TSO operation/test log (FCR TR §6, test program §11): CSV, ASCII, comma separated, CRLF,
timestamps `YYYYMMDDThhmmss.nnn` (UTC), MW with enough decimals, one file per service and day named
`[Resource]_[Service]_[TestType]_[Area]_[Timezone]_[Interval]_[SamplingRate]_[Date].csv`.
Rows are rate limited to the sampling interval (>= 1 Hz in operation, >= 10 Hz in tests); files
older than the retention are deleted. This is the only module in grid_support that does file I/O.
"""

from __future__ import annotations

import calendar
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from masterController.grid_support.characteristics import DF_MAX_HZ
from masterController.grid_support.fcr import FcrProduct

SERVICE_NAMES = {"fcrn": "Fcrn", "fcrd_up": "FcrdUp", "fcrd_down": "FcrdDo"}


@dataclass(frozen=True, slots=True)
class OperationSample:
    wall_s: float
    power_w: float
    grid_freq_hz: float
    applied_freq_hz: float
    baseline_w: float
    soc_pct: float
    active: bool
    capacity_w: float
    activated_w: float
    endurance_min: float
    nem_w: float
    nem_on: bool
    aem_on: bool
    regulating_strength_w_per_hz: float
    status_ok: bool = True


def operation_sample(
    fcr: FcrProduct,
    *,
    wall_s: float,
    power_w: float,
    grid_freq_hz: float,
    applied_freq_hz: float,
    baseline_w: float,
    soc_pct: float,
) -> OperationSample:
    """One log row for an FCR product from its state after the fast-loop tick."""
    em = fcr.em
    endurance_min = min(fcr.endurance_min(soc_pct / 100.0, baseline_w))
    return OperationSample(
        wall_s=wall_s,
        power_w=power_w,
        grid_freq_hz=grid_freq_hz,
        applied_freq_hz=applied_freq_hz,
        baseline_w=baseline_w,
        soc_pct=soc_pct,
        active=fcr.capacity_w > 0,
        capacity_w=fcr.capacity_w,
        activated_w=fcr.droop_w,
        endurance_min=endurance_min if math.isfinite(endurance_min) else 0.0,
        nem_w=fcr.nem_w,
        nem_on=em is not None and em.nem_allowed != 0,
        aem_on=em is not None and em.aem_on,
        regulating_strength_w_per_hz=fcr.capacity_w / DF_MAX_HZ[fcr.product],
    )


def _timestamp(wall_s: float) -> str:
    whole = int(wall_s)
    millis = round((wall_s - whole) * 1000.0)
    if millis == 1000:
        whole, millis = whole + 1, 0
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime(whole)) + f".{millis:03d}"


def _mw(power_w: float) -> str:
    return f"{power_w / 1e6:.6f}"


def columns(service: str) -> list[str]:
    s = SERVICE_NAMES[service]
    return [
        "DateTime", "InsAcPow", "GridFreq", "ApplFreqSig", "CalcBaseline", f"ContMode_{s}", f"Cap_{s}",
        f"Activated_{s}", f"ResSize_{s}", f"NEM_MW_{s}", f"NEM_{s}", f"AEM_{s}", "SOC", f"RegStr_{s}",
        f"ContStatus_{s}",
    ]  # fmt: skip


def row(sample: OperationSample) -> list[str]:
    s = sample
    return [
        _timestamp(s.wall_s), _mw(s.power_w), f"{s.grid_freq_hz:.4f}", f"{s.applied_freq_hz:.4f}",
        _mw(s.baseline_w), str(int(s.active)), _mw(s.capacity_w), _mw(s.activated_w),
        f"{s.endurance_min:.3f}", _mw(s.nem_w), str(int(s.nem_on)), str(int(s.aem_on)), f"{s.soc_pct:.3f}",
        _mw(s.regulating_strength_w_per_hz), str(int(s.status_ok)),
    ]  # fmt: skip


class OperationLog:
    def __init__(
        self,
        directory: Path,
        resource: str,
        service: str,
        area: str,
        *,
        test_type: str = "Operation",
        interval: str = "24h",
        sampling_s: float = 1.0,
        retention_days: int = 14,
    ) -> None:
        if service not in SERVICE_NAMES:
            raise ValueError(f"service must be one of {sorted(SERVICE_NAMES)}")
        if sampling_s <= 0:
            raise ValueError("sampling_s must be positive")
        self._dir = directory
        self._service = service
        self._prefix = f"{resource}_{SERVICE_NAMES[service]}_{test_type}_{area}_UTC_{interval}"
        self._sampling_s = sampling_s
        self._retention_s = retention_days * 86_400.0
        self._rate = f"{round(sampling_s * 1000)}ms"
        self._file: TextIO | None = None
        self._date = ""
        self._last_wall_s: float | None = None

    def path_for(self, wall_s: float) -> Path:
        date = time.strftime("%Y%m%d", time.gmtime(wall_s))
        return self._dir / f"{self._prefix}_{self._rate}_{date}.csv"

    def record(self, sample: OperationSample) -> bool:
        """Write the sample if a sampling interval has passed; returns whether it was written."""
        last = self._last_wall_s
        # A small tolerance so a 100 ms loop logging at 100 ms never skips a row to float jitter.
        if last is not None and sample.wall_s - last < self._sampling_s * 0.999:
            return False
        self._last_wall_s = sample.wall_s
        date = time.strftime("%Y%m%d", time.gmtime(sample.wall_s))
        if date != self._date or self._file is None:
            self._rotate(sample.wall_s, date)
        assert self._file is not None
        self._file.write(",".join(row(sample)) + "\r\n")
        return True

    def _rotate(self, wall_s: float, date: str) -> None:
        self.close()
        self._dir.mkdir(parents=True, exist_ok=True)
        path = self.path_for(wall_s)
        new = not path.exists()
        self._file = path.open("a", encoding="ascii", newline="")
        if new:
            self._file.write(",".join(columns(self._service)) + "\r\n")
        self._date = date
        self._prune(wall_s)

    def _prune(self, wall_s: float) -> None:
        for old in self._dir.glob(f"{self._prefix}_*.csv"):
            stamp = old.stem.rsplit("_", 1)[-1]
            try:
                file_day_s = calendar.timegm(time.strptime(stamp, "%Y%m%d"))
            except ValueError:
                continue
            if wall_s - file_day_s > self._retention_s + 86_400.0:
                old.unlink()

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
