"""NodeCommands: the CommandSink of a node. Every external command is validated here, passes the
state machine and the mode manager, and is audited as an event whether accepted or refused."""

from __future__ import annotations

import json

from masterController.control.mode_manager import ModeCommandError, ModeManager
from sitecontroller.config.control import ModeName
from sitecontroller.core.events import CommandAudit, EventBus, ModeChanged
from sitecontroller.node.core import NodeCore
from sitecontroller.runtime.commands import CommandResult
from sitecontroller.state.machine import Request, RequestRefused

_ORIGINS = {"cloud", "scada", "local", "master", "fallback"}


class NodeCommands:
    def __init__(self, core: NodeCore, modes: ModeManager, events: EventBus) -> None:
        self._core = core
        self._modes = modes
        self._events = events

    def request_state(self, state: str, origin: str) -> CommandResult:
        try:
            request = Request(state)
        except ValueError:
            return self._audit(
                origin, "state", {"state": state}, CommandResult(400, f"unknown state {state!r}")
            )
        try:
            self._core.machine.request(request, origin)
        except RequestRefused as exc:
            return self._audit(origin, "state", {"state": state}, CommandResult(409, str(exc)))
        return self._audit(origin, "state", {"state": state}, CommandResult(200, f"{state} requested"))

    def request_mode(
        self, mode: str, origin: str, parameters: dict[str, object] | None = None
    ) -> CommandResult:
        args: dict[str, object] = {"mode": mode, **(parameters or {})}
        old = self._modes.mode
        try:
            schedule = _schedule_parameter(mode, parameters)
            source = _source(origin)
            if schedule is not None:  # validated whole before anything changes
                self._modes.update_cloud_schedule(schedule, self._core.clock.monotonic())
            self._modes.request_mode(mode, source)
        except ModeCommandError as exc:
            return self._audit(origin, "mode", args, CommandResult(exc.status, str(exc)))
        if self._modes.mode != old:
            cause = f"requested by {origin}"
            self._events.publish(
                ModeChanged(self._core.clock.wall(), old.value, self._modes.mode.value, cause)
            )
        return self._audit(origin, "mode", args, CommandResult(200, f"mode {mode} selected"))

    def reset_errors(self, origin: str) -> CommandResult:
        return self.request_state(Request.RESET.value, origin)

    def set_external_setpoint(
        self, power_w: float, reactive_power_var: float, lease_s: float, origin: str
    ) -> CommandResult:
        args: dict[str, object] = {
            "power_w": power_w,
            "reactive_power_var": reactive_power_var,
            "lease_s": lease_s,
        }
        try:
            self._modes.grant_lease(
                power_w, reactive_power_var, _source(origin), lease_s, self._core.clock.monotonic()
            )
        except ModeCommandError as exc:
            return self._audit(origin, "setpoint", args, CommandResult(exc.status, str(exc)))
        accepted = CommandResult(200, "setpoint accepted", {"expires_in_s": lease_s, **args})
        return self._audit(origin, "setpoint", args, accepted)

    def local_setpoint(self, power_w: float) -> CommandResult:
        """The local operator's manual setpoint (local control mode); it lapses without heartbeats."""
        args: dict[str, object] = {"power_w": power_w}
        try:
            self._modes.local_setpoint(power_w, self._core.clock.monotonic())
        except ModeCommandError as exc:
            return self._audit("local", "local_setpoint", args, CommandResult(exc.status, str(exc)))
        return self._audit("local", "local_setpoint", args, CommandResult(200, "local setpoint accepted"))

    def local_heartbeat(self) -> CommandResult:
        self._modes.local_heartbeat(self._core.clock.monotonic())
        return CommandResult(200, "heartbeat")

    def _audit(
        self, origin: str, command: str, args: dict[str, object], result: CommandResult
    ) -> CommandResult:
        self._events.publish(
            CommandAudit(self._core.clock.wall(), origin, command, args, result.ok, result.message)
        )
        return result


def _schedule_parameter(mode: str, parameters: dict[str, object] | None) -> str | None:
    """External control may bring its schedule along; anything else is refused, never ignored:
    mode parameters are site parameters (twin or file, section `control`)."""
    if not parameters:
        return None
    if mode == ModeName.EXTERNAL_CONTROL.value and set(parameters) == {"schedule"}:
        return json.dumps(parameters["schedule"])
    raise ModeCommandError(
        400,
        f"mode parameters {sorted(parameters)} are not taken with the command: set them in control.{mode}",
    )


def _source(origin: str) -> str:
    if origin not in _ORIGINS:
        raise ModeCommandError(400, f"unknown command origin {origin!r}")
    return "cloud" if origin == "master" else origin
