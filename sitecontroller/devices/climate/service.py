"""The climate loop: zone temperatures from the "sensors" reading, controller step, actuators,
ClimateReading as "climate", and climate errors to the ErrorHandler."""

from __future__ import annotations

import asyncio
import logging

from sitecontroller.core.clock import Clock
from sitecontroller.core.datastore import DataStore
from sitecontroller.core.readings import ClimateReading, SensorReading
from sitecontroller.devices.climate.actuators import Fan, Heater
from sitecontroller.devices.climate.controller import ClimateCommand, ClimateController
from sitecontroller.devices.errors import CLIMATE_OVER_TEMP, CLIMATE_SENSOR_LOST, CLIMATE_UNDER_TEMP
from sitecontroller.devices.transport import DeviceIOError
from sitecontroller.safety.errors import ErrorHandler

log = logging.getLogger(__name__)
SOURCE = "climate"
SENSORS = "sensors"


class ClimateService:
    def __init__(
        self,
        controller: ClimateController,
        fans: dict[str, Fan],
        heaters: dict[str, Heater],
        store: DataStore,
        clock: Clock,
        errors: ErrorHandler | None = None,
    ) -> None:
        missing = {f for z in controller.config.zones for f in z.fans} - set(fans)
        missing |= {h for z in controller.config.zones for h in z.heaters} - set(heaters)
        if missing:
            raise ValueError(f"climate zones name actuators that are not configured: {sorted(missing)}")
        self.controller = controller
        self._fans = fans
        self._heaters = heaters
        self._store = store
        self._clock = clock
        self._errors = errors

    def temperatures(self) -> dict[str, float | None]:
        sensors = self._store.snapshot().fresh(SENSORS)
        values = sensors.values if isinstance(sensors, SensorReading) else {}
        return {zone.sensor: values.get(zone.sensor) for zone in self.controller.config.zones}

    async def tick(self) -> ClimateCommand:
        temps = self.temperatures()
        command = self.controller.step(temps)
        try:
            for name, pct in command.fan_pct.items():
                await self._fans[name].set_pct(pct)
            for name, on in command.heater_on.items():
                await self._heaters[name].set_on(on)
        except DeviceIOError as exc:
            log.warning("climate actuator: %s", exc)
        if self._errors is not None:
            self._errors.set(CLIMATE_OVER_TEMP, bool(command.over_temp), ", ".join(command.over_temp))
            self._errors.set(CLIMATE_UNDER_TEMP, bool(command.under_temp), ", ".join(command.under_temp))
            self._errors.set(CLIMATE_SENSOR_LOST, bool(command.sensor_lost), ", ".join(command.sensor_lost))
        zone_temps = {
            zone.name: t for zone in self.controller.config.zones if (t := temps.get(zone.sensor)) is not None
        }
        self._store.put(SOURCE, ClimateReading(zone_temps, dict(command.fan_pct), dict(command.heater_on)))
        return command

    async def run(self) -> None:
        while True:
            await self.tick()
            await asyncio.sleep(self.controller.config.interval_s)
