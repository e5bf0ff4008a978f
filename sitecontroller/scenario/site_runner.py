"""Run a mode on a simulated site faster than real time.

Per plant step (plant_dt_s): PV and load profiles, the inverters' lag, the batteries. Per control
cycle (control.cycle_s): a SiteSnapshot from the plant's "meter", the production ModeManager, the
production allocator, one command per inverter. No clock is read: time is the step counter.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from masterController.control.allocator import NodeState, SiteLimits, allocate
from masterController.control.mode_manager import ModeManager
from masterController.control.snapshot import SiteSnapshot
from sitecontroller.scenario.model import SiteScenario
from sitecontroller.sim.battery import BatteryPlant
from sitecontroller.sim.inverter import InverterPlant
from sitecontroller.sim.profiles import DAY_S, LoadProfile, SolarProfile

_WALL_START_S = 1_767_225_600.0  # 2026-01-01T00:00:00Z: only the time of day matters


@dataclass(slots=True)
class SiteTrace:
    t_s: list[float] = field(default_factory=list)
    pv_w: list[float] = field(default_factory=list)
    load_w: list[float] = field(default_factory=list)
    grid_w: list[float] = field(default_factory=list)
    battery_w: list[float] = field(default_factory=list)
    setpoint_w: list[float] = field(default_factory=list)
    soc_pct: list[float] = field(default_factory=list)
    reason: list[str] = field(default_factory=list)
    clipped_w: list[float] = field(default_factory=list)


@dataclass(slots=True)
class _Node:
    node_id: str
    battery: BatteryPlant
    inverter: InverterPlant
    capacity_wh: float


class SiteRun:
    def __init__(self, scenario: SiteScenario) -> None:
        self.scenario = scenario
        self.nodes = [
            _Node(
                n.node_id,
                BatteryPlant(capacity_wh=n.capacity_kwh * 1000.0, soc_pct=n.soc_pct),
                InverterPlant(max_power_w=n.max_power_kw * 1000.0),
                n.capacity_kwh * 1000.0,
            )
            for n in scenario.nodes
        ]
        self.pv = SolarProfile(scenario.pv_peak_kw * 1000.0)
        self.load = LoadProfile(scenario.load_base_kw * 1000.0, scenario.load_peak_kw * 1000.0)
        self.manager = ModeManager(scenario.control, scenario.mode)
        self.trace = SiteTrace()
        self._setpoint_w = 0.0
        self._reason = ""
        self._clipped_w = 0.0

    def _time_of_day_s(self, t_s: float) -> float:
        return (self.scenario.start_time_of_day_s + t_s) % DAY_S

    def _extra_load_w(self, t_s: float) -> float:
        return sum(
            e.power_kw * 1000.0 for e in self.scenario.events if e.kind == "load_step" and t_s >= e.t_s
        )

    def _grid_up(self, t_s: float) -> bool:
        return not any(
            e.kind == "grid_loss" and e.t_s <= t_s < e.t_s + e.duration_s for e in self.scenario.events
        )

    def _soc_pct(self) -> float:
        total_wh = sum(n.capacity_wh for n in self.nodes)
        return sum(n.battery.soc_pct * n.capacity_wh for n in self.nodes) / total_wh

    def _node_state(self, node: _Node) -> NodeState:
        """What the node would report: a BMS-like taper to 0 W at empty and full."""
        soc = node.battery.soc_pct
        rated_w = node.inverter.max_power_w
        return NodeState(
            node.node_id,
            soc,
            max_discharge_w=rated_w if soc > 1.0 else 0.0,
            max_charge_w=rated_w if soc < 99.0 else 0.0,
            capacity_wh=node.capacity_wh,
        )

    def _control(self, t_s: float, pv_w: float, load_w: float, grid_w: float, battery_w: float) -> None:
        cfg = self.scenario.control
        for event in self.scenario.events:
            if event.kind == "mode" and event.mode is not None and event.t_s <= t_s < event.t_s + cfg.cycle_s:
                self.manager.request_mode(event.mode, "local")
        states = [self._node_state(n) for n in self.nodes]
        up = self._grid_up(t_s)
        snapshot = SiteSnapshot(
            now_s=t_s,
            wall_s=_WALL_START_S + self.scenario.start_time_of_day_s + t_s,
            grid_power_w=grid_w,
            battery_power_w=battery_w,
            soc_pct=self._soc_pct(),
            max_discharge_w=sum(s.max_discharge_w for s in states),
            max_charge_w=sum(s.max_charge_w for s in states),
            pv_power_w=pv_w,
            load_power_w=load_w,
            grid_freq_hz=50.0 if up else 0.0,
            grid_voltage_v=230.0 if up else 0.0,
            island_freq_hz=50.0,
        )
        output = self.manager.step(snapshot)
        limits = SiteLimits.from_grid(cfg.site, snapshot.grid_without_battery_w)
        allocation = allocate(
            output.decision.power_w, states, limits, allow_sleep=output.decision.nodes_may_sleep
        )
        for node, share in zip(self.nodes, allocation.nodes, strict=True):
            node.inverter.command(share.power_w)
            node.inverter.grid_forming = output.decision.grid_forming
        self._setpoint_w = output.decision.power_w
        self._reason = output.decision.reason + (
            f" | clipped: {allocation.clip_reason}" if allocation.clip_reason else ""
        )
        self._clipped_w = allocation.clipped_w

    def run(self) -> SiteTrace:
        sc = self.scenario
        dt_s = sc.plant_dt_s
        control_every = max(1, round(sc.control.cycle_s / dt_s))
        sample_every = max(1, round(sc.sample_s / dt_s))
        steps = round(sc.duration_s / dt_s)
        for tick in range(steps + 1):
            t_s = tick * dt_s
            tod_s = self._time_of_day_s(t_s)
            pv_w = self.pv.power_w(tod_s)
            load_w = self.load.power_w(tod_s) + self._extra_load_w(t_s)
            up = self._grid_up(t_s)
            for node in self.nodes:
                # Islanded, a grid-forming inverter carries the net load itself (shared equally).
                node.inverter.island_demand_w = (load_w - pv_w) / len(self.nodes)
            battery_w = sum(n.inverter.power_w for n in self.nodes)
            grid_w = load_w - pv_w - battery_w if up else 0.0
            if tick % control_every == 0:
                self._control(t_s, pv_w, load_w, grid_w, battery_w)
            if tick % sample_every == 0:
                self._sample(t_s, pv_w, load_w, grid_w, battery_w)
            for node in self.nodes:
                node.inverter.step(dt_s)
                node.battery.step(node.inverter.dc_power_w, dt_s)
        return self.trace

    def _sample(self, t_s: float, pv_w: float, load_w: float, grid_w: float, battery_w: float) -> None:
        tr = self.trace
        tr.t_s.append(t_s)
        tr.pv_w.append(pv_w)
        tr.load_w.append(load_w)
        tr.grid_w.append(grid_w)
        tr.battery_w.append(battery_w)
        tr.setpoint_w.append(self._setpoint_w)
        tr.soc_pct.append(self._soc_pct())
        tr.reason.append(self._reason)
        tr.clipped_w.append(self._clipped_w)
