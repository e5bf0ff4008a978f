"""Cloud subcommands: hub-emulator, cloud-agent, cloud-schemas, ota-keygen, ota-sign."""

from __future__ import annotations

import argparse
import hashlib
import json
import signal
import threading
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sitecontroller.cloud.ota.manifest import Manifest, sign_manifest


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("hub-emulator", help="local IoT Hub: Mosquitto (TLS) + hub emulator")
    p.add_argument("--work-dir", type=Path, required=True)
    p.add_argument("--device-id", default="site-controller")
    p.set_defaults(handler=_hub_emulator)

    p = subparsers.add_parser("cloud-agent", help="run only the cloud link (placeholder status)")
    p.add_argument("--state-dir", type=Path, required=True)
    p.add_argument("--node-id", default="site-controller")
    p.add_argument(
        "--config",
        help="CloudConfig as JSON (connection string may come from the environment)",
        default='{"enabled": true}',
    )
    p.set_defaults(handler=_cloud_agent)

    p = subparsers.add_parser("cloud-schemas", help="write the telemetry JSON schemas")
    p.add_argument("--out", type=Path, default=Path("docs/cloud"))
    p.set_defaults(handler=_cloud_schemas)

    p = subparsers.add_parser("ota-keygen", help="make an Ed25519 signing key pair for artifacts")
    p.add_argument("--private", type=Path, required=True)
    p.add_argument("--public", type=Path, required=True)
    p.set_defaults(handler=_ota_keygen)

    p = subparsers.add_parser("ota-sign", help="write the signed manifest for an artifact file")
    p.add_argument("artifact", type=Path)
    p.add_argument("--key", type=Path, required=True, help="PEM Ed25519 private key")
    p.add_argument(
        "--type", required=True, choices=["software", "firmware", "bms_dbc", "device_config", "meter_setup"]
    )
    p.add_argument("--version", required=True)
    p.add_argument("--force", action="store_true", help="allow installing below the installed version")
    p.set_defaults(handler=_ota_sign)


def _hub_emulator(args: argparse.Namespace) -> int:
    from sitecontroller.cloud.local import start_local_cloud_sync

    cloud = start_local_cloud_sync(args.work_dir, args.device_id)
    print(f"SITECONTROLLER_IOTHUB_CONNECTION_STRING='{cloud.connection_string}'")
    print(f"SITECONTROLLER_IOTHUB_CA_FILE='{cloud.ca_file}'")
    print(f"telemetry is recorded to {args.work_dir / 'telemetry.jsonl'}; Ctrl-C stops")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        cloud.close()
    return 0


def _cloud_agent(args: argparse.Namespace) -> int:
    from sitecontroller.cloud.agent import main_sync
    from sitecontroller.config.cloud import CloudConfig

    main_sync(CloudConfig.model_validate_json(args.config), args.node_id, args.state_dir)
    return 0


def _cloud_schemas(args: argparse.Namespace) -> int:
    from sitecontroller.cloud.schemas import write_schemas

    for path in write_schemas(args.out):
        print(path)
    return 0


def _ota_keygen(args: argparse.Namespace) -> int:
    key = Ed25519PrivateKey.generate()
    args.private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    args.private.chmod(0o600)
    args.public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return 0


def _ota_sign(args: argparse.Namespace) -> int:
    key = serialization.load_pem_private_key(args.key.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise SystemExit(f"{args.key} is not an Ed25519 private key")
    data = args.artifact.read_bytes()
    manifest = Manifest(
        name=args.artifact.name,
        artifact_type=args.type,
        version=args.version,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        force=args.force,
    )
    print(
        json.dumps({"manifest": manifest.model_dump(), "signature": sign_manifest(key, manifest)}, indent=1)
    )
    return 0
