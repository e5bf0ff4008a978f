"""Polls every configured sensor and publishes one SensorReading as "sensors".

A sensor that fails is left out of the reading (never a made-up number) and raises a warning;
a sensor that cannot even be set up (absent chip) is reported once and retried on the next poll.
"""

from __future__ import annotations

import asyncio
import logging

from sitecontroller.config.devices import SensorsConfig
from sitecontroller.core.datastore import DataStore
from sitecontroller.core.readings import SensorReading
from sitecontroller.devices.errors import SENSOR_READ_FAILED
from sitecontroller.devices.sensors.sources import BusOpener, Sensor, make_sensor, open_smbus
from sitecontroller.safety.errors import ErrorHandler

log = logging.getLogger(__name__)
SOURCE = "sensors"


class SensorsService:
    def __init__(
        self,
        config: SensorsConfig,
        store: DataStore,
        errors: ErrorHandler | None = None,
        open_bus: BusOpener = open_smbus,
    ) -> None:
        self._config = config
        self._store = store
        self._errors = errors
        self._open_bus = open_bus
        self._sensors: dict[str, Sensor] = {}

    def _sensor(self, index: int) -> Sensor:
        config = self._config.sensors[index]
        if config.name not in self._sensors:
            self._sensors[config.name] = make_sensor(config, self._config, self._open_bus)
        return self._sensors[config.name]

    def poll(self) -> SensorReading:
        values: dict[str, float] = {}
        failed: list[str] = []
        for index, config in enumerate(self._config.sensors):
            try:
                values.update(self._sensor(index).read())
            except (OSError, ValueError) as exc:
                self._sensors.pop(config.name, None)  # set it up again next time (chip reset, reconnect)
                failed.append(f"{config.name}: {exc}")
        if failed:
            log.warning("sensors: %s", "; ".join(failed))
        if self._errors is not None:
            self._errors.set(SENSOR_READ_FAILED, bool(failed), "; ".join(failed))
        reading = SensorReading(values)
        self._store.put(SOURCE, reading)
        return reading

    async def run(self) -> None:
        while True:
            self.poll()
            await asyncio.sleep(self._config.poll_interval_s)
