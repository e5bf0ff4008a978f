"""CURVE key material from provisioning: one keypair per node, the public keys of all members."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import zmq.auth

from sitecontroller.config.cluster import ClusterConfig


@dataclass(frozen=True)
class CurveKeys:
    public: bytes
    secret: bytes
    # node_id -> z85 public key of every configured member (this node included).
    peers: dict[str, bytes]

    def node_of(self, public_key_z85: bytes) -> str | None:
        for node_id, key in self.peers.items():
            if key == public_key_z85:
                return node_id
        return None


def load_curve_keys(config: ClusterConfig, node_id: str) -> CurveKeys:
    keys_dir = Path(config.curve.keys_dir)
    secret_path = keys_dir / f"{node_id}.key_secret"
    public, secret = zmq.auth.load_certificate(secret_path)
    if secret is None:
        raise ValueError(f"{secret_path} holds no secret key")
    peers = {}
    for member in config.members:
        path = keys_dir / f"{member.node_id}.key"
        if not path.exists():
            raise FileNotFoundError(f"no CURVE public key for member {member.node_id!r}: {path} is missing")
        peers[member.node_id] = zmq.auth.load_certificate(path)[0]
    return CurveKeys(public=public, secret=secret, peers=peers)


def generate_keys(keys_dir: Path, node_ids: list[str]) -> None:
    """Provisioning helper (and tests): `<id>.key` and `<id>.key_secret` per node."""
    keys_dir.mkdir(parents=True, exist_ok=True)
    for node_id in node_ids:
        zmq.auth.create_certificates(keys_dir, node_id)
