"""CLI subcommands of the SCADA interface (the lead wires `register` into the `sitecontroller` CLI)."""

from __future__ import annotations

import argparse
from pathlib import Path

from sitecontroller.scada.mapdoc import DEFAULT_OUT


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("scada-map", help="write the SCADA register map (Markdown, CSV)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory (default docs/scada)")
    p.set_defaults(handler=_scada_map)


def _scada_map(args: argparse.Namespace) -> int:
    from sitecontroller.scada.mapdoc import main

    return main(["--out", str(args.out)])
