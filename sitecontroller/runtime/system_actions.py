"""Restart and reboot: through systemd on the Pi, recorded (never carried out) in simulation."""

from __future__ import annotations

import logging
import subprocess
from typing import Protocol

log = logging.getLogger(__name__)

# The unit treats this exit status as "restart me" (RestartForceExitStatus in the unit file).
RESTART_EXIT_CODE = 75


class SystemActions(Protocol):
    def restart_service(self) -> int | None:
        """The exit status the daemon stops with so that systemd restarts it, or None to carry on."""
        ...

    def reboot_system(self) -> None: ...


class RecordedActions:
    def __init__(self) -> None:
        self.done: list[str] = []

    def restart_service(self) -> int | None:
        log.warning("simulation: service restart requested (recorded, not carried out)")
        self.done.append("restart_service")
        return None

    def reboot_system(self) -> None:
        log.warning("simulation: system reboot requested (recorded, not carried out)")
        self.done.append("reboot_system")


class SystemdActions:
    """On the Pi. Reboot goes through logind; the polkit rule in systemd/ grants it to the service user."""

    def restart_service(self) -> int | None:
        return RESTART_EXIT_CODE

    def reboot_system(self) -> None:
        subprocess.run(["/usr/bin/systemctl", "reboot"], check=False, timeout=30)
