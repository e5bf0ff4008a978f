"""The `sitecontroller` command: run the daemon, simulate a site, validate configuration, show status."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from sitecontroller import __version__
from sitecontroller.config.loader import ConfigError, load_site
from sitecontroller.config.site import SiteConfig
from sitecontroller.runtime.logging_setup import setup_logging

DEFAULT_BASE_URL = "http://127.0.0.1:8080"
DEFAULT_STATUS_URL = f"{DEFAULT_BASE_URL}/api/status"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    return int(args.handler(args) or 0)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sitecontroller", description="BESS site controller")
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(metavar="COMMAND")

    simulate = sub.add_parser("simulate", help="run a node on a simulated site in real time")
    simulate.add_argument("--site", type=Path, default=Path("config/sim/single-node.json"))
    simulate.add_argument("--duration", type=float, default=None, metavar="S", help="stop after S seconds")
    simulate.add_argument("--state-dir", type=Path, default=None, help="default: var/sim/<node id>")
    simulate.add_argument(
        "--run-dir",
        type=Path,
        default=None,
        help="cluster sites: nodes.json and node states (default var/sim/<site id>)",
    )
    simulate.add_argument(
        "--devices",
        choices=["emulated", "direct"],
        default="emulated",
        help="emulated: BMS over CAN, inverter and meter over Modbus TCP (default); direct: in-process",
    )
    simulate.add_argument(
        "--cloud",
        choices=["off", "local"],
        default="off",
        help="local: start Mosquitto + the hub emulator here and send telemetry to it (telemetry.jsonl)",
    )
    simulate.set_defaults(handler=_simulate)

    run = sub.add_parser("run", help="run the node daemon on a real site (what systemd starts)")
    run.add_argument("--config", type=Path, default=Path("/etc/sitecontroller/site.json"))
    run.add_argument("--state-dir", type=Path, default=Path("/var/lib/sitecontroller"))
    run.set_defaults(handler=_run)

    status = sub.add_parser("status", help="print a node's status")
    status.add_argument("--url", default=DEFAULT_STATUS_URL)
    status.add_argument("--json", action="store_true", help="print the raw JSON document")
    status.set_defaults(handler=_status)

    for register in _subsystem_commands():
        register(sub)

    local = sub.add_parser("local", help="the local operator's commands to the node on this machine")
    local.add_argument("--url", default=DEFAULT_BASE_URL, help=f"the node (default {DEFAULT_BASE_URL})")
    local_sub = local.add_subparsers(metavar="ACTION", required=True)
    for name, arg, help_text in (
        ("state", "state", "request Run, Sleep, Maintenance, Restart or Reboot"),
        ("mode", "mode", "select a mode (e.g. self_consumption, local_control, passive)"),
        ("setpoint", "power_w", "manual setpoint in W, discharge positive (local_control mode)"),
    ):
        p = local_sub.add_parser(name, help=help_text)
        p.add_argument(arg, type=float if arg == "power_w" else str)
        p.set_defaults(handler=_local, command=name, key=arg)
    for name, help_text in (("heartbeat", "keep the manual setpoint alive"), ("reset", "reset errors")):
        local_sub.add_parser(name, help=help_text).set_defaults(handler=_local, command=name, key=None)

    config = sub.add_parser("config", help="site configuration tools")
    config_sub = config.add_subparsers(metavar="ACTION")
    validate = config_sub.add_parser(
        "validate", help="check a site configuration file; every problem is listed"
    )
    validate.add_argument("path", type=Path)
    validate.set_defaults(handler=_validate)
    return parser


def _subsystem_commands() -> list[Callable[[argparse._SubParsersAction], None]]:  # type: ignore[type-arg]
    """Each subsystem adds its own tools (can dump, devices scan, gridtest, ...)."""
    from masterController.transport import keygen_cli
    from sitecontroller.bms import cli as bms_cli
    from sitecontroller.cloud import cli as cloud_cli
    from sitecontroller.devices import cli as devices_cli
    from sitecontroller.scada import cli as scada_cli
    from sitecontroller.scenario import cli as scenario_cli

    return [
        bms_cli.register,
        devices_cli.register,
        scenario_cli.register,
        scada_cli.register,
        keygen_cli.register,
        cloud_cli.register,
    ]


def _load_or_report(path: Path) -> object:
    try:
        return load_site(path)
    except ConfigError as exc:
        print(f"{path}: {len(exc.problems)} problem(s)", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return None


def _validate(args: argparse.Namespace) -> int:
    config = _load_or_report(args.path)
    if config is None:
        return 1
    print(f"{args.path}: valid")
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from sitecontroller.sim.node_runner import simulate

    config = _load_or_report(args.site)
    if not isinstance(config, SiteConfig):
        return 1
    if config.cluster.enabled:
        from sitecontroller.sim.cluster.site_runner import simulate_cluster

        run_dir = args.run_dir or Path("var/sim") / config.identity.site_id
        _setup_logging(config, run_dir)
        return asyncio.run(simulate_cluster(config, run_dir, args.duration))
    state_dir = args.state_dir or Path("var/sim") / config.identity.node_id
    _setup_logging(config, state_dir)
    return asyncio.run(simulate(config, state_dir, args.duration, args.devices, args.cloud == "local"))


def _run(args: argparse.Namespace) -> int:
    from sitecontroller.runtime.run import run_daemon, site_parameters

    try:
        config = site_parameters(args.config, args.state_dir)
    except ConfigError as exc:
        print(f"{args.config}: {len(exc.problems)} problem(s) and no last good parameters:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    _setup_logging(config, args.state_dir)
    return asyncio.run(run_daemon(config, args.state_dir))


def _setup_logging(config: SiteConfig, state_dir: Path) -> None:
    log_cfg = config.logging
    setup_logging(log_cfg.level, state_dir / log_cfg.file, log_cfg.max_bytes, log_cfg.backups)


def _local(args: argparse.Namespace) -> int:
    body = json.dumps({args.key: getattr(args, args.key)} if args.key else None).encode()
    request = urllib.request.Request(
        f"{args.url}/api/local/{args.command}",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            answer = json.load(response)
    except urllib.error.HTTPError as exc:
        answer = json.load(exc)
        print(f"refused ({exc.code}): {answer.get('message') or answer.get('error')}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print(f"cannot reach the node at {args.url}: {exc}", file=sys.stderr)
        return 1
    print(answer.get("message", "ok"))
    return 0


def _status(args: argparse.Namespace) -> int:
    try:
        with urllib.request.urlopen(args.url, timeout=5) as response:
            document = json.load(response)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print(f"cannot read status from {args.url}: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(document, indent=2))
        return 0
    print(format_status(document))
    return 0


def format_status(doc: dict[str, object]) -> str:
    def show(value: object, unit: str = "") -> str:
        return "-" if value is None else f"{value}{unit}"

    lines = [
        f"node {doc.get('node_id')}  state {doc.get('state')}  mode {doc.get('mode')}  "
        f"role {doc.get('role')} (term {doc.get('term')}, leader {show(doc.get('leader_id'))})",
        f"SoC {show(doc.get('soc_pct'), ' %')}  battery {show(doc.get('battery_power_w'), ' W')}  "
        f"setpoint {show(doc.get('setpoint_w'), ' W')}  grid {show(doc.get('grid_power_w'), ' W')}  "
        f"frequency {show(doc.get('frequency_hz'), ' Hz')}",
        f"limits: charge {show(doc.get('charge_limit_w'), ' W')}  "
        f"discharge {show(doc.get('discharge_limit_w'), ' W')}  limiting: {doc.get('limiting_source')}",
    ]
    errors = doc.get("errors") or []
    assert isinstance(errors, list)
    lines.append(f"errors: {len(errors)}" if errors else "errors: none")
    lines.extend(f"  [{e['severity']}] {e['id']} ({e['source']}): {e['text']}" for e in errors)
    lines.append(f"uptime {doc.get('uptime_s')} s  version {doc.get('version')}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
