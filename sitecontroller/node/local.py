"""The local operator's commands (touch screen, `sitecontroller local ...`), checked like any other:
a name and a JSON argument in, a CommandResult out; bad input is a 400 with the reason."""

from __future__ import annotations

import math

from sitecontroller.node.commands import NodeCommands
from sitecontroller.runtime.commands import CommandResult

COMMANDS = ("state", "mode", "setpoint", "heartbeat", "reset")


def local_command(commands: NodeCommands, name: str, argument: object) -> CommandResult:
    if name not in COMMANDS:
        return CommandResult(404, f"unknown local command {name!r}; known: {', '.join(COMMANDS)}")
    if name == "heartbeat":
        return commands.local_heartbeat()
    if name == "reset":
        return commands.reset_errors("local")
    if not isinstance(argument, dict):
        return CommandResult(400, f"{name} needs a JSON object")
    if name == "state":
        state = argument.get("state")
        return commands.request_state(state, "local") if isinstance(state, str) else _bad("state", "a string")
    if name == "mode":
        mode = argument.get("mode")
        return commands.request_mode(mode, "local") if isinstance(mode, str) else _bad("mode", "a string")
    power_w = argument.get("power_w")
    if isinstance(power_w, bool) or not isinstance(power_w, int | float) or not math.isfinite(power_w):
        return _bad("power_w", "a finite number of watts (discharge positive)")
    return commands.local_setpoint(float(power_w))


def _bad(key: str, what: str) -> CommandResult:
    return CommandResult(400, f"{key} must be {what}")
