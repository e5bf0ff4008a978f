from __future__ import annotations

from pathlib import Path

import pytest

from masterController.grid_support.operation_log import OperationLog, OperationSample, columns

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def sample(wall_s: float, power_w: float = 1_234_567.0) -> OperationSample:
    return OperationSample(
        wall_s=wall_s, power_w=power_w, grid_freq_hz=49.95, applied_freq_hz=49.95, baseline_w=0.0,
        soc_pct=55.5, active=True, capacity_w=2e6, activated_w=1e6, endurance_min=42.0, nem_w=0.0,
        nem_on=False, aem_on=False, regulating_strength_w_per_hz=2e7,
    )  # fmt: skip


def test_naming_format_rate_limit_and_rotation(tmp_path: Path) -> None:
    log = OperationLog(
        tmp_path, "BESS1", "fcrd_up", "SE3", test_type="Test", interval="30min", sampling_s=0.1
    )
    written = [log.record(sample(T0 + 86_400.0 - 0.3 + k * 0.05)) for k in range(12)]
    log.close()
    assert sum(written) == 6  # every other 50 ms sample at 100 ms
    day1 = tmp_path / "BESS1_FcrdUp_Test_SE3_UTC_30min_100ms_20260101.csv"
    day2 = tmp_path / "BESS1_FcrdUp_Test_SE3_UTC_30min_100ms_20260102.csv"
    assert day1.exists() and day2.exists()
    raw = day1.read_bytes()
    assert raw.count(b"\r\n") == raw.count(b"\n")  # CRLF line ends
    lines = raw.decode("ascii").split("\r\n")
    assert lines[0].split(",") == columns("fcrd_up")
    fields = lines[1].split(",")
    assert fields[0] == "20260101T235959.700"
    assert fields[1] == "1.234567"  # MW, enough decimals


def test_old_files_are_pruned(tmp_path: Path) -> None:
    old = tmp_path / "BESS1_Fcrn_Operation_SE3_UTC_24h_1000ms_20251201.csv"
    keep = tmp_path / "BESS1_Fcrn_Operation_SE3_UTC_24h_1000ms_20251225.csv"
    old.write_text("x")
    keep.write_text("x")
    log = OperationLog(tmp_path, "BESS1", "fcrn", "SE3", retention_days=14)
    log.record(sample(T0))
    log.close()
    assert not old.exists() and keep.exists()


def test_sample_from_an_fcr_product() -> None:
    from masterController.grid_support.characteristics import Fcr
    from masterController.grid_support.fcr import FcrProduct
    from masterController.grid_support.operation_log import operation_sample

    fcr = FcrProduct(Fcr.D_UP, 1e6, 1e6, nem_gain=0.2, energy_management=True)
    fcr.update(49.7, 0.5, 0.0)
    s = operation_sample(
        fcr, wall_s=T0, power_w=4.9e5, grid_freq_hz=49.7, applied_freq_hz=49.7, baseline_w=0.0, soc_pct=50.0
    )
    assert s.activated_w == pytest.approx(5e5) and s.regulating_strength_w_per_hz == pytest.approx(2.5e6)
    assert s.endurance_min == 30.0 and not s.nem_on and not s.aem_on
