"""Artifact manifests and their Ed25519 signatures.

The signature covers the canonical JSON of the manifest (sorted keys, no whitespace). The node
pins the public key; nothing unsigned or signed by another key is ever used.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from pathlib import Path
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import Field, ValidationError

from sitecontroller.config.base import StrictModel

ArtifactType = Literal["software", "firmware", "bms_dbc", "device_config", "meter_setup"]
_VERSION = re.compile(r"^\d+(\.\d+){0,3}$")


class ArtifactRejected(ValueError):
    """A manifest or artifact that must not be used; the message says why (reported to the cloud)."""


class Manifest(StrictModel):
    name: str = Field(min_length=1, max_length=200)
    artifact_type: ArtifactType
    version: str = Field(pattern=_VERSION.pattern)
    size_bytes: int = Field(ge=1)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    # Only a manifest signed with force=True may go below the installed version.
    force: bool = False


def version_key(version: str) -> tuple[int, ...]:
    parts = tuple(int(p) for p in version.split("."))
    return parts + (0,) * (4 - len(parts))


def canonical(manifest: dict[str, Any]) -> bytes:
    return json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()


def sign_manifest(key: Ed25519PrivateKey, manifest: Manifest) -> str:
    return base64.b64encode(key.sign(canonical(manifest.model_dump()))).decode()


def load_public_key(path: Path) -> Ed25519PublicKey:
    data = path.read_bytes()
    if len(data) == 32:
        return Ed25519PublicKey.from_public_bytes(data)
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ArtifactRejected(f"{path} is not an Ed25519 public key")
    return key


def verify_manifest(key: Ed25519PublicKey | None, manifest: object, signature: object) -> Manifest:
    if key is None:
        raise ArtifactRejected("no OTA public key configured (cloud.ota_public_key_file): artifacts refused")
    if not isinstance(manifest, dict):
        raise ArtifactRejected("manifest must be an object")
    if not isinstance(signature, str) or not signature:
        raise ArtifactRejected("manifest is unsigned")
    try:
        key.verify(base64.b64decode(signature, validate=True), canonical(manifest))
    except (InvalidSignature, binascii.Error, ValueError) as exc:
        raise ArtifactRejected("manifest signature is invalid") from exc
    try:
        return Manifest.model_validate(manifest)
    except ValidationError as exc:
        raise ArtifactRejected(
            f"manifest invalid: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}"
        ) from exc


def check_version(manifest: Manifest, installed: str | None, allow_downgrade: bool) -> None:
    if installed is None or manifest.force or allow_downgrade:
        return
    if version_key(manifest.version) <= version_key(installed):
        raise ArtifactRejected(
            f"version {manifest.version} is not newer than installed {installed}"
            " (no downgrade unless the manifest is signed with force)"
        )
