"""A standalone cloud link (no control loop): `sitecontroller cloud-agent`.

Used to try a hub connection from any machine, by the kill -9 test and by bench/cloud_drain.py.
Its status is a fixed placeholder and every command is refused with 409.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from sitecontroller.cloud.service import CloudService
from sitecontroller.cloud.site_params import ValidatedSiteParameters
from sitecontroller.config.cloud import CloudConfig
from sitecontroller.config.loader import validate_site
from sitecontroller.config.site import SiteConfig
from sitecontroller.core.clock import SystemClock
from sitecontroller.core.events import EventBus
from sitecontroller.runtime.commands import CommandResult

_REFUSED = CommandResult(409, "standalone cloud agent: no control loop to command")


class RefusingCommands:
    def request_state(self, state: str, origin: str) -> CommandResult:
        return _REFUSED

    def request_mode(
        self, mode: str, origin: str, parameters: dict[str, object] | None = None
    ) -> CommandResult:
        return _REFUSED

    def reset_errors(self, origin: str) -> CommandResult:
        return _REFUSED

    def set_external_setpoint(
        self, power_w: float, reactive_power_var: float, lease_s: float, origin: str
    ) -> CommandResult:
        return _REFUSED


def build_agent(config: CloudConfig, node_id: str, state_dir: Path) -> CloudService:
    started = time.monotonic()

    def status() -> dict[str, object]:
        return {
            "node_id": node_id,
            "state": "Standby",
            "mode": "None",
            "role": "standalone",
            "uptime_s": round(time.monotonic() - started, 1),
            "version": "agent",
        }

    params = ValidatedSiteParameters(validate_site, SiteConfig())
    return CloudService(
        config,
        node_id,
        SystemClock(),
        state_dir,
        status,
        RefusingCommands(),
        EventBus(),
        params,
        version="agent",
    )


async def run_agent(config: CloudConfig, node_id: str, state_dir: Path) -> None:
    await build_agent(config, node_id, state_dir).run()


def main_sync(config: CloudConfig, node_id: str, state_dir: Path) -> None:
    asyncio.run(run_agent(config, node_id, state_dir))
