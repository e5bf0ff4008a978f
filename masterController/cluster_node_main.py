"""A bare cluster node process: `python -m masterController.cluster_node_main --config c.json --node-id n0
--state-dir DIR --history h.jsonl`. Runs ClusterService with a trivial decide function (an even share
of `--site-power-w` per online battery node) and records its history as JSON lines, for the
real-process tests, the failover benchmark and the multi-process simulation.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from collections.abc import Mapping
from pathlib import Path

from masterController.cluster_service import ClusterService
from masterController.history import JsonlHistory
from masterController.master.controller import Decide
from masterController.membership.node_state import NodeState
from sitecontroller.config.cluster import ClusterConfig
from sitecontroller.core.clock import SystemClock


def even_share(site_power_w: float) -> Decide:
    def decide(node_states: Mapping[str, NodeState], now_s: float) -> dict[str, float]:
        if not node_states:
            return {}
        return {node_id: site_power_w / len(node_states) for node_id in node_states}

    return decide


async def _main(args: argparse.Namespace) -> None:
    config = ClusterConfig.model_validate_json(Path(args.config).read_text(encoding="utf-8"))
    history = JsonlHistory(Path(args.history)) if args.history else None
    witness = config.member(args.node_id).witness

    def node_state() -> NodeState:
        return NodeState(args.node_id, 50.0, 0.0, 5000.0, 5000.0, "run", "ok", "cluster-node")

    service = ClusterService(
        config,
        args.node_id,
        SystemClock(),
        Path(args.state_dir),
        None if witness else node_state,
        even_share(args.site_power_w),
        recorder=history,
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: asyncio.ensure_future(service.stop()))
    try:
        await service.run()
    finally:
        if history is not None:
            history.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="ClusterConfig as JSON")
    parser.add_argument("--node-id", required=True)
    parser.add_argument("--state-dir", required=True, help="where term and vote are fsynced")
    parser.add_argument("--history", help="append events as JSON lines here")
    parser.add_argument("--site-power-w", type=float, default=3000.0)
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format=f"%(asctime)s {args.node_id} %(name)s %(message)s")
    asyncio.run(_main(args))


if __name__ == "__main__":
    main()
