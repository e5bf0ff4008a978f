"""Smart Battery System (SBS 1.1) devices over SMBus, such as the TI BQ40Z50, with smbus2.

Standard SBS words (voltage, current, relative SoC, temperature, cell voltages 1-4, status) and
the BQ40Z50 manufacturer access: security mode, unseal with the two key words, seal, and data
flash read/write through ManufacturerBlockAccess (0x44). Block reads use a combined I2C transfer
(i2c_rdwr) because the Raspberry Pi's I2C adapter cannot do SMBus block reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from smbus2 import SMBus, i2c_msg

TEMPERATURE = 0x08  # 0.1 K
VOLTAGE = 0x09  # mV
CURRENT = 0x0A  # mA, signed, positive = charging
RELATIVE_SOC = 0x0D  # %
FULL_CHARGE_CAPACITY = 0x10  # mAh
CHARGING_CURRENT = 0x14  # mA
CHARGING_VOLTAGE = 0x15  # mV
BATTERY_STATUS = 0x16
CELL_VOLTAGE_1 = 0x3F  # CellVoltage1..4 are 0x3F down to 0x3C, mV
STATE_OF_HEALTH = 0x4F  # %
MANUFACTURER_ACCESS = 0x00
MANUFACTURER_BLOCK_ACCESS = 0x44

MAC_SEAL = 0x0030
MAC_OPERATION_STATUS = 0x0054
DATA_FLASH_START = 0x4000
DATA_FLASH_END = 0x6000

# BatteryStatus bits (SBS 1.1, 5.1.21)
OVER_CHARGED_ALARM = 1 << 15
TERMINATE_CHARGE_ALARM = 1 << 14
OVER_TEMP_ALARM = 1 << 12
TERMINATE_DISCHARGE_ALARM = 1 << 11
FULLY_DISCHARGED = 1 << 4

SECURITY_MODES = {1: "full_access", 2: "unsealed", 3: "sealed"}


class SbsError(OSError):
    """The battery answered with something that is not a valid SBS response."""


@dataclass(frozen=True, slots=True)
class SbsSnapshot:
    voltage_v: float
    current_a: float  # positive = discharge (SBS reports positive = charge)
    soc_pct: float
    soh_pct: float
    temp_c: float
    cell_voltages_v: tuple[float, ...]
    status: int
    charging_current_a: float
    charging_voltage_v: float
    full_charge_capacity_ah: float


class SmartBattery:
    def __init__(self, bus: SMBus, address: int = 0x0B, cells: int = 4) -> None:
        self._bus = bus
        self._address = address
        self._cells = cells

    def word(self, command: int) -> int:
        return int(self._bus.read_word_data(self._address, command))

    def signed_word(self, command: int) -> int:
        value = self.word(command)
        return value - 0x10000 if value & 0x8000 else value

    def read(self) -> SbsSnapshot:
        cells = tuple(self.word(CELL_VOLTAGE_1 - k) / 1000.0 for k in range(self._cells))
        return SbsSnapshot(
            voltage_v=self.word(VOLTAGE) / 1000.0,
            current_a=-self.signed_word(CURRENT) / 1000.0,
            soc_pct=float(self.word(RELATIVE_SOC)),
            soh_pct=float(self.word(STATE_OF_HEALTH) & 0xFF),
            temp_c=self.word(TEMPERATURE) / 10.0 - 273.15,
            cell_voltages_v=cells,
            status=self.word(BATTERY_STATUS),
            charging_current_a=self.word(CHARGING_CURRENT) / 1000.0,
            charging_voltage_v=self.word(CHARGING_VOLTAGE) / 1000.0,
            full_charge_capacity_ah=self.word(FULL_CHARGE_CAPACITY) / 1000.0,
        )

    # ---------------------------------------------------------------- manufacturer access
    def block_read(self, command: int) -> bytes:
        write, read = i2c_msg.write(self._address, [command]), i2c_msg.read(self._address, 35)
        self._bus.i2c_rdwr(write, read)
        raw = bytes(read)
        count = raw[0]
        if count > len(raw) - 1:
            raise SbsError(f"block 0x{command:02X}: length byte {count} exceeds the transfer")
        return raw[1 : 1 + count]

    def mac_block(self, mac_command: int, data: bytes = b"") -> None:
        self._bus.write_block_data(
            self._address, MANUFACTURER_BLOCK_ACCESS, [mac_command & 0xFF, mac_command >> 8, *data]
        )

    def mac_read(self, mac_command: int) -> bytes:
        self.mac_block(mac_command)
        block = self.block_read(MANUFACTURER_BLOCK_ACCESS)
        if int.from_bytes(block[:2], "little") != mac_command:
            raise SbsError(f"MAC 0x{mac_command:04X}: the answer is for another command")
        return block[2:]

    def security_mode(self) -> str:
        status = int.from_bytes(self.mac_read(MAC_OPERATION_STATUS)[:4], "little")
        return SECURITY_MODES.get((status >> 8) & 0x3, "reserved")

    def unseal(self, keys: tuple[int, int]) -> None:
        for key in keys:
            self._bus.write_word_data(self._address, MANUFACTURER_ACCESS, key)
        if self.security_mode() == "sealed":
            raise SbsError("unseal refused: wrong keys")

    def seal(self) -> None:
        self._bus.write_word_data(self._address, MANUFACTURER_ACCESS, MAC_SEAL)

    def read_data_flash(self, address: int, length: int) -> bytes:
        """Data flash bytes from `address` (0x4000-0x5FFF), 32 per MAC transfer; needs unsealed."""
        _check_flash(address, length)
        out = b""
        while len(out) < length:
            out += self.mac_read(address + len(out))
        return out[:length]

    def write_data_flash(self, address: int, data: bytes) -> None:
        _check_flash(address, len(data))
        for offset in range(0, len(data), 32):
            self.mac_block(address + offset, data[offset : offset + 32])


def _check_flash(address: int, length: int) -> None:
    if not (address >= DATA_FLASH_START and address + length <= DATA_FLASH_END and length > 0):
        raise ValueError(f"data flash range 0x{address:04X}+{length} outside 0x4000-0x5FFF")
