"""What the runtime needs from device drivers, whatever protocol is behind them.

A driver owns its link: `run()` polls or listens until cancelled and puts typed readings into
the DataStore under its source name. Commands are async methods that raise DeviceCommandError
with a clear message when the device cannot do them (no register, refused, not answering).
"""

from __future__ import annotations

from typing import Protocol


class DeviceCommandError(RuntimeError):
    """A command the device refused, cannot do, or did not confirm."""


class Service(Protocol):
    async def run(self) -> None:
        """Run until cancelled; never let one bad frame or timeout end the task."""
        ...


class InverterDriver(Service, Protocol):
    async def set_power(self, power_w: float, reactive_power_var: float = 0.0) -> None:
        """Active power positive = discharge; the driver converts to the device's sign and unit."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def reset_fault(self) -> None: ...


class BmsSleepControl(Protocol):
    async def sleep(self) -> None: ...

    async def wake(self) -> None: ...
