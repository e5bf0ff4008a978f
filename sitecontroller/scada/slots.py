"""Where a register write lands: whole values only, writable ones only, known addresses only."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sitecontroller.scada.errors import ExceptionCode, ModbusError


@dataclass(frozen=True, slots=True)
class Slot:
    """One value of a map: `size` registers from `address`."""

    name: str
    address: int
    size: int
    writable: bool


class SlotIndex:
    def __init__(self, slots: Iterable[Slot]) -> None:
        self._owner: dict[int, Slot] = {}
        for slot in slots:
            for address in range(slot.address, slot.address + slot.size):
                self._owner[address] = slot

    def split_write(self, address: int, values: list[int]) -> list[tuple[Slot, list[int]]]:
        """Cut a write into whole values; refuse it as a whole if any register is not writable."""
        parts: list[tuple[Slot, list[int]]] = []
        pos, end = address, address + len(values)
        while pos < end:
            slot = self._owner.get(pos)
            if slot is None:
                raise ModbusError(ExceptionCode.ILLEGAL_ADDRESS, f"register {pos} does not exist")
            if not slot.writable:
                raise ModbusError(ExceptionCode.ILLEGAL_ADDRESS, f"register {pos} ({slot.name}) is read-only")
            if slot.address != pos or pos + slot.size > end:
                raise ModbusError(
                    ExceptionCode.ILLEGAL_ADDRESS,
                    f"partial write of {slot.name} ({slot.size} registers from {slot.address})",
                )
            parts.append((slot, values[pos - address : pos - address + slot.size]))
            pos += slot.size
        return parts
