"""A follower takes the master's cluster-wide parameters (the control section) when they differ."""

from __future__ import annotations

import json
from pathlib import Path

from masterController.grid_support.frequency_response import FrequencyResponse
from masterController.master.site_params import SiteParams
from masterController.membership.node_state import NodeState
from masterController.transport.codec import CodecError, decode, encode
from sitecontroller.config.loader import load_site
from sitecontroller.node.cluster_link import apply_shares, service_shares
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
    daemon._site_params_from_master(SiteParams(4, "n2", 9, control, {"n1": {"fcrn": (1_000.0, 2_000.0)}}))
    assert daemon.modes.config.site.grid_import_limit_w == 12_345.0
    fcrn = next(iter(daemon.core.frequency_response.products.values()))
    assert fcrn.capacity_w == 1_000.0  # the share the master assigned this node is running
    cached = json.loads((tmp_path / "parameters.json").read_text())
    assert cached["control"]["site"]["grid_import_limit_w"] == 12_345.0
    broken = json.loads(json.dumps(control))
    broken["site"]["grid_import_limit_w"] = "lots"
    daemon._site_params_from_master(SiteParams(4, "n2", 10, broken))
    assert daemon.modes.config.site.grid_import_limit_w == 12_345.0  # the previous ones stay in force


def test_the_master_resplits_grid_service_contracts_over_the_nodes_online() -> None:
    config = load_site(ROOT / "config" / "sim" / "cluster-3.json")
    services = config.control.grid_services.model_copy(
        update={
            "fcrd_up": config.control.grid_services.fcrd_up.model_copy(
                update={"enabled": True, "capacity_w": 6_000.0, "energy_wh": 12_000.0}
            )
        }
    )
    three = [state(n) for n in ("n1", "n2", "n3")]
    shares = service_shares(services, three)
    assert {n: s["fcrd_up"][0] for n, s in shares.items()} == {"n1": 2_000.0, "n2": 2_000.0, "n3": 2_000.0}
    two = service_shares(services, three[:2])  # n3 offline: its share moves to the others
    assert {n: s["fcrd_up"] for n, s in two.items()} == {"n1": (3_000.0, 6_000.0), "n2": (3_000.0, 6_000.0)}
    one = service_shares(services, three[:1])  # 6 kW cannot be covered by one 5 kW node: not assigned
    assert one == {"n1": {}}
    response = FrequencyResponse(services, 5_000.0)
    apply_shares(response, two["n1"])
    assert response.products and next(iter(response.products.values())).capacity_w == 3_000.0
    apply_shares(response, {})
    assert not response.products


def state(node_id: str) -> NodeState:
    return NodeState(node_id, 50.0, 0.0, 5_000.0, 5_000.0, "run", "ok", "test", 10_000.0)
