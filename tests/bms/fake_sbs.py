"""A fake I2C adapter with a BQ40Z50-like smart battery behind it (reference: test-infrastructure
section 9). smbus2 opens a regular file and its `ioctl` is replaced by `FakeSbs.ioctl`, so the real
smbus2 code builds and parses every kernel structure."""

from __future__ import annotations

import ctypes

from smbus2 import smbus2 as s2

UNSEAL_KEYS = (0x0414, 0x3672)


class FakeSbs:
    def __init__(self, address: int = 0x0B) -> None:
        self.address = address
        self.words: dict[int, int] = {
            0x08: 2981,  # 298.1 K = 24.95 degC
            0x09: 13_200,  # mV
            0x0A: (-1500) & 0xFFFF,  # mA: 1.5 A discharging
            0x0D: 64,
            0x10: 4_400,
            0x14: 2_000,
            0x15: 14_400,
            0x16: 0x00C0,  # INIT | DSG
            0x3C: 3_290,
            0x3D: 3_300,
            0x3E: 3_310,
            0x3F: 3_305,
            0x4F: 96,
        }
        self.sealed = True
        self.flash = bytearray(range(256)) * 32  # 0x4000-0x5FFF
        self._target = 0
        self._keys: list[int] = []
        self._mac: bytes = b""
        self.present = True

    # ------------------------------------------------------------------ the ioctl entry point
    def ioctl(self, fd: int, request: int, arg: object) -> int:
        if request in (s2.I2C_SLAVE, s2.I2C_SLAVE_FORCE):
            self._target = int(arg)  # type: ignore[call-overload]
            return 0
        if request == s2.I2C_FUNCS:
            arg.value = 0xFFFFFFFF  # type: ignore[attr-defined]
            return 0
        if not self.present or self._target != self.address:
            raise OSError(121, "Remote I/O error")
        if request == s2.I2C_SMBUS:
            self._smbus(arg)  # type: ignore[arg-type]
        elif request == s2.I2C_RDWR:
            self._rdwr(arg)  # type: ignore[arg-type]
        return 0

    def _smbus(self, msg: s2.i2c_smbus_ioctl_data) -> None:
        data = msg.data.contents
        if msg.size == s2.I2C_SMBUS_WORD_DATA and msg.read_write == s2.I2C_SMBUS_READ:
            data.word = self.words.get(msg.command, 0)
        elif msg.size == s2.I2C_SMBUS_WORD_DATA:
            self._write_word(msg.command, data.word)
        elif msg.size == s2.I2C_SMBUS_BLOCK_DATA and msg.read_write == s2.I2C_SMBUS_WRITE:
            block = bytes(data.block[1 : data.block[0] + 1])
            if msg.command == 0x44:
                self._mac_write(block)
        else:
            raise OSError(95, "Operation not supported")

    def _rdwr(self, ioctl_data: s2.i2c_rdwr_ioctl_data) -> None:
        msgs = [ioctl_data.msgs[i] for i in range(ioctl_data.nmsgs)]
        write, read = msgs
        command = write.buf[0][0]
        answer = bytes([len(self._mac)]) + self._mac if command == 0x44 else b"\x00"
        answer = answer.ljust(read.len, b"\xff")[: read.len]
        ctypes.memmove(read.buf, answer, read.len)

    # ------------------------------------------------------------------ device behaviour
    def _write_word(self, command: int, value: int) -> None:
        if command != 0x00:
            self.words[command] = value
            return
        if value == 0x0030:
            self.sealed = True
            return
        self._keys = [*self._keys, value][-2:]
        if tuple(self._keys) == UNSEAL_KEYS:
            self.sealed = False

    def _mac_write(self, block: bytes) -> None:
        command = int.from_bytes(block[:2], "little")
        payload = block[2:]
        if command == 0x0054:
            status = (3 if self.sealed else 2) << 8
            self._mac = block[:2] + status.to_bytes(4, "little")
        elif 0x4000 <= command < 0x6000:
            if self.sealed:
                self._mac = b""
                return
            offset = command - 0x4000
            if payload:
                self.flash[offset : offset + len(payload)] = payload
            self._mac = block[:2] + bytes(self.flash[offset : offset + 32])
