"""One simulated site: the battery and inverter of each node, PV, load, the grid and the site meter.

`step(dt_s)` advances the physics. Grid power at the meter is positive for import:
load - PV - sum of inverter AC power (inverter positive = discharge).
"""

from __future__ import annotations

from dataclasses import dataclass

from sitecontroller.config.simulation import Simulation
from sitecontroller.sim.battery import BatteryPlant
from sitecontroller.sim.grid import GridModel
from sitecontroller.sim.inverter import InverterPlant
from sitecontroller.sim.profiles import DAY_S, LoadProfile, SolarProfile


@dataclass
class NodePlant:
    battery: BatteryPlant
    inverter: InverterPlant


class SitePlant:
    def __init__(self, sim: Simulation, node_ids: list[str]) -> None:
        b, inv, site = sim.battery, sim.inverter, sim.site
        self.nodes = {
            node_id: NodePlant(
                BatteryPlant(
                    b.capacity_wh,
                    b.initial_soc_pct,
                    b.racks,
                    b.cells_in_series,
                    b.internal_resistance_ohm,
                    b.ambient_temp_c,
                    b.thermal_capacity_j_per_k,
                    b.thermal_resistance_k_per_w,
                ),
                InverterPlant(inv.max_power_w, inv.time_constant_s, inv.dead_time_s, None, inv.efficiency),
            )
            for node_id in node_ids
        }
        self.pv = SolarProfile(site.pv_peak_w)
        self.load = LoadProfile(site.load_base_w, site.load_peak_w)
        self.grid = GridModel(site.nominal_freq_hz)
        self.t_s = 0.0
        self._tod_start_s = site.time_of_day_start_s
        self.load_offset_w = 0.0

    @property
    def time_of_day_s(self) -> float:
        return (self._tod_start_s + self.t_s) % DAY_S

    @property
    def pv_power_w(self) -> float:
        return self.pv.power_w(self.time_of_day_s)

    @property
    def load_power_w(self) -> float:
        return self.load.power_w(self.time_of_day_s) + self.load_offset_w

    @property
    def inverter_power_w(self) -> float:
        return sum(n.inverter.power_w for n in self.nodes.values())

    @property
    def grid_power_w(self) -> float:
        if not self.grid.available(self.t_s):
            return 0.0
        return self.load_power_w - self.pv_power_w - self.inverter_power_w

    @property
    def freq_hz(self) -> float:
        return self.grid.freq_hz(self.t_s) if self.grid.available(self.t_s) else 0.0

    def step(self, dt_s: float) -> None:
        self.t_s += dt_s
        island = not self.grid.available(self.t_s)
        forming = [n for n in self.nodes.values() if n.inverter.grid_forming]
        demand_w = self.load_power_w - self.pv_power_w
        for node in self.nodes.values():
            node.inverter.island_demand_w = demand_w / len(forming) if island and forming else 0.0
            if island and not node.inverter.grid_forming:
                node.inverter.running = False  # anti-islanding: grid-following inverters trip
            node.inverter.step(dt_s)
            node.battery.step(node.inverter.dc_power_w, dt_s)
