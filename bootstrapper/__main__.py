"""`python -m bootstrapper`: provision this Pi as a site-controller node (run once, as root).

Then: `systemd-sysusers`, `systemctl daemon-reload`, `systemctl enable --now systemd-networkd
sitecontroller` (printed at the end; the bootstrapper does not restart services by itself).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bootstrapper.checks import reachable, wall_clock
from bootstrapper.identity import IdentityError, cpu_serial, node_id_from_serial
from bootstrapper.provision import Plan, provision
from sitecontroller.config.loader import ConfigError

CHECKOUT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bootstrapper", description=__doc__)
    parser.add_argument("--site-id", required=True)
    parser.add_argument("--node-id", help="default: pi-<last 8 digits of the CPU serial>")
    parser.add_argument("--template", type=Path, default=CHECKOUT / "config/site.example.json")
    parser.add_argument("--root", type=Path, default=Path("/"))
    parser.add_argument("--cluster-keys", action="store_true", help="generate this node's CURVE key pair")
    parser.add_argument("--check-host", help="HOST:PORT the node must reach (e.g. the IoT hub, :8883)")
    args = parser.parse_args(argv)
    try:
        node_id = args.node_id or node_id_from_serial(cpu_serial())
    except (IdentityError, OSError) as exc:
        print(f"identity: {exc}", file=sys.stderr)
        return 1
    checks = [wall_clock()]
    if args.check_host:
        host, _, port = args.check_host.rpartition(":")
        checks.append(reachable(host, int(port)))
    for check in checks:
        print(f"check {check.name}: {'ok' if check.ok else 'FAILED'} ({check.detail})")
    if not all(c.ok for c in checks):
        print(
            "fix the failed checks (time sync, network) and run again; nothing was changed", file=sys.stderr
        )
        return 1
    plan = Plan(args.root, node_id, args.site_id, args.template, CHECKOUT / "systemd", args.cluster_keys)
    try:
        provision(plan)
    except ConfigError as exc:
        print(f"site parameters: {exc}", file=sys.stderr)
        return 1
    print(
        "next: systemd-sysusers && systemctl daemon-reload"
        " && systemctl enable --now systemd-networkd sitecontroller"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
