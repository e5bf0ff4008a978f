"""Run inside a network namespace with a PGM-capable pyzmq: publish this node's state and wait until
states of the peer arrived over the epgm multicast channel. Prints the counts as JSON."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from masterController.membership.node_state import NodeState
from masterController.transport.zmq_transport import ZmqTransport
from sitecontroller.config.cluster import ClusterConfig


async def probe(config: ClusterConfig, node_id: str, timeout_s: float) -> int:
    heard: list[str] = []
    transport = ZmqTransport(
        config, node_id, keys=None, on_election=lambda m: None, on_published=lambda p, s: heard.append(p)
    )
    await transport.start()
    runner = asyncio.create_task(transport.run())
    state = NodeState(node_id, 50.0, 0.0, 1.0, 1.0, "run", "ok", "probe")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    try:
        # Keep publishing after success so the peer (maybe started later) hears us too.
        while loop.time() < deadline and transport.received_multicast < 20:
            transport.publish(state)
            await asyncio.sleep(0.05)
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        await transport.close()
    counts = {"node": node_id, "received_multicast": transport.received_multicast, "heard": len(heard)}
    print(json.dumps(counts))
    return transport.received_multicast


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--node-id", required=True)
    parser.add_argument("--timeout-s", type=float, default=8.0)
    args = parser.parse_args()
    config = ClusterConfig.model_validate_json(Path(args.config).read_text(encoding="utf-8"))
    received = asyncio.run(probe(config, args.node_id, args.timeout_s))
    raise SystemExit(0 if received > 0 else 1)


if __name__ == "__main__":
    main()
