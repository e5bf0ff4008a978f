"""The one door for external commands (cloud, SCADA, local UI, master).

Every command is validated here and passes through the state machine and the safety chain;
the result says whether it was accepted and why not, with an HTTP-like status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class CommandResult:
    status: int
    message: str
    data: dict[str, object] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 200


class CommandSink(Protocol):
    def request_state(self, state: str, origin: str) -> CommandResult:
        """state: "Run", "Sleep", "Maintenance", "Restart", "Reboot"."""
        ...

    def request_mode(
        self, mode: str, origin: str, parameters: dict[str, object] | None = None
    ) -> CommandResult: ...

    def reset_errors(self, origin: str) -> CommandResult: ...

    def set_external_setpoint(
        self, power_w: float, reactive_power_var: float, lease_s: float, origin: str
    ) -> CommandResult: ...
