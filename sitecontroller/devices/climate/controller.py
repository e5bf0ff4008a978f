"""Pure climate control for several zones: hysteresis on/off for fans and heaters, proportional fan
speed above the cooling threshold, fan ramp-rate limiting, and manual force with a timeout.

No I/O, no asyncio: `step(temps_c)` on an injected clock returns what the actuators should do.
"""

from __future__ import annotations

from dataclasses import dataclass

from sitecontroller.config.devices import ClimateConfig, ClimateParameters
from sitecontroller.core.clock import Clock


@dataclass(frozen=True, slots=True)
class ClimateCommand:
    fan_pct: dict[str, float]
    heater_on: dict[str, bool]
    over_temp: tuple[str, ...] = ()
    under_temp: tuple[str, ...] = ()
    sensor_lost: tuple[str, ...] = ()


@dataclass
class _Force:
    value: float
    until_s: float


@dataclass
class _ZoneState:
    cooling: bool = False
    heating: bool = False


class ClimateController:
    def __init__(self, config: ClimateConfig, clock: Clock, params: ClimateParameters | None = None) -> None:
        """`params` overrides config.parameters (a product preset loaded from climate_presets.json)."""
        self.config = config
        self.clock = clock
        self.params = params or config.parameters
        self._zones = {zone.name: _ZoneState() for zone in config.zones}
        self._fan_pct = {fan: 0.0 for zone in config.zones for fan in zone.fans}
        self._forced: dict[str, _Force] = {}
        self._last_s: float | None = None

    def force(self, actuator: str, value: float, duration_s: float | None = None) -> None:
        """Manual override of a fan (0-100 %) or heater (0/1) for at most manual_timeout_s."""
        known = set(self._fan_pct) | {h for z in self.config.zones for h in z.heaters}
        if actuator not in known:
            raise KeyError(f"no climate actuator {actuator!r}")
        if not 0.0 <= value <= 100.0:
            raise ValueError(f"forced value {value} outside 0..100")
        limit_s = self.config.manual_timeout_s
        duration_s = limit_s if duration_s is None else min(duration_s, limit_s)
        self._forced[actuator] = _Force(value, self.clock.monotonic() + duration_s)

    def release(self, actuator: str) -> None:
        self._forced.pop(actuator, None)

    def _forced_value(self, actuator: str, now_s: float) -> float | None:
        force = self._forced.get(actuator)
        if force is None:
            return None
        if now_s >= force.until_s:
            del self._forced[actuator]
            return None
        return force.value

    def step(self, temps_c: dict[str, float | None]) -> ClimateCommand:
        p = self.params
        now_s = self.clock.monotonic()
        dt_s = 0.0 if self._last_s is None else now_s - self._last_s
        self._last_s = now_s
        fan_target: dict[str, float] = {}
        heater_on: dict[str, bool] = {}
        over, under, lost = [], [], []
        for zone in self.config.zones:
            temp_c = temps_c.get(zone.sensor)
            state = self._zones[zone.name]
            if temp_c is None:
                # no temperature: ventilate fully and never heat blind
                lost.append(zone.name)
                state.cooling, state.heating = True, False
                speed = 100.0
            else:
                state.cooling = _hysteresis(state.cooling, temp_c - p.cool_on_c, p.cool_band_c)
                state.heating = _hysteresis(state.heating, p.heat_on_c - temp_c, p.heat_band_c)
                speed = _fan_speed(p, temp_c) if state.cooling else 0.0
                if temp_c >= p.over_temp_c:
                    over.append(zone.name)
                if temp_c <= p.under_temp_c:
                    under.append(zone.name)
            for fan in zone.fans:
                fan_target[fan] = max(fan_target.get(fan, 0.0), speed)
            for heater in zone.heaters:
                heater_on[heater] = heater_on.get(heater, False) or state.heating
        max_step = p.fan_ramp_pct_per_s * dt_s
        for fan, target in fan_target.items():
            forced = self._forced_value(fan, now_s)
            if forced is not None:
                self._fan_pct[fan] = forced
                continue
            current = self._fan_pct[fan]
            # speeding up is ramped (noise, inrush); a full stop is not needed fast, so ramp both ways
            self._fan_pct[fan] = min(max(target, current - max_step), current + max_step)
        for heater in heater_on:
            forced = self._forced_value(heater, now_s)
            if forced is not None:
                heater_on[heater] = forced > 0
        return ClimateCommand(dict(self._fan_pct), heater_on, tuple(over), tuple(under), tuple(lost))


def _hysteresis(on: bool, above_threshold: float, band: float) -> bool:
    """On at the threshold; once on, off only after falling `band` below it."""
    return above_threshold >= 0.0 or (on and above_threshold > -band)


def _fan_speed(p: ClimateParameters, temp_c: float) -> float:
    """min_fan_pct at the cooling threshold (and below it, inside the band), 100 % at full_speed_c."""
    span = (temp_c - p.cool_on_c) / (p.full_speed_c - p.cool_on_c)
    return min(100.0, max(p.min_fan_pct, p.min_fan_pct + span * (100.0 - p.min_fan_pct)))
