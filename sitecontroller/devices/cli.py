"""`sitecontroller devices ...`: identify a Modbus device; write a meter's setup (export reads negative)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from sitecontroller.config.devices import ModbusLink


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("devices", help="Modbus device tools")
    commands = parser.add_subparsers(dest="devices_command", required=True)
    scan = commands.add_parser("scan", help="identify a device: SunSpec scan, model-id registers of our maps")
    _link_arguments(scan)
    scan.set_defaults(handler=run_scan)
    setup = commands.add_parser("meter-setup", help="write the meter mode in which export reads negative")
    _link_arguments(setup)
    setup.add_argument("--type", required=True, help="meter map or family, e.g. em24, em340, em540")
    setup.set_defaults(handler=run_meter_setup)


def _link_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, default=502)
    parser.add_argument("--unit", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=1.0, help="seconds per request")


def _link(args: argparse.Namespace) -> ModbusLink:
    return ModbusLink(host=args.host, port=args.port, unit=args.unit, request_timeout_s=args.timeout)


def run_scan(args: argparse.Namespace) -> int:
    """Print what answered; exit code 0 when something was identified, 1 otherwise."""
    from sitecontroller.devices.scan import scan_device

    findings = asyncio.run(scan_device(_link(args)))
    where = f"{args.host}:{args.port} unit {args.unit}"
    print("\n".join(findings) if findings else f"nothing identified at {where}")
    return 0 if findings else 1


def run_meter_setup(args: argparse.Namespace) -> int:
    from sitecontroller.devices.scan import meter_setup
    from sitecontroller.drivers.base import DeviceCommandError

    try:
        print(asyncio.run(meter_setup(_link(args), args.type)))
    except (DeviceCommandError, ValueError, OSError) as exc:
        print(f"meter setup failed: {exc}")
        return 1
    return 0
