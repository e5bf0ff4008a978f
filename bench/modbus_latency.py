"""Modbus figures through the production engine against loopback pymodbus servers in another process.

1. Setpoint write latency: MapInverter.set_power (ABB PQstorI map: P and Q float32, adjacent, so one
   write-multiple and one read-back) and a single register write without read-back; median, p99, max.
2. Poll cycle cost of one inverter (PQstorI map) + one meter (EM24 map) at 10 Hz: wall time per
   cycle and client CPU time per cycle.

Run: .venv/bin/python bench/modbus_latency.py   (BENCH_WRITES, BENCH_SECONDS to change the sizes)
Figures depend on machine load; the script prints the load average next to them.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import statistics
import time

from sitecontroller.config.devices import InverterConfig, MeterConfig, ModbusLink
from sitecontroller.core.clock import SystemClock
from sitecontroller.core.datastore import DataStore
from sitecontroller.devices.engine import RegisterDevice
from sitecontroller.devices.inverter import MapInverter
from sitecontroller.devices.maploader import load_map
from sitecontroller.devices.meter import MapMeter
from sitecontroller.devices.transport import Transport
from sitecontroller.sim.device_emulators.register_server import RegisterEmulator, StaticPlant

WRITES = int(os.environ.get("BENCH_WRITES", "1000"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
INVERTER_STATE: dict[str, float | str] = {
    "power_w": 1000.0,
    "output_status": 1,
    "fault_stop_error": 0,
    "frequency_hz": 50.0,
    "voltage_l1_v": 230.0,
}
METER_STATE: dict[str, float | str] = {"power_w": -2000.0, "frequency_hz": 50.0, "model_id": 72}


def serve(ports: mp.Queue) -> None:  # type: ignore[type-arg]
    async def main() -> None:
        inverter = RegisterEmulator(load_map("abb_pqstori"), StaticPlant(dict(INVERTER_STATE)))
        meter = RegisterEmulator(load_map("em24_rs485"), StaticPlant(dict(METER_STATE)))
        ports.put((await inverter.start_tcp(), await meter.start_tcp()))
        await asyncio.Event().wait()

    asyncio.run(main())


def summary(samples_s: list[float]) -> str:
    ordered = sorted(samples_s)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return (
        f"median {statistics.median(ordered) * 1e3:.3f} ms, p99 {p99 * 1e3:.3f} ms, "
        f"max {ordered[-1] * 1e3:.3f} ms (n={len(ordered)})"
    )


async def bench(inverter_port: int, meter_port: int) -> None:
    clock = SystemClock()
    store = DataStore(clock)
    inv_transport = Transport(ModbusLink(port=inverter_port), clock)
    meter_transport = Transport(ModbusLink(port=meter_port), clock)
    inverter = MapInverter(
        RegisterDevice(load_map("abb_pqstori"), inv_transport, 1, clock),
        store,
        clock,
        InverterConfig(ramp_w_per_s=1e8),
    )
    meter = MapMeter(
        RegisterDevice(load_map("em24_rs485"), meter_transport, 1, clock), store, clock, MeterConfig()
    )
    await inverter.set_power(0.0)  # connect and warm up

    samples = []
    for i in range(WRITES):
        start = time.perf_counter()
        await inverter.set_power(1000.0 * (i % 50), 0.0)
        samples.append(time.perf_counter() - start)
    print(f"set_power P+Q (1 write-multiple + 1 read-back): {summary(samples)}")

    samples = []
    for i in range(WRITES):
        start = time.perf_counter()
        await inverter.device.write("set_power_w", 1000.0 * (i % 50), readback=False)
        samples.append(time.perf_counter() - start)
    print(f"single setpoint write, no read-back:        {summary(samples)}")

    wall, cpu = [], []
    loop = asyncio.get_running_loop()
    next_s = loop.time()
    for _ in range(int(SECONDS * 10)):
        start, start_cpu = time.perf_counter(), time.process_time()
        ok = await inverter.loop.cycle() and await meter.loop.cycle()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        assert ok, inverter.loop.last_error or meter.loop.last_error
        next_s += 0.1
        await asyncio.sleep(max(0.0, next_s - loop.time()))
    requests = inv_transport.requests + meter_transport.requests
    print(f"poll cycle inverter+meter at 10 Hz, wall:   {summary(wall)}")
    print(
        f"poll cycle inverter+meter at 10 Hz, CPU:    {summary(cpu)}; "
        f"{statistics.mean(cpu) * 10 * 100:.1f} % of one core"
    )
    print(f"requests sent in total: {requests}")
    inv_transport.close()
    meter_transport.close()


def main() -> None:
    ports: mp.Queue = mp.get_context("spawn").Queue()  # type: ignore[type-arg]
    server = mp.get_context("spawn").Process(target=serve, args=(ports,), daemon=True)
    server.start()
    try:
        inverter_port, meter_port = ports.get(timeout=30)
        print(f"load average before: {os.getloadavg()} on {os.cpu_count()} CPUs (shared machine)")
        asyncio.run(bench(inverter_port, meter_port))
        print(f"load average after:  {os.getloadavg()}")
    finally:
        server.terminate()
        server.join(5)


if __name__ == "__main__":
    main()
