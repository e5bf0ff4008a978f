"""The node's own sections: identity, feature flags, loops, status page, logging, state policy, monitor."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from sitecontroller.config.base import StrictModel

NODE_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"


class Identity(StrictModel):
    """whoAmI: the node id is also its IoT Hub device id and its cluster member id."""

    node_id: str = Field(default="node-1", pattern=NODE_ID_PATTERN)
    site_id: str = Field(default="site-1", pattern=NODE_ID_PATTERN)
    name: str = Field(default="", max_length=120)


class Features(StrictModel):
    CLUSTER: bool = False
    BACKUP: bool = False
    CELL_BALANCE: bool = False
    GRID_SERVICES: bool = False
    CLOUD: bool = False
    SCADA: bool = False
    CLIMATE: bool = False


class CommissioningState(StrEnum):
    NEW = "new"
    COMMISSIONING = "commissioning"
    COMMISSIONED = "commissioned"
    DECOMMISSIONED = "decommissioned"


class Commissioning(StrictModel):
    state: CommissioningState = CommissioningState.NEW
    commissioned_by: str = ""
    commissioned_at: str = ""


class Loops(StrictModel):
    fast_loop_s: float = Field(default=0.1, ge=0.02, le=1.0)
    slow_cycle_s: float = Field(default=1.0, ge=0.1, le=10.0)

    @model_validator(mode="after")
    def _fast_is_faster(self) -> Loops:
        if self.fast_loop_s > self.slow_cycle_s:
            raise ValueError("fast_loop_s must not exceed slow_cycle_s")
        return self


class StatusServer(StrictModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)


class Logging(StrictModel):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    file: str = "sitecontroller.log"
    max_bytes: int = Field(default=5_000_000, ge=10_000, le=1_000_000_000)
    backups: int = Field(default=5, ge=0, le=100)


class StatePolicy(StrictModel):
    """How the state machine moves on its own."""

    init_timeout_s: float = Field(default=60.0, ge=1.0, le=3600.0)
    idle_to_sleep_s: float = Field(default=900.0, ge=10.0, le=86_400.0)
    # "operator": Error is left only by a reset command; "auto": also after the cause has been
    # clear for auto_reset_after_s.
    error_reset: Literal["operator", "auto"] = "operator"
    auto_reset_after_s: float = Field(default=300.0, ge=10.0, le=86_400.0)
    start_in: Literal["Run", "Sleep"] = "Run"


class Monitor(StrictModel):
    """Fast-loop checks on top of the limits section."""

    inverter_timeout_s: float = Field(default=3.0, ge=0.2, le=120.0)
    meter_timeout_s: float = Field(default=5.0, ge=0.2, le=300.0)
    inputs_timeout_s: float = Field(default=1.0, ge=0.1, le=60.0)
    pi_temp_warning_c: float = Field(default=75.0, ge=40.0, le=95.0)
    pi_temp_critical_c: float = Field(default=85.0, ge=40.0, le=100.0)
    humidity_warning_pct: float = Field(default=85.0, ge=10.0, le=100.0)
    cell_imbalance_warning_v: float = Field(default=0.15, ge=0.005, le=1.0)
    # A BMS that answers but reports no current for this long while power is commanded is "inactive".
    inactive_bms_timeout_s: float = Field(default=60.0, ge=5.0, le=3600.0)
