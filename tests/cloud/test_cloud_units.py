"""Unit tests of the cloud link's pure parts: outbox, batching, backoff, settings, twin, OTA."""

from __future__ import annotations

import io
import os
import random
import tarfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sitecontroller.cloud.batching import pack, unpack
from sitecontroller.cloud.ota.health import HealthFacts, decide
from sitecontroller.cloud.ota.manifest import (
    ArtifactRejected,
    Manifest,
    check_version,
    sign_manifest,
    verify_manifest,
)
from sitecontroller.cloud.ota.releases import ReleaseStore
from sitecontroller.cloud.outbox import Outbox
from sitecontroller.cloud.settings import CloudSettingsError, resolve_endpoint
from sitecontroller.cloud.twin import TwinHandler, lists_from_maps, maps_from_lists
from sitecontroller.config.cloud import CloudConfig
from sitecontroller.core.backoff import Backoff


def test_outbox_orders_acks_and_survives_reopen(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", 100, 1_000_000)
    seqs = box.append_many([("k", f'{{"i":{i}}}') for i in range(10)])
    assert seqs == sorted(seqs) and len(set(seqs)) == 10
    assert [r.seq for r in box.peek(3)] == seqs[:3]
    box.ack(seqs[4])
    box.close()
    again = Outbox(tmp_path / "o.db", 100, 1_000_000)
    assert [r.seq for r in again.peek(100)] == seqs[5:]
    assert again.append("k", "{}") > seqs[-1], "sequence numbers are never reused"


def test_outbox_bounds_drop_oldest_and_count(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", 50, 10_000)
    box.append_many([("k", f'{{"i":{i:05d}}}') for i in range(80)])
    stats = box.stats()
    assert stats.count == 50 and stats.dropped == 30
    assert box.peek(1)[0].body == '{"i":00030}'
    box.append_many([("k", "x" * 4000) for _ in range(3)])
    stats = box.stats()
    assert stats.bytes <= 10_000 and stats.dropped > 30


def test_pack_fits_the_size_limit_and_round_trips(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", 10_000, 100_000_000)
    box.append_many([("k", f'{{"noise":"{os.urandom(600).hex()}"}}') for _ in range(400)])
    records = box.peek(400)
    batch = pack("n1", records, 100_000)
    assert len(batch.body) <= 100_000 and 0 < batch.count < 400
    doc = unpack(batch.body)
    assert [r["seq"] for r in doc["records"]] == [r.seq for r in records[: batch.count]]
    assert doc["first_seq"] == batch.first_seq and doc["last_seq"] == batch.last_seq
    with pytest.raises(ValueError):
        pack("n1", records, 200)


def test_backoff_is_jittered_exponential_and_capped() -> None:
    backoff = Backoff(1.0, 30.0, random.Random(7))
    delays = [backoff.next_delay_s() for _ in range(12)]
    assert all(0.5 <= d <= 30.0 for d in delays)
    assert max(delays[8:]) > 4.0, "grows"
    other = Backoff(1.0, 30.0, random.Random(8))
    assert delays != [other.next_delay_s() for _ in range(12)], "nodes do not retry in lock-step"


def test_environment_overrides_configuration(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("PEM")
    config = CloudConfig(connection_string="HostName=a;DeviceId=b;SharedAccessKey=c")
    env = {
        "SITECONTROLLER_IOTHUB_CONNECTION_STRING": "HostName=h;DeviceId=d;SharedAccessKey=k",
        "SITECONTROLLER_IOTHUB_CA_FILE": str(ca),
    }
    endpoint = resolve_endpoint(config, env)
    assert endpoint.device_id == "d" and endpoint.server_ca_pem == "PEM"
    with pytest.raises(CloudSettingsError, match="no IoT Hub identity"):
        resolve_endpoint(CloudConfig(), {})
    with pytest.raises(CloudSettingsError, match="DeviceId"):
        resolve_endpoint(CloudConfig(connection_string="HostName=h;SharedAccessKey=k"), {})


def test_twin_maps_stand_for_lists() -> None:
    assert lists_from_maps({"m": {"0": {"a": 1}, "1": {"a": 2}}, "x": {"1": 3}}) == {
        "m": [{"a": 1}, {"a": 2}],
        "x": {"1": 3},
    }
    assert lists_from_maps(maps_from_lists({"m": [1, [2]]})) == {"m": [1, [2]]}


class _Params:
    def __init__(self) -> None:
        self.doc: dict[str, object] = {"a": 1}

    def current(self) -> dict[str, object]:
        return dict(self.doc)

    def apply(self, candidate: dict[str, object], version: int | None) -> list[tuple[str, str]]:
        if not isinstance(candidate.get("a"), int):
            return [("a", "must be an integer")]
        self.doc = candidate
        return []


def test_twin_handler_acks_versions_and_ignores_repeats() -> None:
    params = _Params()
    twin = TwinHandler(params)  # type: ignore[arg-type]
    assert twin.on_desired_patch({"$version": 2, "other": 1}) is None
    rejected = twin.on_desired_patch({"$version": 3, "site_parameters": {"a": "x"}})
    assert rejected is not None and rejected["site_parameters_ack"]["ac"] == 400 and params.doc == {"a": 1}
    applied = twin.on_desired_patch({"$version": 4, "site_parameters": {"a": 5}})
    assert applied is not None and applied["site_parameters_ack"] == {
        "ac": 200,
        "av": 4,
        "ad": "applied",
        "errors": None,
    }
    assert twin.on_full_twin({"desired": {"$version": 4, "site_parameters": {"a": 5}}}) is None


def _manifest(version: str = "1.2.0", **extra: object) -> Manifest:
    return Manifest(
        name="sc", artifact_type="software", version=version, size_bytes=1, sha256="0" * 64, **extra
    )  # type: ignore[arg-type]


def test_manifest_signature_and_downgrade_rules() -> None:
    key = Ed25519PrivateKey.generate()
    manifest = _manifest()
    signature = sign_manifest(key, manifest)
    assert verify_manifest(key.public_key(), manifest.model_dump(), signature) == manifest
    with pytest.raises(ArtifactRejected, match="no OTA public key"):
        verify_manifest(None, manifest.model_dump(), signature)
    with pytest.raises(ArtifactRejected, match="invalid"):
        verify_manifest(key.public_key(), manifest.model_dump() | {"size_bytes": 2}, signature)
    with pytest.raises(ArtifactRejected, match="unsigned"):
        verify_manifest(key.public_key(), manifest.model_dump(), None)
    with pytest.raises(ArtifactRejected, match="not newer"):
        check_version(_manifest("1.2"), "1.2.0", allow_downgrade=False)
    check_version(_manifest("1.10"), "1.9.9", allow_downgrade=False)
    check_version(_manifest("1.0", force=True), "1.9.9", allow_downgrade=False)


def _tar(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, body in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return buffer.getvalue()


def test_release_switch_confirm_rollback_and_unsafe_archive(tmp_path: Path) -> None:
    store = ReleaseStore(tmp_path / "opt")
    for version in ("1.0", "2.0"):
        archive = tmp_path / f"{version}.tgz"
        archive.write_bytes(_tar({"app/v": version.encode()}))
        store.install(version, archive)
    store.activate("1.0", 0.0, 60.0)
    store.confirm()
    store.activate("2.0", 100.0, 60.0)
    assert (tmp_path / "opt" / "current" / "app" / "v").read_text() == "2.0"
    assert store.rollback("test") == "1.0"
    assert (tmp_path / "opt" / "current" / "app" / "v").read_text() == "1.0"
    evil = tmp_path / "evil.tgz"
    evil.write_bytes(_tar({"../../escape": b"x"}))
    with pytest.raises(ArtifactRejected):
        store.install("3.0", evil)
    assert not (tmp_path / "escape").exists() and not (tmp_path / "opt" / "releases" / "3.0").exists()


def test_health_gate_decisions() -> None:
    pending = {"version": "2.0", "deadline_wall_s": 100.0}
    good = HealthFacts("Run", hub_connected=True, cluster_ok=True)
    bad = HealthFacts("Run", hub_connected=False, cluster_ok=True)
    assert decide(None, bad, 0.0) == "none"
    assert decide(pending, good, 50.0) == "confirm"
    assert decide(pending, bad, 50.0) == "wait"
    assert decide(pending, bad, 100.0) == "rollback"


def test_cloud_config_defaults_are_valid_and_disabled() -> None:
    config = CloudConfig()
    assert config.enabled is False and config.telemetry_interval_s == 10.0
    assert config.outbox_max_records >= 7 * 24 * 360, "one week of 10 s telemetry fits"


def test_ota_cli_signs_manifests_the_node_accepts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import argparse
    import json

    from sitecontroller.cloud.cli import register
    from sitecontroller.cloud.ota.manifest import load_public_key

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    keys = parser.parse_args(
        ["ota-keygen", "--private", str(tmp_path / "k.pem"), "--public", str(tmp_path / "k.pub")]
    )
    assert keys.handler(keys) == 0
    artifact = tmp_path / "bms.dbc"
    artifact.write_text('VERSION ""\n')
    sign = parser.parse_args(
        ["ota-sign", str(artifact), "--key", str(tmp_path / "k.pem"), "--type", "bms_dbc", "--version", "1.0"]
    )
    assert sign.handler(sign) == 0
    offer = json.loads(capsys.readouterr().out)
    manifest = verify_manifest(load_public_key(tmp_path / "k.pub"), offer["manifest"], offer["signature"])
    assert manifest.size_bytes == artifact.stat().st_size and manifest.artifact_type == "bms_dbc"
