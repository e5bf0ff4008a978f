"""`sitecontroller cluster-keygen`: provision CURVE keypairs for cluster members."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from masterController.transport.keys import generate_keys
from sitecontroller.config.cluster import NODE_ID_PATTERN


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "cluster-keygen",
        help="create CURVE keypairs (<id>.key public, <id>.key_secret secret) for cluster members",
    )
    parser.add_argument("--keys-dir", required=True, type=Path)
    parser.add_argument("node_ids", nargs="+", metavar="NODE_ID")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    bad = [n for n in args.node_ids if not re.fullmatch(NODE_ID_PATTERN, n)]
    if bad:
        raise SystemExit(f"invalid node ids {bad}: use lower-case letters, digits, '-' and '_'")
    existing = [n for n in args.node_ids if (args.keys_dir / f"{n}.key_secret").exists()]
    if existing:
        raise SystemExit(f"keys for {existing} already exist in {args.keys_dir}: refusing to overwrite")
    generate_keys(args.keys_dir, args.node_ids)
    for node_id in args.node_ids:
        (args.keys_dir / f"{node_id}.key_secret").chmod(0o600)
    print(f"wrote keys for {', '.join(args.node_ids)} to {args.keys_dir}")
    print("copy every <id>.key to every node; each <id>.key_secret only to its own node")
    return 0
