"""SMBus smart battery behind the same BMS reading interface as the CAN BMS.

Polls the battery in a worker thread (I2C is blocking; the DataStore and ErrorHandler are only
touched on the event loop), converts SBS status bits to our
protection/alarm names and limits, and puts a BmsReading under "bms". A battery that stops
answering is not published (the source goes stale) and raises BMS_SMBUS_FAILURE.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from statistics import fmean

from smbus2 import SMBus

from sitecontroller.bms import smbus_battery as sbs
from sitecontroller.bms.errors import SMBUS_FAILURE
from sitecontroller.bms.smbus_battery import SbsSnapshot, SmartBattery
from sitecontroller.config.bms import BmsConfig, SmbusConfig
from sitecontroller.core.clock import Clock
from sitecontroller.core.datastore import DataStore
from sitecontroller.core.readings import BmsReading
from sitecontroller.safety.errors import ErrorHandler

log = logging.getLogger(__name__)
SOURCE = "bms"


def to_reading(s: SbsSnapshot, config: SmbusConfig) -> BmsReading:
    protections = {
        name
        for bit, name in ((sbs.OVER_CHARGED_ALARM, "over_voltage"), (sbs.OVER_TEMP_ALARM, "over_temp"))
        if s.status & bit
    }
    alarms = {
        name
        for bit, name in (
            (sbs.TERMINATE_CHARGE_ALARM, "high_voltage"),
            (sbs.TERMINATE_DISCHARGE_ALARM, "low_voltage"),
        )
        if s.status & bit
    }
    stop_charge = s.status & (sbs.TERMINATE_CHARGE_ALARM | sbs.OVER_CHARGED_ALARM)
    stop_discharge = s.status & (sbs.TERMINATE_DISCHARGE_ALARM | sbs.FULLY_DISCHARGED)
    return BmsReading(
        soc_pct=s.soc_pct,
        voltage_v=s.voltage_v,
        current_a=s.current_a,
        soh_pct=s.soh_pct,
        cell_voltage_min_v=min(s.cell_voltages_v),
        cell_voltage_max_v=max(s.cell_voltages_v),
        cell_voltage_avg_v=fmean(s.cell_voltages_v),
        cell_temp_min_c=s.temp_c,
        cell_temp_max_c=s.temp_c,
        charge_current_limit_a=0.0 if stop_charge else s.charging_current_a,
        discharge_current_limit_a=0.0 if stop_discharge else config.max_discharge_current_a,
        alarms=frozenset(alarms),
        protections=frozenset(protections),
    )


class SmbusBmsService:
    def __init__(
        self,
        config: BmsConfig,
        clock: Clock,
        store: DataStore,
        errors: ErrorHandler,
        *,
        open_bus: Callable[[int | str], SMBus] = SMBus,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._config = config.smbus
        self._store = store
        self._errors = errors
        self._open_bus = open_bus
        self._sleep = sleep
        self._bus: SMBus | None = None
        store.expect(SOURCE, config.timeout_s)

    def poll(self) -> SbsSnapshot:
        """One blocking read of the battery (runs in a worker thread); raises OSError."""
        if self._bus is None:
            self._bus = self._open_bus(self._config.bus)
        try:
            return SmartBattery(self._bus, self._config.address, self._config.cells).read()
        except OSError:
            self._bus.close()
            self._bus = None
            raise

    async def step(self) -> BmsReading | None:
        try:
            snapshot = await asyncio.to_thread(self.poll)
        except OSError as exc:
            self._errors.raise_error(SMBUS_FAILURE, str(exc))
            log.warning("smart battery at 0x%02X: %s", self._config.address, exc)
            return None
        reading = to_reading(snapshot, self._config)
        self._errors.clear(SMBUS_FAILURE)
        self._store.put(SOURCE, reading)
        return reading

    async def run(self) -> None:
        while True:
            await self.step()
            await self._sleep(self._config.poll_period_s)
