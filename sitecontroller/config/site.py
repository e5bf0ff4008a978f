"""The one validated schema of site parameters: the local file, the cache and the twin share it."""

from __future__ import annotations

from pydantic import Field, model_validator

from sitecontroller.config.base import StrictModel
from sitecontroller.config.bms import BmsConfig
from sitecontroller.config.cloud import CloudConfig
from sitecontroller.config.cluster import ClusterConfig
from sitecontroller.config.control import ControlConfig
from sitecontroller.config.devices import (
    ClimateConfig,
    GpioConfig,
    InverterConfig,
    MeterConfig,
    SensorsConfig,
    WatchdogConfig,
)
from sitecontroller.config.limits import Limits
from sitecontroller.config.node import (
    Commissioning,
    Features,
    Identity,
    Logging,
    Loops,
    Monitor,
    StatePolicy,
    StatusServer,
)
from sitecontroller.config.scada import ScadaConfig
from sitecontroller.config.simulation import Simulation

SCHEMA_VERSION = 1


class SiteConfig(StrictModel):
    schema_version: int = Field(default=SCHEMA_VERSION, ge=SCHEMA_VERSION, le=SCHEMA_VERSION)
    # Bumped by whoever edits the parameters (the twin uses its $version); reported back when applied.
    parameters_version: int = Field(default=0, ge=0)
    identity: Identity = Identity()
    features: Features = Features()
    commissioning: Commissioning = Commissioning()
    loops: Loops = Loops()
    status: StatusServer = StatusServer()
    logging: Logging = Logging()
    state: StatePolicy = StatePolicy()
    monitor: Monitor = Monitor()
    limits: Limits = Limits()
    bms: BmsConfig = BmsConfig()
    inverter: InverterConfig = InverterConfig()
    meters: tuple[MeterConfig, ...] = ()
    climate: ClimateConfig = ClimateConfig()
    sensors: SensorsConfig = SensorsConfig()
    gpio: GpioConfig = GpioConfig()
    watchdog: WatchdogConfig = WatchdogConfig()
    control: ControlConfig = ControlConfig()
    cluster: ClusterConfig = ClusterConfig()
    cloud: CloudConfig = CloudConfig()
    scada: ScadaConfig = ScadaConfig()
    simulation: Simulation = Simulation()

    @model_validator(mode="after")
    def _flags_match_sections(self) -> SiteConfig:
        if self.cluster.enabled != self.features.CLUSTER:
            raise ValueError("features.CLUSTER and cluster.enabled must agree")
        if self.cluster.enabled and self.identity.node_id not in self.cluster.member_ids:
            raise ValueError(f"identity.node_id {self.identity.node_id!r} is not a cluster member")
        if self.cloud.enabled != self.features.CLOUD:
            raise ValueError("features.CLOUD and cloud.enabled must agree")
        if self.scada.enabled != self.features.SCADA:
            raise ValueError("features.SCADA and scada.enabled must agree")
        if self.bms.cell_balance != self.features.CELL_BALANCE:
            raise ValueError("features.CELL_BALANCE and bms.cell_balance must agree")
        if self.scada.lease_s > self.control.external_control.max_lease_ttl_s:
            raise ValueError("scada.lease_s must not exceed control.external_control.max_lease_ttl_s")
        roles = [m.role for m in self.meters]
        if len(set(roles)) != len(roles):
            raise ValueError(f"one meter per role: {roles}")
        return self
