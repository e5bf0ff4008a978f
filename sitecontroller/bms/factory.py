"""Build the BMS service the configuration asks for."""

from __future__ import annotations

from sitecontroller.config.bms import BmsConfig
from sitecontroller.core.clock import Clock
from sitecontroller.core.datastore import DataStore
from sitecontroller.drivers.base import Service
from sitecontroller.runtime.sysinfo import SysInfo
from sitecontroller.safety.errors import ErrorHandler


def build_bms_service(
    config: BmsConfig, clock: Clock, store: DataStore, errors: ErrorHandler, sysinfo: SysInfo
) -> Service:
    """`smbus` -> smart battery over I2C; every other type is a CAN BMS with dbc/<type>.binding.json."""
    if config.type == "smbus":
        from sitecontroller.bms.smbus_service import SmbusBmsService

        return SmbusBmsService(config, clock, store, errors)
    from sitecontroller.bms.can_service import CanBmsService

    return CanBmsService(config, clock, store, errors, sysinfo)
