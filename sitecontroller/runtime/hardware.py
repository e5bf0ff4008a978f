"""The device factory of a real site: every driver the site parameters name, on real links.

Modbus devices may not answer when the daemon starts (an inverter still booting); their links are
built with retries inside their service, and until then commands are refused with a clear error
and their readings are missing (the Monitor's stale-data checks and the Init timeout take over).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sitecontroller.bms.factory import build_bms_service
from sitecontroller.bms.sleep import BmsSleepController
from sitecontroller.bms.sleep_output import ModbusSleepOutput
from sitecontroller.bms.sleep_service import BmsSleepService
from sitecontroller.core.backoff import Backoff
from sitecontroller.devices import factory as devices
from sitecontroller.devices.gpio import GpioInputs, pin_factory
from sitecontroller.devices.inverter import MapInverter
from sitecontroller.devices.maploader import MapError
from sitecontroller.devices.sensors.service import SensorsService
from sitecontroller.devices.transport import DeviceIOError
from sitecontroller.devices.watchdog import HardwareWatchdog
from sitecontroller.drivers.base import DeviceCommandError, Service
from sitecontroller.runtime.daemon import DeviceContext, NodeDevices
from sitecontroller.safety.monitor import Expected

log = logging.getLogger(__name__)

RETRY_MIN_S = 1.0
RETRY_MAX_S = 30.0

T = TypeVar("T")


async def _connect(what: str, build: Callable[[], Awaitable[T]]) -> T:
    """Build a Modbus device driver, retrying with jittered backoff while the device does not answer."""
    backoff = Backoff(RETRY_MIN_S, RETRY_MAX_S)
    while True:
        try:
            return await build()
        except (DeviceIOError, MapError, OSError) as exc:
            delay_s = backoff.next_delay_s()
            log.warning("%s not ready (%s); retrying in %.1f s", what, exc, delay_s)
        await asyncio.sleep(delay_s)


class InverterLink:
    """The InverterDriver of the node before and after its Modbus driver exists."""

    def __init__(self, build: Callable[[], Awaitable[MapInverter]]) -> None:
        self._build = build
        self.driver: MapInverter | None = None

    async def run(self) -> None:
        self.driver = await _connect("inverter", self._build)
        await self.driver.run()

    def _ready(self) -> MapInverter:
        if self.driver is None:
            raise DeviceCommandError("inverter not connected yet")
        return self.driver

    async def set_power(self, power_w: float, reactive_power_var: float = 0.0) -> None:
        await self._ready().set_power(power_w, reactive_power_var)

    async def start(self) -> None:
        await self._ready().start()

    async def stop(self) -> None:
        await self._ready().stop()

    async def reset_fault(self) -> None:
        await self._ready().reset_fault()


class MeterLink:
    def __init__(self, what: str, build: Callable[[], Awaitable[Service]]) -> None:
        self._what = what
        self._build = build

    async def run(self) -> None:
        meter = await _connect(self._what, self._build)
        await meter.run()


class SleepRequests:
    """The state machine's BMS sleep/wake actions as requests to the BMS sleep controller."""

    def __init__(self, controller: BmsSleepController) -> None:
        self._controller = controller

    async def sleep(self) -> None:
        self._controller.request_sleep()

    async def wake(self) -> None:
        self._controller.request_wake("state change")


class WatchdogService:
    def __init__(self, ctx: DeviceContext) -> None:
        self._ctx = ctx

    async def run(self) -> None:
        watchdog = HardwareWatchdog(self._ctx.config.watchdog)
        try:
            await watchdog.run(self._ctx.health)
        finally:
            # Reached only on a clean stop (cancellation): disarm. A crash or hang keeps it armed.
            watchdog.close()


def hardware_devices(ctx: DeviceContext) -> NodeDevices:
    cfg, clock, store, errors = ctx.config, ctx.clock, ctx.store, ctx.errors
    transports = devices.Transports(clock)
    pins = pin_factory(cfg.gpio)
    store.expect("inverter", cfg.inverter.timeout_s)
    inverter = InverterLink(lambda: devices.build_inverter(cfg.inverter, store, clock, transports, errors))
    services: list[Service] = [build_bms_service(cfg.bms, clock, store, errors, ctx.sysinfo), inverter]
    if cfg.sensors.sensors:
        services.append(SensorsService(cfg.sensors, store, errors))
    for meter_cfg in cfg.meters:
        store.expect(f"meter.{meter_cfg.role}", meter_cfg.timeout_s)
        services.append(
            MeterLink(
                f"{meter_cfg.role} meter",
                lambda m=meter_cfg: devices.build_meter(m, store, clock, transports),  # type: ignore[misc]
            )
        )
    if cfg.gpio.enabled:
        services.append(GpioInputs(cfg.gpio, store, clock, pins))
    climate = devices.build_climate(cfg.climate, store, clock, transports, errors, pins)
    if climate is not None:
        services.append(climate)
    sleep_control = None
    if cfg.bms.sleep.output != "none":
        sleep_service = BmsSleepService(
            cfg.bms.sleep, clock, store, errors, ctx.sysinfo, ModbusSleepOutput(cfg.bms.sleep)
        )
        services.append(sleep_service)
        sleep_control = SleepRequests(sleep_service.controller)
    if cfg.watchdog.enabled:
        services.append(WatchdogService(ctx))
    return NodeDevices(
        inverter=inverter,
        services=services,
        expected=Expected(grid_meter=any(m.role == "grid" for m in cfg.meters), inputs=cfg.gpio.enabled),
        bms_sleep=sleep_control,
    )
