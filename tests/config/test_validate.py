"""`sitecontroller config validate`: every problem reported with its field path; nothing defaulted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sitecontroller.cli import main
from sitecontroller.config.cache import ParameterCache
from sitecontroller.config.loader import ConfigError, load_site, merge_patch, validate_site
from sitecontroller.config.site import SiteConfig

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted([ROOT / "config" / "site.example.json", *(ROOT / "config" / "sim").glob("*.json")])


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_configurations_are_valid(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "validate", str(path)]) == 0
    assert "valid" in capsys.readouterr().out


def test_every_problem_is_listed_with_its_field_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        """{
          // comments are allowed: people edit these files
          "identity": {"node_id": "Node 1", "sitee": "x"},
          "limits": {"max_charge_power_w": "5000", "soc_min_pct": 80.0},
          "loops": {"fast_loop_s": 0.001},
          "status": {"port": 70000},
        }"""
    )
    assert main(["config", "validate", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "6 problem(s)" in err
    for expected in (
        "identity.node_id: String should match pattern",
        "identity.sitee: unknown key",
        "limits.max_charge_power_w: Input should be a valid number (got '5000')",
        "limits.soc_min_pct: Input should be less than or equal to 50 (got 80.0)",
        "loops.fast_loop_s: Input should be greater than or equal to 0.02",
        "status.port: Input should be less than or equal to 65535",
    ):
        assert expected in err


def test_cross_field_rules_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        validate_site({"limits": {"soc_min_pct": 50.0, "soc_max_pct": 50.0}})
    assert any("soc_min_pct must be below soc_max_pct" in str(p) for p in caught.value.problems)


def test_unreadable_and_malformed_files_get_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["config", "validate", str(tmp_path / "missing.json")]) == 1
    assert "cannot read" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text('{"identity": {')
    assert main(["config", "validate", str(broken)]) == 1
    assert "not valid JSON" in capsys.readouterr().err
    top = tmp_path / "list.json"
    top.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="top level must be an object"):
        load_site(top)


def test_nan_and_booleans_are_not_numbers() -> None:
    with pytest.raises(ConfigError) as caught:
        validate_site({"limits": {"max_charge_power_w": float("nan"), "max_discharge_power_w": True}})
    paths = {p.path for p in caught.value.problems}
    assert paths == {"limits.max_charge_power_w", "limits.max_discharge_power_w"}


def test_cache_round_trips_atomically_and_survives_restart(tmp_path: Path) -> None:
    config = validate_site({"identity": {"node_id": "n7"}, "limits": {"soc_min_pct": 12.0}})
    cache = ParameterCache(tmp_path / "params.json")
    cache.save(config)
    assert ParameterCache(tmp_path / "params.json").load() == config
    assert [p.name for p in tmp_path.iterdir()] == ["params.json"]  # no temp file left behind


def test_damaged_cache_is_ignored_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "params.json"
    path.write_text(json.dumps({"limits": {"soc_min_pct": -5}}))
    assert ParameterCache(path).load() is None


def test_merge_patch_is_rfc7386() -> None:
    base = {"a": {"b": 1, "c": 2}, "d": 3}
    assert merge_patch(base, {"a": {"b": None, "e": 4}, "d": 5}) == {"a": {"c": 2, "e": 4}, "d": 5}


def test_defaults_are_a_valid_site() -> None:
    assert isinstance(SiteConfig(), SiteConfig)
