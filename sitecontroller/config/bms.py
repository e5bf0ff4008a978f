"""Configuration of the battery side: BMS type, CAN link, racks, limits, balancing, sleep, SMBus.

Every model is valid with its defaults (a single Pylontech-style LV pack on can0), so a site file
only states what differs. Ranges are checked here, once, so the controllers can trust them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from sitecontroller.config.base import StrictModel

BmsType = Literal["pylontech", "cbms", "nbms_2_3", "nbms_2_5", "smbus"]
CanInterface = Literal["socketcan", "virtual", "udp_multicast"]

# LiFePO4 open-circuit voltage per cell (V) against SoC (%), rested: the steep ends are usable for
# SoC drift detection, the flat middle is not (see SocConfig.ocv_trusted_*).
LFP_OCV_TABLE: tuple[tuple[float, float], ...] = (
    (0.0, 2.80),
    (5.0, 3.10),
    (10.0, 3.20),
    (20.0, 3.25),
    (40.0, 3.28),
    (60.0, 3.30),
    (80.0, 3.33),
    (90.0, 3.35),
    (95.0, 3.40),
    (100.0, 3.55),
)


class CanConfig(StrictModel):
    interface: CanInterface = "socketcan"
    channel: str = Field("can0", min_length=1)
    bitrate: int = Field(500_000, ge=10_000, le=1_000_000)
    # Hardware/software acceptance filters built from the DBC; off only for diagnosis (can dump).
    use_filters: bool = True
    reopen_backoff_initial_s: float = Field(0.5, gt=0, le=60)
    reopen_backoff_max_s: float = Field(30.0, gt=0, le=600)
    # A frame is timed out after factor x its DBC cycle time, but never sooner than the minimum.
    frame_timeout_factor: float = Field(2.5, ge=1.0, le=100.0)
    frame_timeout_min_s: float = Field(1.0, gt=0, le=60)
    # Per-message overrides by DBC message name, seconds.
    frame_timeouts_s: dict[str, float] = Field(default_factory=dict)


class NtcConfig(StrictModel):
    """Correct cell temperatures for a BMS firmware that linearises its NTCs with the wrong B value."""

    beta_bms_k: float = Field(3435.0, gt=1000, lt=10000)
    beta_actual_k: float = Field(3435.0, gt=1000, lt=10000)
    offset_c: float = Field(0.0, ge=-10, le=10)


class SocConfig(StrictModel):
    # Resolution of the BMS SoC (1 % for Pylon, 0.5 % CBMS, ...): coulomb counting refines within it.
    resolution_pct: float = Field(1.0, gt=0, le=10)
    rest_current_a: float = Field(2.0, ge=0, le=100)
    rest_time_s: float = Field(1800.0, ge=0, le=86_400)
    drift_threshold_pct: float = Field(8.0, gt=0, le=50)
    ocv_trusted_below_pct: float = Field(15.0, ge=0, le=100)
    ocv_trusted_above_pct: float = Field(95.0, ge=0, le=100)
    ocv_table: tuple[tuple[float, float], ...] = LFP_OCV_TABLE

    @model_validator(mode="after")
    def _table_rises(self) -> SocConfig:
        socs = [p[0] for p in self.ocv_table]
        volts = [p[1] for p in self.ocv_table]
        if len(self.ocv_table) < 2 or socs != sorted(socs) or volts != sorted(volts):
            raise ValueError("ocv_table needs >= 2 points with SoC and voltage both increasing")
        return self


class FullnessConfig(StrictModel):
    full_soc_pct: float = Field(99.5, ge=50, le=100)
    full_release_soc_pct: float = Field(97.0, ge=50, le=100)
    full_cell_voltage_v: float = Field(3.55, ge=2.0, le=4.5)
    empty_soc_pct: float = Field(1.0, ge=0, le=50)
    empty_release_soc_pct: float = Field(3.0, ge=0, le=50)
    empty_cell_voltage_v: float = Field(2.90, ge=1.5, le=4.0)

    @model_validator(mode="after")
    def _hysteresis(self) -> FullnessConfig:
        if not (
            self.full_release_soc_pct < self.full_soc_pct and self.empty_release_soc_pct > self.empty_soc_pct
        ):
            raise ValueError("release thresholds must lie inside the full/empty thresholds (hysteresis)")
        return self


class BalancingConfig(StrictModel):
    start_soc_pct: float = Field(95.0, ge=0, le=100)
    start_spread_v: float = Field(0.030, gt=0, le=1)
    stop_spread_v: float = Field(0.010, gt=0, le=1)
    max_current_a: float = Field(5.0, ge=0, le=1000)
    max_duration_s: float = Field(4 * 3600.0, gt=0, le=86_400)
    min_interval_s: float = Field(24 * 3600.0, ge=0, le=30 * 86_400)

    @model_validator(mode="after")
    def _spread(self) -> BalancingConfig:
        if self.stop_spread_v >= self.start_spread_v:
            raise ValueError("stop_spread_v must be below start_spread_v")
        return self


class PowerLimitConfig(StrictModel):
    """Derating of the BMS current limits near the cell voltage limits and by temperature."""

    cell_voltage_max_v: float = Field(3.60, ge=2.0, le=4.5)
    cell_voltage_min_v: float = Field(2.90, ge=1.5, le=4.0)
    derate_window_v: float = Field(0.10, gt=0, le=1)
    # Below the reference temperature the charge voltage limit drops by this much per degree.
    temp_compensation_v_per_c: float = Field(0.003, ge=0, le=0.05)
    temp_compensation_ref_c: float = Field(15.0, ge=-20, le=40)
    charge_temp_c: tuple[float, float, float, float] = (0.0, 10.0, 45.0, 55.0)
    discharge_temp_c: tuple[float, float, float, float] = (-20.0, -10.0, 50.0, 60.0)
    recovery_ramp_w_per_s: float = Field(500.0, gt=0, le=1e6)

    @model_validator(mode="after")
    def _ordered(self) -> PowerLimitConfig:
        if self.cell_voltage_min_v + self.derate_window_v >= self.cell_voltage_max_v - self.derate_window_v:
            raise ValueError("cell voltage window too narrow for the derate window")
        for name in ("charge_temp_c", "discharge_temp_c"):
            points = getattr(self, name)
            if list(points) != sorted(points):
                raise ValueError(f"{name} must be (zero_low, full_low, full_high, zero_high) ascending")
        return self


class SleepConfig(StrictModel):
    output: Literal["none", "modbus_relay", "strato_io"] = "none"
    transport: Literal["tcp", "rtu"] = "tcp"
    host: str = "127.0.0.1"
    port: int = Field(502, ge=1, le=65535)
    serial_port: str = "/dev/ttyUSB0"
    baudrate: int = Field(19200, ge=1200, le=115_200)
    device_id: int = Field(1, ge=0, le=247)
    coil: int = Field(0, ge=0, le=65535)  # modbus_relay: the coil that drives the BMS sleep line
    strato_output: str = "bms_sleep"  # strato_io: the named output in the register map
    register_map: str = "config/devices/strato_io.json"
    sleep_when_on: bool = True
    idle_time_s: float = Field(3600.0, ge=0, le=7 * 86_400)
    wake_timeout_s: float = Field(60.0, gt=0, le=3600)
    timeout_s: float = Field(2.0, gt=0, le=30)


class SmbusConfig(StrictModel):
    bus: int | str = 1  # /dev/i2c-N number, or a device path
    address: int = Field(0x0B, ge=0x03, le=0x77)
    poll_period_s: float = Field(1.0, gt=0, le=60)
    cells: int = Field(4, ge=1, le=4)
    # SBS reports no discharge limit: this is the pack's continuous discharge rating.
    max_discharge_current_a: float = Field(10.0, ge=0, le=500)
    unseal_keys: tuple[int, int] | None = None  # two 16-bit words, written to ManufacturerAccess


class BmsConfig(StrictModel):
    type: BmsType = "pylontech"
    can: CanConfig = CanConfig()
    # Rack ids as encoded in the frame id (multi-rack protocols); one pseudo-rack 0 for LV packs.
    racks: tuple[int, ...] = (0,)
    rack_capacity_ah: float = Field(100.0, gt=0, le=10_000)
    # Usable energy of the whole battery at SoH 100 %: SoC balancing and SunSpec ratings use it.
    nominal_capacity_wh: float = Field(10_000.0, gt=0, le=100_000_000)
    # The "bms" source goes stale after this long without a reading (the safety Monitor trips).
    timeout_s: float = Field(3.0, gt=0, le=60)
    publish_period_s: float = Field(0.5, gt=0, le=10)
    dbc_dir: str = ""  # "" = the dbc/ directory of this checkout
    # A DBC that replaces the one the binding names (an OTA "bms_dbc" artifact sets this at start).
    dbc_file: str = ""
    cell_balance: bool = False
    ntc: NtcConfig = NtcConfig()
    soc: SocConfig = SocConfig()
    fullness: FullnessConfig = FullnessConfig()
    balancing: BalancingConfig = BalancingConfig()
    power_limit: PowerLimitConfig = PowerLimitConfig()
    sleep: SleepConfig = SleepConfig()
    smbus: SmbusConfig = SmbusConfig()

    @model_validator(mode="after")
    def _consistent(self) -> BmsConfig:
        if not self.racks or len(set(self.racks)) != len(self.racks) or min(self.racks) < 0:
            raise ValueError("racks must be distinct, non-negative rack ids, at least one")
        if self.can.frame_timeout_min_s >= self.timeout_s:
            # A silent BMS must be noticed per frame before the safety chain's own timeout.
            raise ValueError("can.frame_timeout_min_s must be below timeout_s")
        return self
