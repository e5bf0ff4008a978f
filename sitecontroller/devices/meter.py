"""Energy meter driver over a register map; publishes MeterReading as "meter.<role>" (import positive)."""

from __future__ import annotations

import dataclasses

from sitecontroller.config.devices import MeterConfig
from sitecontroller.core.clock import Clock
from sitecontroller.core.datastore import DataStore
from sitecontroller.core.readings import MeterReading
from sitecontroller.devices.engine import RegisterDevice
from sitecontroller.devices.poll_loop import PollLoop
from sitecontroller.devices.reading_fields import reading_fields

_FIELDS = {f.name for f in dataclasses.fields(MeterReading)}


class MapMeter:
    def __init__(self, device: RegisterDevice, store: DataStore, clock: Clock, config: MeterConfig) -> None:
        unknown = set(device.regmap.reading) - _FIELDS
        if unknown or "power_w" not in device.regmap.reading:
            name = device.regmap.name
            raise ValueError(f"map {name}: reading needs power_w; unknown fields {sorted(unknown)}")
        self.device = device
        self.config = config
        self.source = f"meter.{config.role}"
        self.loop = PollLoop(
            device, store, self.source, clock, config.poll_interval_s, config.timeout_s, self.reading
        )

    def reading(self) -> MeterReading | None:
        fields = reading_fields(self.device, self.config.timeout_s)
        if fields["power_w"] is None:
            return None
        return MeterReading(**fields)  # type: ignore[arg-type]

    async def run(self) -> None:
        await self.loop.run()

    async def setup(self) -> None:
        """Write the meter's measurement/application mode so export reads negative (map command "setup")."""
        await self.device.command("setup")
