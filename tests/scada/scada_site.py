"""Test support: a SimulatedNode wired to a ScadaServer as the composition root would wire it."""

from __future__ import annotations

from pathlib import Path

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.pdu import ModbusPDU

from sitecontroller.config.scada import ScadaConfig
from sitecontroller.config.site import SiteConfig
from sitecontroller.core.events import CommandAudit, Event
from sitecontroller.scada.server import ScadaServer, device_info
from sitecontroller.sim.harness import SimulatedNode

CAPACITY_WH = 10_000.0


class ScadaSite:
    def __init__(self, config: SiteConfig, scada: ScadaConfig, tmp_path: Path, **server_args: object) -> None:
        # This server is built here (with the test's own arguments), not by the daemon's config.
        features = config.features.model_copy(update={"SCADA": False})
        config = config.model_copy(update={"features": features, "scada": ScadaConfig()})
        self.node = SimulatedNode(config, tmp_path / "state")
        daemon = self.node.daemon
        self.server = ScadaServer(
            scada, self.node.clock, daemon.status, daemon.commands, daemon.events,
            errors=daemon.errors, device=device_info(config, CAPACITY_WH), **server_args,  # type: ignore[arg-type]
        )
        daemon.core.extra_limits.append(self.server.power_limits)
        self.audits: list[CommandAudit] = []
        daemon.events.subscribe(self._audit, CommandAudit)
        self.client: AsyncModbusTcpClient
        self.beats = 0  # the last heartbeat value the test's "SCADA" wrote

    def _audit(self, event: Event) -> None:
        assert isinstance(event, CommandAudit)
        self.audits.append(event)

    async def start(self) -> None:
        await self.server.start()
        # Run, and the BMS limit has recovered to the rating: setpoints then act unclipped
        await self.node.run_until(self._ready, timeout_s=120.0)

    def _ready(self) -> bool:
        status = self.status()
        limits = (status["charge_limit_w"], status["discharge_limit_w"])
        return status["state"] == "Run" and all(isinstance(w, float) and w >= 4999.0 for w in limits)

    async def stop(self) -> None:
        await self.server.stop()

    def status(self) -> dict[str, object]:
        return self.node.daemon.status()

    @property
    def inverter_w(self) -> float:
        return float(self.node.plant.inverter.setpoint_w)

    async def run(self, seconds: float) -> None:
        """Advance the simulated site; the SCADA supervisor ticks with the node's fast loop."""
        for _ in range(round(seconds / self.node.daemon.config.loops.fast_loop_s)):
            await self.node.tick()
            self.server.tick()

    async def read(self, address: int, count: int = 1, unit: int = 1) -> list[int]:
        response = await self.client.read_holding_registers(address, count=count, device_id=unit)
        assert not response.isError(), response
        return list(response.registers)

    async def write(self, address: int, *values: int, unit: int = 1) -> ModbusPDU:
        words = [v & 0xFFFF for v in values]
        return await self.client.write_registers(address, words, device_id=unit)


def s32(value: int) -> tuple[int, int]:
    """A signed 32-bit value as two registers, high word first."""
    raw = value & 0xFFFFFFFF
    return raw >> 16, raw & 0xFFFF


def signed(word: int) -> int:
    return word - 0x10000 if word & 0x8000 else word


def exception_code(response: ModbusPDU) -> int | None:
    return response.exception_code if response.isError() else None
