"""A follower takes the master's cluster-wide parameters (the control section) when they differ."""

from __future__ import annotations

import json
from pathlib import Path

from masterController.master.site_params import SiteParams
from masterController.transport.codec import CodecError, decode, encode
from sitecontroller.config.loader import load_site
from sitecontroller.sim.harness import SimulatedNode

ROOT = Path(__file__).resolve().parents[2]


def test_params_round_trip_on_the_wire_and_refuse_a_non_object() -> None:
    params = SiteParams(3, "n2", 7, {"default_mode": "peak_shaving"})
    assert decode(encode(params)) == params
    raw = json.loads(encode(params))
    raw["body"]["control"] = "peak_shaving"
    try:
        decode(json.dumps(raw).encode())
    except CodecError as exc:
        assert "params.control must be an object" in str(exc)
    else:
        raise AssertionError("a non-object control section was accepted")


async def test_follower_adopts_valid_control_parameters_and_refuses_invalid_ones(tmp_path: Path) -> None:
    config = load_site(ROOT / "config" / "sim" / "cluster-3.json")
    node = SimulatedNode(config, tmp_path)
    daemon = node.daemon
    control = config.control.model_dump(mode="json")
    control["site"]["grid_import_limit_w"] = 12_345.0
    control["grid_services"]["fcrn"].update(enabled=True, capacity_w=3_000.0, energy_wh=6_000.0)
    daemon._site_params_from_master(SiteParams(4, "n2", 9, control))
    assert daemon.modes.config.site.grid_import_limit_w == 12_345.0
    assert daemon.core.frequency_response.products  # the FCR-N share (3 kW / 3 nodes) is running
    cached = json.loads((tmp_path / "parameters.json").read_text())
    assert cached["control"]["site"]["grid_import_limit_w"] == 12_345.0
    broken = json.loads(json.dumps(control))
    broken["site"]["grid_import_limit_w"] = "lots"
    daemon._site_params_from_master(SiteParams(4, "n2", 10, broken))
    assert daemon.modes.config.site.grid_import_limit_w == 12_345.0  # the previous ones stay in force
