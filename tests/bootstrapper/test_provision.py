"""First-boot provisioning into a temporary root: identity, parameters, keys, systemd files, resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bootstrapper.__main__ import main
from bootstrapper.checks import wall_clock
from bootstrapper.identity import IdentityError, cpu_serial, node_id_from_serial
from bootstrapper.provision import Plan, provision
from sitecontroller.config.loader import load_site

ROOT = Path(__file__).resolve().parents[2]


def plan(tmp_path: Path, **overrides: object) -> Plan:
    values: dict[str, object] = {
        "root": tmp_path,
        "node_id": "pi-1a2b3c4d",
        "site_id": "farm-1",
        "template": ROOT / "config/site.example.json",
        "systemd_dir": ROOT / "systemd",
        "cluster_keys": True,
    }
    values.update(overrides)
    return Plan(**values)  # type: ignore[arg-type]


def test_serial_from_cpuinfo(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nHardware\t: BCM2835\nSerial\t\t: 100000001a2b3c4d\nModel\t: Pi 4\n")
    assert node_id_from_serial(cpu_serial(cpuinfo)) == "pi-1a2b3c4d"
    cpuinfo.write_text("processor\t: 0\n")
    with pytest.raises(IdentityError, match="no Raspberry Pi serial"):
        cpu_serial(cpuinfo)


def test_provisioning_writes_a_valid_node_and_resumes_without_redoing(tmp_path: Path) -> None:
    the_plan = plan(tmp_path)
    done = provision(the_plan, report=lambda _: None)
    config = load_site(the_plan.site_file)
    assert (config.identity.node_id, config.identity.site_id) == ("pi-1a2b3c4d", "farm-1")
    assert (the_plan.keys_dir / "pi-1a2b3c4d.key_secret").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "etc/systemd/system/sitecontroller.service").exists()
    assert set(done) == {"site_parameters", "cluster_keys", "systemd_files"}
    # An installer edits the parameters; a second run must neither redo nor overwrite anything.
    edited = json.loads(the_plan.site_file.read_text())
    edited["identity"]["name"] = "cabinet 7"
    the_plan.site_file.write_text(json.dumps(edited))
    lines: list[str] = []
    provision(the_plan, report=lines.append)
    assert all("done earlier" in line for line in lines)
    assert load_site(the_plan.site_file).identity.name == "cabinet 7"


def test_an_interrupted_run_continues_from_the_failed_step(tmp_path: Path) -> None:
    broken = plan(tmp_path, systemd_dir=tmp_path / "missing")
    with pytest.raises(FileNotFoundError):
        provision(broken, report=lambda _: None)
    state = json.loads(broken.state_file.read_text())
    assert set(state) == {"site_parameters", "cluster_keys"}
    assert set(provision(plan(tmp_path), report=lambda _: None)) == set(state) | {"systemd_files"}


def test_an_unbelievable_clock_stops_provisioning_before_any_change(tmp_path: Path) -> None:
    assert not wall_clock(0.0).ok
    assert (
        main(
            [
                "--site-id",
                "farm-1",
                "--node-id",
                "pi-1",
                "--root",
                str(tmp_path),
                "--check-host",
                "127.0.0.1:1",
            ]
        )
        == 1
    )
    assert not (tmp_path / "etc").exists()
