"""SCADA server throughput: N Modbus TCP clients polling while the node's fast loop runs in real time.

    .venv/bin/python bench/scada_throughput.py [--clients 10] [--procs 2] [--duration 10]
                                               [--rate-per-client 200]

The node (SimulatedNode on the single-node simulated site) and the SCADA server share one event loop,
as in the daemon. Its fast loop ticks every fast_loop_s of wall time on a drift-free schedule; we
record how late each tick starts (jitter) with and without the polling load. Clients run in separate
processes (pymodbus async clients), so they load the server, not its loop. Each request reads 50
registers, alternating the control map and the SunSpec view. Prints requests/s, registers/s, latency
percentiles and the fast-loop lateness. Note: figures depend on what else runs on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import tempfile
import time
from pathlib import Path

from sitecontroller.config.loader import load_site
from sitecontroller.config.scada import ScadaConfig
from sitecontroller.scada.server import ScadaServer, device_info
from sitecontroller.sim.harness import SimulatedNode

ROOT = Path(__file__).resolve().parents[1]
REGISTERS = 50
READS = ((0, 1), (40000, 1))  # (address, unit): control map, SunSpec view


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100.0))] if ordered else float("nan")


# ---- client side (child processes) ----------------------------------------------------------------
async def _poll(port: int, stop_at: float, period_s: float, latencies: list[float]) -> int:
    from pymodbus.client import AsyncModbusTcpClient

    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=2, retries=0)
    await client.connect()
    errors, i = 0, 0
    next_at = time.monotonic()
    while time.monotonic() < stop_at:
        address, unit = READS[i % len(READS)]
        i += 1
        started = time.perf_counter()
        response = await client.read_holding_registers(address, count=REGISTERS, device_id=unit)
        latencies.append(time.perf_counter() - started)
        errors += int(response.isError())
        if period_s:  # paced polling, as a SCADA polls; 0: as fast as the server answers
            next_at += period_s
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    client.close()
    return errors


def _client_process(
    port: int, clients: int, start_at: float, duration_s: float, period_s: float, queue: object
) -> None:
    async def run() -> tuple[list[float], int]:
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        latencies: list[float] = []
        stop_at = time.monotonic() + duration_s
        errors = await asyncio.gather(*(_poll(port, stop_at, period_s, latencies) for _ in range(clients)))
        return latencies, sum(errors)

    queue.put(asyncio.run(run()))  # type: ignore[attr-defined]


# ---- server side ------------------------------------------------------------------------------------
async def fast_loop(node: SimulatedNode, server: ScadaServer, stop_at: float, lateness: list[float]) -> None:
    """The node's ticks on a real-time schedule, as the daemon runs its fast loop."""
    loop = asyncio.get_running_loop()
    period_s = node.daemon.config.loops.fast_loop_s
    deadline = loop.time()
    while loop.time() < stop_at:
        lateness.append(loop.time() - deadline)
        await node.tick()
        server.tick()
        deadline += period_s
        await asyncio.sleep(max(0.0, deadline - loop.time()))


async def main(clients: int, procs: int, duration_s: float, rate_per_client: float) -> None:
    config = load_site(ROOT / "config" / "sim" / "single-node.json")
    node = SimulatedNode(config, Path(tempfile.mkdtemp(prefix="scada-bench-")))
    daemon = node.daemon
    scada = ScadaConfig(enabled=True, host="127.0.0.1", port=0)
    server = ScadaServer(scada, node.clock, daemon.status, daemon.commands, daemon.events,
                         errors=daemon.errors, device=device_info(config, 10_000.0))
    daemon.core.extra_limits = server.power_limits
    await server.start()
    loop = asyncio.get_running_loop()
    try:
        idle: list[float] = []
        await fast_loop(node, server, loop.time() + duration_s, idle)

        queue: multiprocessing.Queue[tuple[list[float], int]] = multiprocessing.Queue()
        start_at = time.monotonic() + 1.0
        period_s = 1.0 / rate_per_client if rate_per_client else 0.0
        per_proc = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
        children = [
            multiprocessing.Process(
                target=_client_process,
                args=(server.port, n, start_at, duration_s, period_s, queue),
            )
            for n in per_proc
        ]
        for child in children:
            child.start()
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        loaded: list[float] = []
        await fast_loop(node, server, loop.time() + duration_s, loaded)
        results = [await asyncio.to_thread(queue.get, True, 30.0) for _ in children]
        for child in children:
            child.join(10)
    finally:
        await server.stop()

    latencies = [lat for lats, _ in results for lat in lats]
    errors = sum(err for _, err in results)
    rate = len(latencies) / duration_s
    ms = 1000.0
    pacing = f"{rate_per_client:g} requests/s each" if rate_per_client else "as fast as answered"
    print(f"SCADA throughput: {clients} clients ({pacing}) in {procs} processes, {duration_s:.0f} s, "
          f"{REGISTERS} registers per read")
    print(f"  requests/s      {rate:10.0f}   (errors: {errors})")
    print(f"  registers/s     {rate * REGISTERS:10.0f}")
    p50, p99, top = (percentile(latencies, 50), percentile(latencies, 99), max(latencies))
    print(f"  latency ms      p50 {p50 * ms:.2f}  p99 {p99 * ms:.2f}  max {top * ms:.2f}")
    for name, lateness in (("idle", idle), ("under load", loaded)):
        p50, p99, top = statistics.median(lateness), percentile(lateness, 99), max(lateness)
        print(f"  fast-loop lateness {name:10s} p50 {p50 * ms:.2f} ms  p99 {p99 * ms:.2f} ms  "
              f"max {top * ms:.2f} ms  ({len(lateness)} ticks)")

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--rate-per-client", type=float, default=0.0, help="requests/s each; 0: unpaced")
    args = parser.parse_args()
    asyncio.run(main(args.clients, args.procs, args.duration, args.rate_per_client))
