"""Bosch BME680 over I2C (smbus2): forced-mode measurement with the datasheet's float compensation.

Register addresses and formulas: BME680 datasheet (BST-BME680-DS001), sections 3.3-3.4 and 5.3.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

CHIP_ID_REGISTER, CHIP_ID = 0xD0, 0x61
CTRL_GAS_1, CTRL_HUM, CTRL_MEAS, GAS_WAIT_0, RES_HEAT_0 = 0x71, 0x72, 0x74, 0x64, 0x5A
FIELD_0 = 0x1D  # meas_status_0 .. gas_r_lsb (0x1D..0x2B)
HEATER_TARGET_C, HEATER_WAIT_MS = 320.0, 150
_GAS_K1 = (1.0, 1.0, 1.0, 1.0, 1.0, 0.99, 1.0, 0.992, 1.0, 1.0, 0.998, 0.995, 1.0, 0.99, 1.0, 1.0)
_GAS_K2 = (
    8e6,
    4e6,
    2e6,
    1e6,
    499500.4995,
    248262.1648,
    125000.0,
    63004.03226,
    31281.28128,
    15625.0,
    7812.5,
    3906.25,
    1953.125,
    976.5625,
    488.28125,
    244.140625,
)


class I2cBus(Protocol):
    def read_byte_data(self, i2c_addr: int, register: int) -> int: ...
    def write_byte_data(self, i2c_addr: int, register: int, value: int) -> None: ...
    def read_i2c_block_data(self, i2c_addr: int, register: int, length: int) -> list[int]: ...
    def write_i2c_block_data(self, i2c_addr: int, register: int, data: list[int]) -> None: ...


@dataclass(frozen=True, slots=True)
class Calibration:
    """The datasheet's par_t*, par_p*, par_h*, par_g* and heater trim values."""

    t1: int
    t2: int
    t3: int
    p1: int
    p2: int
    p3: int
    p4: int
    p5: int
    p6: int
    p7: int
    p8: int
    p9: int
    p10: int
    h1: int
    h2: int
    h3: int
    h4: int
    h5: int
    h6: int
    h7: int
    g1: int
    g2: int
    g3: int
    heat_range: int
    heat_val: int
    range_switching_error: int


def _s8(v: int) -> int:
    return v - 256 if v > 127 else v


def _u16(lsb: int, msb: int) -> int:
    return msb << 8 | lsb


def _s16(lsb: int, msb: int) -> int:
    v = _u16(lsb, msb)
    return v - 65536 if v > 32767 else v


def read_calibration(bus: I2cBus, address: int) -> Calibration:
    a = bus.read_i2c_block_data(address, 0x89, 25)  # 0x89..0xA1
    b = bus.read_i2c_block_data(address, 0xE1, 16)  # 0xE1..0xF0
    c = {reg: bus.read_byte_data(address, reg) for reg in (0x00, 0x02, 0x04)}

    def ra(reg: int) -> int:
        return a[reg - 0x89]

    def rb(reg: int) -> int:
        return b[reg - 0xE1]

    return Calibration(
        t1=_u16(rb(0xE9), rb(0xEA)),
        t2=_s16(ra(0x8A), ra(0x8B)),
        t3=_s8(ra(0x8C)),
        p1=_u16(ra(0x8E), ra(0x8F)),
        p2=_s16(ra(0x90), ra(0x91)),
        p3=_s8(ra(0x92)),
        p4=_s16(ra(0x94), ra(0x95)),
        p5=_s16(ra(0x96), ra(0x97)),
        p6=_s8(ra(0x99)),
        p7=_s8(ra(0x98)),
        p8=_s16(ra(0x9C), ra(0x9D)),
        p9=_s16(ra(0x9E), ra(0x9F)),
        p10=ra(0xA0),
        h1=rb(0xE3) << 4 | (rb(0xE2) & 0x0F),
        h2=rb(0xE1) << 4 | rb(0xE2) >> 4,
        h3=_s8(rb(0xE4)),
        h4=_s8(rb(0xE5)),
        h5=_s8(rb(0xE6)),
        h6=rb(0xE7),
        h7=_s8(rb(0xE8)),
        g1=_s8(rb(0xED)),
        g2=_s16(rb(0xEB), rb(0xEC)),
        g3=_s8(rb(0xEE)),
        heat_range=(c[0x02] & 0x30) >> 4,
        heat_val=_s8(c[0x00]),
        range_switching_error=_s8(c[0x04] & 0xF0) >> 4,
    )


def compensate(cal: Calibration, temp_adc: int, press_adc: int, hum_adc: int) -> tuple[float, float, float]:
    """(temperature °C, pressure hPa, relative humidity %) from raw ADC values."""
    var1 = (temp_adc / 16384.0 - cal.t1 / 1024.0) * cal.t2
    var2 = (temp_adc / 131072.0 - cal.t1 / 8192.0) ** 2 * cal.t3 * 16.0
    t_fine = var1 + var2
    temp_c = t_fine / 5120.0

    var1 = t_fine / 2.0 - 64000.0
    var2 = var1 * var1 * (cal.p6 / 131072.0) + var1 * cal.p5 * 2.0
    var2 = var2 / 4.0 + cal.p4 * 65536.0
    var1 = (cal.p3 * var1 * var1 / 16384.0 + cal.p2 * var1) / 524288.0
    var1 = (1.0 + var1 / 32768.0) * cal.p1
    press_pa = 0.0
    if var1:
        press_pa = (1048576.0 - press_adc - var2 / 4096.0) * 6250.0 / var1
        var1 = cal.p9 * press_pa * press_pa / 2147483648.0
        var2 = press_pa * (cal.p8 / 32768.0)
        var3 = (press_pa / 256.0) ** 3 * (cal.p10 / 131072.0)
        press_pa += (var1 + var2 + var3 + cal.p7 * 128.0) / 16.0

    var1 = hum_adc - (cal.h1 * 16.0 + cal.h3 / 2.0 * temp_c)
    var2 = var1 * (cal.h2 / 262144.0 * (1.0 + cal.h4 / 16384.0 * temp_c + cal.h5 / 1048576.0 * temp_c**2))
    humidity = var2 + (cal.h6 / 16384.0 + cal.h7 / 2097152.0 * temp_c) * var2 * var2
    return temp_c, press_pa / 100.0, min(100.0, max(0.0, humidity))


def gas_resistance_ohm(cal: Calibration, gas_adc: int, gas_range: int) -> float:
    var1 = (1340.0 + 5.0 * cal.range_switching_error) * _GAS_K1[gas_range]
    return var1 * _GAS_K2[gas_range] / (gas_adc - 512.0 + var1)


def heater_resistance_code(cal: Calibration, target_c: float, ambient_c: float) -> int:
    var1 = cal.g1 / 16.0 + 49.0
    var2 = cal.g2 / 32768.0 * 0.0005 + 0.00235
    var4 = var1 * (1.0 + var2 * target_c)
    var5 = var4 + cal.g3 / 1024.0 * ambient_c
    code = 3.4 * (var5 * (4.0 / (4.0 + cal.heat_range)) * (1.0 / (1.0 + cal.heat_val * 0.002)) - 25.0)
    return max(0, min(255, round(code)))


def wait_code(duration_ms: int) -> int:
    factor = 0
    while duration_ms > 0x3F:
        duration_ms //= 4
        factor += 1
    return 0xFF if factor > 3 else duration_ms + factor * 64


class Bme680:
    """One forced-mode measurement per `read()`; the result of the previous trigger is read first."""

    def __init__(self, bus: I2cBus, address: int = 0x77) -> None:
        self._bus = bus
        self._address = address
        chip_id = bus.read_byte_data(address, CHIP_ID_REGISTER)
        if chip_id != CHIP_ID:
            raise OSError(f"no BME680 at 0x{address:02x} (chip id 0x{chip_id:02x})")
        self._cal = read_calibration(bus, address)
        bus.write_byte_data(address, CTRL_HUM, 0b001)  # humidity oversampling x1
        bus.write_byte_data(address, GAS_WAIT_0, wait_code(HEATER_WAIT_MS))
        bus.write_byte_data(address, RES_HEAT_0, heater_resistance_code(self._cal, HEATER_TARGET_C, 25.0))
        bus.write_byte_data(address, CTRL_GAS_1, 0x10)  # run_gas, heater profile 0
        self._trigger()

    def _trigger(self) -> None:
        # temperature x2, pressure x16 oversampling, forced mode
        self._bus.write_byte_data(self._address, CTRL_MEAS, 0b010 << 5 | 0b101 << 2 | 0b01)

    def read(self) -> dict[str, float]:
        d = self._bus.read_i2c_block_data(self._address, FIELD_0, 15)
        if not d[0] & 0x80:
            raise OSError("BME680: no new data")
        press_adc = d[2] << 12 | d[3] << 4 | d[4] >> 4
        temp_adc = d[5] << 12 | d[6] << 4 | d[7] >> 4
        hum_adc = d[8] << 8 | d[9]
        temp_c, pressure_hpa, humidity_pct = compensate(self._cal, temp_adc, press_adc, hum_adc)
        values = {"temp_c": temp_c, "pressure_hpa": pressure_hpa, "humidity_pct": humidity_pct}
        gas_lsb = d[14]
        if gas_lsb & 0x20 and gas_lsb & 0x10:  # gas valid and heater stable
            gas_adc = d[13] << 2 | gas_lsb >> 6
            values["gas_resistance_ohm"] = gas_resistance_ohm(self._cal, gas_adc, gas_lsb & 0x0F)
        self._trigger()
        return values
