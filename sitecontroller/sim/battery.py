"""Battery physics for the simulator: racks in parallel, cells in series with an LFP OCV curve,
internal resistance, and a lumped thermal model. Power positive = discharge.

Cells differ a little in capacity, so a real-looking spread between the min and max cell shows up
at the ends of the SoC range. Faults are injected by offsets, never by special code paths.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# LFP open-circuit voltage per cell against SoC (%), a typical curve from public datasheets.
OCV_CURVE: tuple[tuple[float, float], ...] = (
    (0.0, 2.80),
    (5.0, 3.10),
    (10.0, 3.20),
    (20.0, 3.25),
    (40.0, 3.28),
    (60.0, 3.30),
    (80.0, 3.33),
    (95.0, 3.40),
    (100.0, 3.55),
)
_OCV_SOC = np.array([p[0] for p in OCV_CURVE])
_OCV_V = np.array([p[1] for p in OCV_CURVE])


def ocv_v(soc_pct: np.ndarray) -> np.ndarray:
    """Open-circuit voltage of each cell (np.interp clamps outside 0..100 %)."""
    return np.interp(soc_pct, _OCV_SOC, _OCV_V)


@dataclass
class Rack:
    rack_id: int
    cells_in_series: int
    capacity_wh: float
    soc_pct: float
    resistance_ohm: float
    temp_c: float
    # Relative capacity of each cell (1.0 = nominal); fixed per rack so the spread is repeatable.
    cell_capacity_factors: np.ndarray = field(default_factory=lambda: np.empty(0))
    cell_soc_pct: np.ndarray = field(default_factory=lambda: np.empty(0))
    current_a: float = 0.0
    online: bool = True
    cell_voltage_offset_v: float = 0.0
    temp_offset_c: float = 0.0

    def __post_init__(self) -> None:
        n = self.cells_in_series
        k = np.arange(n)
        if self.cell_capacity_factors.size == 0:
            self.cell_capacity_factors = 1.0 - 0.02 * ((7 * k + self.rack_id) % n) / n
        if self.cell_soc_pct.size == 0:
            self.cell_soc_pct = np.full(n, self.soc_pct)
        # The middle of a module runs warmer than its ends.
        self._temp_profile_c = 1.5 * (1.0 - np.abs(2.0 * k / max(n - 1, 1) - 1.0))

    @property
    def cell_voltages_v(self) -> np.ndarray:
        drop_v = self.current_a * self.resistance_ohm / self.cells_in_series
        return ocv_v(self.cell_soc_pct) - drop_v + self.cell_voltage_offset_v

    @property
    def voltage_v(self) -> float:
        return float(self.cell_voltages_v.sum())

    @property
    def open_circuit_v(self) -> float:
        return float(ocv_v(self.cell_soc_pct).sum())

    @property
    def cell_temps_c(self) -> np.ndarray:
        return self.temp_c + self.temp_offset_c + self._temp_profile_c

    def apply(self, current_a: float, dt_s: float) -> None:
        self.current_a = current_a
        cell_capacity_ah = self.capacity_wh / (self.cells_in_series * 3.2)
        delta_pct = current_a * dt_s / 3600.0 / (cell_capacity_ah * self.cell_capacity_factors) * 100.0
        self.cell_soc_pct = np.clip(self.cell_soc_pct - delta_pct, 0.0, 100.0)
        self.soc_pct = float(self.cell_soc_pct.mean())


class BatteryPlant:
    """The DC side of one node: racks in parallel sharing the current by their resistance."""

    def __init__(
        self,
        capacity_wh: float,
        soc_pct: float,
        racks: int = 1,
        cells_in_series: int = 16,
        internal_resistance_ohm: float = 0.02,
        ambient_temp_c: float = 20.0,
        thermal_capacity_j_per_k: float = 60_000.0,
        thermal_resistance_k_per_w: float = 0.1,
    ) -> None:
        self.ambient_temp_c = ambient_temp_c
        self._c_th = thermal_capacity_j_per_k
        self._r_th = thermal_resistance_k_per_w
        self.racks = [
            Rack(i, cells_in_series, capacity_wh / racks, soc_pct, internal_resistance_ohm, ambient_temp_c)
            for i in range(racks)
        ]

    @property
    def online_racks(self) -> list[Rack]:
        return [r for r in self.racks if r.online]

    @property
    def soc_pct(self) -> float:
        racks = self.racks
        return sum(r.soc_pct * r.capacity_wh for r in racks) / sum(r.capacity_wh for r in racks)

    @property
    def voltage_v(self) -> float:
        online = self.online_racks
        return sum(r.voltage_v for r in online) / len(online) if online else 0.0

    @property
    def current_a(self) -> float:
        return sum(r.current_a for r in self.online_racks)

    @property
    def power_w(self) -> float:
        return self.voltage_v * self.current_a

    @property
    def temp_c(self) -> float:
        return max(r.temp_c + r.temp_offset_c for r in self.racks)

    @property
    def cell_voltage_min_v(self) -> float:
        return min(float(r.cell_voltages_v.min()) for r in self.online_racks or self.racks)

    @property
    def cell_voltage_max_v(self) -> float:
        return max(float(r.cell_voltages_v.max()) for r in self.online_racks or self.racks)

    def step(self, power_w: float, dt_s: float) -> None:
        """Deliver `power_w` (DC, positive = discharge) for `dt_s` seconds."""
        online = self.online_racks
        if not online:
            power_w = 0.0
            online = []
        ocv = sum(r.open_circuit_v for r in online) / len(online) if online else 0.0
        current_a = power_w / ocv if ocv > 0 else 0.0
        share_a = current_a / len(online) if online else 0.0
        for rack in self.racks:
            rack.apply(share_a if rack.online else 0.0, dt_s)
            heat_w = rack.current_a**2 * rack.resistance_ohm
            cooling_w = (rack.temp_c - self.ambient_temp_c) / self._r_th
            rack.temp_c += (heat_w - cooling_w) * dt_s / self._c_th
