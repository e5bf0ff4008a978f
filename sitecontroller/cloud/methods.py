"""Direct methods: the product's command set, every one validated and passed to the CommandSink.

Responses: 200 + JSON result, 400 bad payload (with the reason), 404 unknown method, 409 not
allowed now, 500 failed. No method runs a shell or builds a path from cloud input.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import Field, ValidationError

from sitecontroller.cloud.ota.installer import CONFIG_TYPES, SOFTWARE_TYPES, ArtifactInstaller
from sitecontroller.cloud.site_params import SiteParameters
from sitecontroller.cloud.twin import lists_from_maps
from sitecontroller.config.base import StrictModel
from sitecontroller.config.control import ModeName
from sitecontroller.config.loader import merge_patch
from sitecontroller.runtime.commands import CommandResult, CommandSink

ORIGIN = "cloud"
MODES = {
    "GoToMode_SelfConsumption": ModeName.SELF_CONSUMPTION.value,
    "GoToMode_LoadMatching": ModeName.LOAD_MATCHING.value,
    "GoToMode_ExternalControl": ModeName.EXTERNAL_CONTROL.value,
    "GoToMode_CostSaving": ModeName.COST_SAVING.value,
    "GoToMode_ChargeOnly": ModeName.CHARGE_ONLY.value,
    # Grid forming is the backup mode: islanding on grid loss with the inverter forming the grid.
    "GoToMode_GridForming": ModeName.BACKUP.value,
}
STATES = {"GoToState_Idling": "Sleep", "GoToState_Running": "Run"}


@dataclass(frozen=True, slots=True)
class MethodResult:
    status: int
    payload: dict[str, Any]


def _result(r: CommandResult) -> MethodResult:
    body: dict[str, Any] = {"ok": r.ok, "message": r.message}
    if r.data:
        body["data"] = r.data
    return MethodResult(r.status, body)


def _bad(reason: str) -> MethodResult:
    return MethodResult(400, {"ok": False, "message": reason})


class RestartArgs(StrictModel):
    reboot: bool = False  # reboot the Pi instead of restarting the daemon


class SetupArgs(StrictModel):
    site_parameters: dict[str, Any]


class SetpointArgs(StrictModel):
    power_w: float = Field(ge=-10_000_000, le=10_000_000)
    reactive_power_var: float = Field(default=0.0, ge=-10_000_000, le=10_000_000)
    lease_s: float = Field(default=60.0, gt=0, le=3600)


class UploadLogsArgs(StrictModel):
    sas_url: str = Field(default="", pattern=r"^(https?://.*)?$")  # container SAS URL; "" = hub file upload
    max_files: int = Field(default=20, ge=1, le=200)


def _args(model: type[StrictModel], payload: object) -> StrictModel | MethodResult:
    """Parse a payload strictly (no "5" for 5); null and {} give the defaults."""
    try:
        return model.model_validate({} if payload is None else payload)
    except ValidationError as exc:
        err = exc.errors()[0]
        return _bad(f"{'.'.join(str(p) for p in err['loc']) or 'payload'}: {err['msg']}")


def _no_args(payload: object) -> MethodResult | None:
    if payload is None or payload == {}:
        return None
    return _bad("this method takes no parameters (send null or {})")


class MethodDispatcher:
    def __init__(
        self,
        commands: CommandSink,
        site_params: SiteParameters,
        installer: ArtifactInstaller,
        upload_logs: Callable[[str, int], Awaitable[MethodResult]],
        method_budget_s: float = 20.0,
    ) -> None:
        self._commands = commands
        self._params = site_params
        self._installer = installer
        self._upload_logs = upload_logs
        self._budget_s = method_budget_s
        self._background: set[asyncio.Task[object]] = set()

    async def dispatch(self, name: str, payload: object) -> MethodResult:
        try:
            return await self._dispatch(name, payload)
        except Exception as exc:  # a bug must answer 500, never leave the operator waiting 30 s
            return MethodResult(500, {"ok": False, "message": f"{type(exc).__name__}: {exc}"})

    async def _dispatch(self, name: str, payload: object) -> MethodResult:
        if name in STATES:
            return _no_args(payload) or _result(self._commands.request_state(STATES[name], ORIGIN))
        if name in MODES:
            if payload is not None and not isinstance(payload, dict):
                return _bad("mode parameters must be an object, null or {}")
            return _result(self._commands.request_mode(MODES[name], ORIGIN, payload or None))
        if name == "ResetErrors":
            return _no_args(payload) or _result(self._commands.reset_errors(ORIGIN))
        if name == "Restart_Device":
            args = _args(RestartArgs, payload)
            if isinstance(args, MethodResult):
                return args
            assert isinstance(args, RestartArgs)
            return _result(self._commands.request_state("Reboot" if args.reboot else "Restart", ORIGIN))
        if name == "Set_ExternalSetpoint":
            sp = _args(SetpointArgs, payload)
            if isinstance(sp, MethodResult):
                return sp
            assert isinstance(sp, SetpointArgs)
            return _result(
                self._commands.set_external_setpoint(sp.power_w, sp.reactive_power_var, sp.lease_s, ORIGIN)
            )
        if name == "Setup_Device":
            return self._setup(payload)
        if name == "Update_Device":
            return await self._install(payload, SOFTWARE_TYPES)
        if name == "Receive_Artifact":
            return await self._install(payload, CONFIG_TYPES | SOFTWARE_TYPES)
        if name == "UploadLogs":
            up = _args(UploadLogsArgs, payload)
            if isinstance(up, MethodResult):
                return up
            assert isinstance(up, UploadLogsArgs)
            return await self._upload_logs(up.sas_url, up.max_files)
        return MethodResult(404, {"ok": False, "message": f"unknown method {name!r}"})

    def _setup(self, payload: object) -> MethodResult:
        args = _args(SetupArgs, payload)
        if isinstance(args, MethodResult):
            return args
        assert isinstance(args, SetupArgs)
        candidate = lists_from_maps(merge_patch(self._params.current(), args.site_parameters))
        problems = self._params.apply(candidate, None)
        if problems:
            return MethodResult(
                400,
                {
                    "ok": False,
                    "message": "site parameters rejected; previous stay in force",
                    "errors": [{"field": p, "message": m} for p, m in problems],
                },
            )
        return MethodResult(200, {"ok": True, "message": "site parameters applied"})

    async def _install(self, payload: object, types: frozenset[str]) -> MethodResult:
        job = asyncio.ensure_future(self._installer.handle(payload, types))
        try:
            async with asyncio.timeout(self._budget_s):
                outcome = await asyncio.shield(job)
        except TimeoutError:
            # Long download: keep going in the background; progress is in reported property `ota`.
            self._background.add(job)
            job.add_done_callback(self._background.discard)
            return MethodResult(202, {"ok": True, "message": "accepted; progress in reported property 'ota'"})
        version = outcome.manifest.version if outcome.manifest else None
        return MethodResult(
            outcome.status, {"ok": outcome.status == 200, "message": outcome.message, "version": version}
        )
