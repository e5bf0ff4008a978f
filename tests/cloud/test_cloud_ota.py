"""OTA artifacts end to end: Azurite holds the blobs, the hub emulator calls the methods."""

from __future__ import annotations

import asyncio
import hashlib
import io
import tarfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import (
    BlobSasPermissions,
    BlobServiceClient,
    ContainerSasPermissions,
    generate_blob_sas,
    generate_container_sas,
)
from cloudtest_support import async_wait_until
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sitecontroller.cloud.ota.manifest import Manifest, sign_manifest
from sitecontroller.core.clock import SimClock

DBC = """VERSION ""

BU_: BMS SC

BO_ 291 BMS_Status: 8 BMS
 SG_ soc_pct : 0|8@1+ (0.5,0) [0|100] "%" SC

"""


@pytest.fixture
def signing_key(tmp_path: Path) -> tuple[Ed25519PrivateKey, Path]:
    key = Ed25519PrivateKey.generate()
    public = tmp_path / "ota.pub"
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return key, public


@pytest.fixture
def store(azurite: BlobServiceClient) -> Any:
    container = azurite.get_container_client(f"artifacts{time.monotonic_ns()}")
    container.create_container()
    credential = azurite.credential

    def put(name: str, data: bytes) -> str:
        blob = container.upload_blob(name, data, overwrite=True)
        sas = generate_blob_sas(
            credential.account_name,
            container.container_name,
            name,
            account_key=credential.account_key,
            permission=BlobSasPermissions(read=True),
            expiry=datetime.now(UTC) + timedelta(minutes=10),
        )
        return f"{blob.url}?{sas}"

    return put


def offer(
    key: Ed25519PrivateKey, kind: str, version: str, data: bytes, url: str, **extra: Any
) -> dict[str, Any]:
    manifest = Manifest(
        name=f"{kind}-{version}",
        artifact_type=kind,
        version=version,
        size_bytes=len(data),  # type: ignore[arg-type]
        sha256=hashlib.sha256(data).hexdigest(),
        **extra,
    )
    return {"manifest": manifest.model_dump(), "signature": sign_manifest(key, manifest), "url": url}


def release_archive(version: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        body = f"VERSION = {version!r}\n".encode()
        info = tarfile.TarInfo("sitecontroller/version.py")
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
    return buffer.getvalue()


def ota_status(node: Any) -> object:
    return node.hub.emulator.reported().get("ota", {}).get("status")


async def call(node: Any, name: str, payload: Any) -> tuple[int, Any]:
    return await asyncio.to_thread(node.hub.emulator.invoke_method, name, payload, 20.0)


async def test_config_artifacts_signed_installed_tampered_and_unsigned_refused(
    start_node: Any, signing_key: Any, store: Any, tmp_path: Path
) -> None:
    key, public = signing_key
    node = await start_node(ota_public_key_file=str(public))
    installed = tmp_path / "state" / "cloud" / "artifacts" / "bms_dbc" / "bms.dbc"

    good = offer(key, "bms_dbc", "1.1", DBC.encode(), store("bms-1.1.dbc", DBC.encode()))
    status, body = await call(node, "Receive_Artifact", good)
    assert status == 200, body
    assert installed.read_text() == DBC
    assert await async_wait_until(lambda: ota_status(node) == "installed", 5)

    tampered_url = store("bms-1.2.dbc", DBC.encode().replace(b"0.5,0", b"5.0,0"))
    status, body = await call(
        node, "Receive_Artifact", offer(key, "bms_dbc", "1.2", DBC.encode(), tampered_url)
    )
    assert status == 400 and "does not match its manifest" in body["message"]

    unsigned = offer(key, "bms_dbc", "1.3", DBC.encode(), good["url"]) | {"signature": ""}
    status, body = await call(node, "Receive_Artifact", unsigned)
    assert status == 400 and "unsigned" in body["message"]

    forged = offer(Ed25519PrivateKey.generate(), "bms_dbc", "1.3", DBC.encode(), good["url"])
    status, body = await call(node, "Receive_Artifact", forged)
    assert status == 400 and "signature is invalid" in body["message"]

    edited = offer(key, "bms_dbc", "1.3", DBC.encode(), good["url"])
    edited["manifest"]["version"] = "9.9"
    status, _ = await call(node, "Receive_Artifact", edited)
    assert status == 400

    status, body = await call(
        node, "Receive_Artifact", offer(key, "bms_dbc", "1.0", DBC.encode(), good["url"])
    )
    assert status == 409 and "not newer" in body["message"]
    forced = offer(key, "bms_dbc", "1.0", DBC.encode(), good["url"], force=True)
    assert (await call(node, "Receive_Artifact", forced))[0] == 200

    broken = b"BO_ this is not a dbc"
    status, body = await call(
        node, "Receive_Artifact", offer(key, "bms_dbc", "2.0", broken, store("x.dbc", broken))
    )
    assert status == 400 and "DBC" in body["message"]
    assert installed.read_text() == DBC, "a refused artifact never replaces the installed one"

    bad_config = b'{"limits": {"soc_min_pct": 80}}'
    status, body = await call(
        node,
        "Receive_Artifact",
        offer(key, "device_config", "1.0", bad_config, store("site.json", bad_config)),
    )
    assert status == 400 and "soc_min_pct" in body["message"]


async def test_software_update_switches_release_and_rolls_back_on_failed_health(
    start_node: Any, signing_key: Any, store: Any, tmp_path: Path
) -> None:
    key, public = signing_key
    clock = SimClock(wall_s=time.time())
    node = await start_node(clock=clock, ota_public_key_file=str(public), health_window_s=60.0)
    releases = node.service.releases
    archive_1 = tmp_path / "r1.tar.gz"
    archive_1.write_bytes(release_archive("1.0.0"))
    releases.install("1.0.0", archive_1)
    releases.activate("1.0.0", clock.wall(), 60.0)
    assert node.service.check_health() == "confirm"  # state Run, hub connected, leader known

    data = release_archive("2.0.0")
    status, body = await call(
        node, "Update_Device", offer(key, "software", "2.0.0", data, store("r2.tgz", data))
    )
    assert status == 200, body
    assert releases.current_version() == "2.0.0"
    assert (
        tmp_path / "opt" / "current" / "sitecontroller" / "version.py"
    ).read_text() == "VERSION = '2.0.0'\n"
    assert node.commands.calls[-1] == ("request_state", ("Restart", "cloud"))

    # The "restarted" node never reaches Run: wait within the window, roll back after it.
    node.status["state"] = "Fault"
    assert node.service.check_health() == "wait"
    clock.advance(61.0)
    assert node.service.check_health() == "rollback"
    assert releases.current_version() == "1.0.0"
    assert "rolled_back" in str(releases.state()["last_result"])
    assert await async_wait_until(lambda: ota_status(node) == "rolled_back", 5)

    status, body = await call(
        node, "Update_Device", offer(key, "bms_dbc", "3.0", DBC.encode(), store("d.dbc", DBC.encode()))
    )
    assert status == 400 and "not accepted by this method" in body["message"]


async def test_upload_logs_to_a_container_sas_url(
    start_node: Any, azurite: BlobServiceClient, tmp_path: Path
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "sitecontroller.log").write_text("line 1\n")
    (logs / "grid-service.csv").write_bytes(b"t,p\n0,1\n" * 1000)
    node = await start_node()
    container = azurite.get_container_client(f"logs{time.monotonic_ns()}")
    container.create_container()
    credential = azurite.credential
    sas = generate_container_sas(
        credential.account_name,
        container.container_name,
        account_key=credential.account_key,
        permission=ContainerSasPermissions(write=True, create=True),
        expiry=datetime.now(UTC) + timedelta(minutes=10),
    )
    status, body = await call(node, "UploadLogs", {"sas_url": f"{container.url}?{sas}"})
    assert status == 200, body
    names = sorted(b.name for b in container.list_blobs())
    assert len(names) == 2 and all(n.startswith(f"{node.hub.device_id}/") for n in names)
    csv = next(n for n in names if n.endswith("grid-service.csv"))
    assert container.download_blob(csv).readall() == (logs / "grid-service.csv").read_bytes()


async def test_twin_desired_firmware_version_starts_the_update(
    start_node: Any, signing_key: Any, store: Any
) -> None:
    key, public = signing_key
    node = await start_node(ota_public_key_file=str(public))
    data = release_archive("1.5.0")
    await asyncio.to_thread(
        node.hub.emulator.set_desired,
        {"firmware": offer(key, "software", "1.5.0", data, store("fw.tgz", data))},
    )
    assert await async_wait_until(lambda: node.service.releases.current_version() == "1.5.0", 10)
    assert await async_wait_until(lambda: ota_status(node) == "restarting", 5)
    assert node.commands.calls[-1] == ("request_state", ("Restart", "cloud"))
