"""Configuration of the SCADA interface: the Modbus TCP (and RTU) control server, SunSpec view, meter gateway.

Everything is defaulted and valid (`ScadaConfig()` works) and safe: the server is off, and when it is
turned on it still refuses every write until `writes_enabled` is set and the client is allow-listed.
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, field_validator, model_validator

from sitecontroller.config.base import StrictModel
from sitecontroller.config.control import ModeName
from sitecontroller.config.devices import MeterRole

Fallback = Literal["hold", "local", "ramp_to_zero"]


class SunSpecViewConfig(StrictModel):
    """The SunSpec device at base 40000 (models 1, 701, 702, 704, 713, 715, 802 [+203])."""

    enabled: bool = True
    # May equal the control map's unit id: the two maps use disjoint addresses.
    unit_id: int = Field(default=1, ge=1, le=247)
    manufacturer: str = Field(default="sitecontroller", max_length=32)
    model: str = Field(default="BESS site controller", max_length=32)


class GatewayMeter(StrictModel):
    """One republished meter: its role, the map it is served in (a file in config/devices/) and unit id."""

    role: MeterRole = "grid"
    map_name: str = Field(default="em24_ethernet", pattern=r"^[a-z0-9_]+$")
    unit_id: int = Field(default=2, ge=1, le=247)


class MeterGatewayConfig(StrictModel):
    """Republish the meters this node owns for other devices on the site network."""

    enabled: bool = False
    meters: tuple[GatewayMeter, ...] = (GatewayMeter(),)
    # Also add SunSpec model 203 (wye meter) for the grid meter to the SunSpec view.
    sunspec_203: bool = True

    @model_validator(mode="after")
    def _distinct(self) -> MeterGatewayConfig:
        roles = [m.role for m in self.meters]
        units = [m.unit_id for m in self.meters]
        if len(set(roles)) != len(roles) or len(set(units)) != len(units):
            raise ValueError("each republished meter needs its own role and unit id")
        return self


class RtuConfig(StrictModel):
    """The same server on RS-485 (pyserial). Off unless a port is configured."""

    enabled: bool = False
    port: str = Field(default="/dev/ttyAMA0", min_length=1)
    baudrate: int = Field(default=19200, ge=1200, le=921600)
    bytesize: Literal[7, 8] = 8
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1


class ScadaConfig(StrictModel):
    enabled: bool = False
    host: str = "0.0.0.0"
    port: int = Field(default=502, ge=0, le=65535)
    unit_id: int = Field(default=1, ge=1, le=247)
    writes_enabled: bool = False
    # IPv4/IPv6 addresses or networks ("10.0.0.5", "10.0.1.0/24"); empty: nobody may write.
    allowed_clients: tuple[str, ...] = ()
    # SCADA must change the heartbeat register at least this often while it holds setpoints.
    heartbeat_timeout_s: float = Field(default=30.0, ge=1.0, le=3600.0)
    fallback: Fallback = "ramp_to_zero"
    # Mode selected by the "local" fallback.
    fallback_mode: ModeName = ModeName.SELF_CONSUMPTION
    fallback_ramp_w_per_s: float = Field(default=1000.0, gt=0.0, le=1_000_000.0)
    # Each SCADA setpoint is a lease of this length, renewed while the heartbeat is alive.
    lease_s: float = Field(default=60.0, gt=0.0, le=86_400.0)
    max_connections: int = Field(default=16, ge=1, le=64)
    idle_timeout_s: float = Field(default=120.0, gt=0.0, le=86_400.0)
    # The served snapshot is at most this old; refreshing never blocks the control loops.
    refresh_s: float = Field(default=0.1, ge=0.01, le=10.0)
    # Period of the lease/heartbeat/reversion supervisor.
    supervise_s: float = Field(default=0.1, ge=0.01, le=10.0)
    sunspec: SunSpecViewConfig = SunSpecViewConfig()
    meter_gateway: MeterGatewayConfig = MeterGatewayConfig()
    rtu: RtuConfig = RtuConfig()

    @field_validator("allowed_clients")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            ipaddress.ip_network(entry, strict=False)  # ValueError names the bad entry
        return value

    @model_validator(mode="after")
    def _units_distinct(self) -> ScadaConfig:
        gateway = self.meter_gateway
        if gateway.enabled and {m.unit_id for m in gateway.meters} & {self.unit_id, self.sunspec.unit_id}:
            raise ValueError("meter gateway unit ids must differ from the control and SunSpec unit ids")
        return self
