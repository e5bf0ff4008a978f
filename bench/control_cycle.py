"""Cost of one slow control cycle (mode control + allocation for 16 nodes) and of one fast-loop tick
(stacked FCR-N + FCR-D up + FFR + LFSM with NEM/AEM), median and p99 in microseconds.

Run: .venv/bin/python bench/control_cycle.py [iterations]
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

from masterController.control.allocator import NodeState, SiteLimits, allocate
from masterController.control.mode_manager import ModeManager
from masterController.control.snapshot import SiteSnapshot
from masterController.grid_support.characteristics import Fcr
from masterController.grid_support.frequency_response import FrequencyResponse, Share
from sitecontroller.config.control import ControlConfig, FcrConfig, FfrConfig, GridServicesConfig, ModeName

NODES = 16


def measure(fn: Callable[[int], object], iterations: int) -> tuple[float, float]:
    warmup = min(1000, iterations)
    for k in range(warmup):
        fn(k)
    samples = []
    for k in range(warmup, warmup + iterations):  # time keeps running forward
        start = time.perf_counter_ns()
        fn(k)
        samples.append((time.perf_counter_ns() - start) / 1000.0)
    samples.sort()
    return statistics.median(samples), samples[int(0.99 * (len(samples) - 1))]


def slow_cycle_bench(iterations: int) -> tuple[float, float]:
    config = ControlConfig()
    manager = ModeManager(config, ModeName.SELF_CONSUMPTION)
    nodes = [
        NodeState(f"node{i:02d}", 30.0 + 3.0 * i, 25_000.0, 25_000.0, 50_000.0, sleeping=(i % 5 == 4))
        for i in range(NODES)
    ]

    def cycle(k: int) -> object:
        grid_w = 20_000.0 * ((k % 7) - 3) / 3.0  # a changing meter reading
        snapshot = SiteSnapshot(
            now_s=float(k), wall_s=1_767_225_600.0 + k, grid_power_w=grid_w, battery_power_w=0.0,
            soc_pct=52.0, max_discharge_w=NODES * 25_000.0, max_charge_w=NODES * 25_000.0,
        )  # fmt: skip
        decision = manager.step(snapshot).decision
        limits = SiteLimits.from_grid(config.site, snapshot.grid_without_battery_w)
        return allocate(decision.power_w, nodes, limits)

    return measure(cycle, iterations)


def fast_tick_bench(iterations: int) -> tuple[float, float]:
    on = FcrConfig(enabled=True, capacity_w=10_000.0, energy_wh=20_000.0)
    cfg = GridServicesConfig(
        fcrn=on, fcrd_up=on, ffr=FfrConfig(enabled=True, capacity_w=5_000.0, rearm_s=0.0)
    )
    response = FrequencyResponse(cfg, rated_power_w=50_000.0)
    response.assign(Fcr.N, Share(10_000.0, 20_000.0))
    response.assign(Fcr.D_UP, Share(10_000.0, 20_000.0))
    response.assign("ffr", Share(5_000.0, 0.0))

    def tick(k: int) -> object:
        freq_hz = 50.0 + 0.35 * ((k % 200) - 100) / 100.0  # sweeps 49.65..50.35 Hz: every branch runs
        return response.update(freq_hz, k * 0.1, 50.0)

    return measure(tick, iterations)


def main() -> None:
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    slow = slow_cycle_bench(iterations)
    fast = fast_tick_bench(iterations)
    for name, (median_us, p99_us) in (
        (f"slow cycle, self-consumption + allocation for {NODES} nodes", slow),
        ("fast-loop tick, FCR-N + FCR-D up + FFR + LFSM with NEM/AEM", fast),
    ):
        print(f"{name}: median {median_us:.1f} us, p99 {p99_us:.1f} us")
    print(
        f"({iterations} iterations each, {time.strftime('%Y-%m-%d %H:%M')}; machine shared with other jobs)"
    )


if __name__ == "__main__":
    main()
