"""Modbus exception codes the SCADA server answers with, and the SCADA alarm.

Pure: no pymodbus import, so the control part of the SCADA interface stays testable on its own.
"""

from __future__ import annotations

from enum import IntEnum

from sitecontroller.safety.errors import Severity, Source, define_error


class ExceptionCode(IntEnum):
    """The codes of the Modbus application protocol (V1.1b3, section 7) we use, and when."""

    ILLEGAL_FUNCTION = 0x01  # function code not served, or writes refused by access control
    ILLEGAL_ADDRESS = 0x02  # unknown address, read-only register, or a partial multi-register value
    ILLEGAL_VALUE = 0x03  # out of range, malformed request, or the command was refused as bad (400)
    DEVICE_FAILURE = 0x04  # the node refused the command in its current state (409) or failed (5xx)
    GATEWAY_PATH_UNAVAILABLE = 0x0A  # a follower without a master to forward the write to


class ModbusError(Exception):
    """A request answered with a Modbus exception; the message goes to the log, the code on the wire."""

    def __init__(self, code: ExceptionCode, message: str) -> None:
        super().__init__(message)
        self.code = code


def from_status(status: int, message: str) -> ModbusError:
    """Map a CommandResult status (HTTP-like) to the exception a SCADA client gets."""
    code = ExceptionCode.ILLEGAL_VALUE if status == 400 else ExceptionCode.DEVICE_FAILURE
    return ModbusError(code, message)


SCADA_HEARTBEAT_LOST = define_error(
    "scada_heartbeat_lost",
    Severity.WARNING,
    Source.MODBUS,
    "SCADA heartbeat lost: SCADA setpoints reverted to the configured fallback",
)
