"""Desired properties -> site parameters, and the reported-property acknowledgements.

Twin layout (docs/cloud.md): desired `site_parameters` is a JSON merge patch (RFC 7386) onto the
local site parameters; `firmware` asks for a software version (see ota). Twins have no arrays, so
a map whose keys are exactly "0".."n-1" stands for a list.
"""

from __future__ import annotations

from typing import Any

from sitecontroller.cloud.site_params import Problems, SiteParameters
from sitecontroller.config.loader import merge_patch

DESIRED_KEY = "site_parameters"
ACK_KEY = "site_parameters_ack"


def lists_from_maps(value: Any) -> Any:
    if isinstance(value, dict):
        converted = {k: lists_from_maps(v) for k, v in value.items()}
        if converted and set(converted) == {str(i) for i in range(len(converted))}:
            return [converted[str(i)] for i in range(len(converted))]
        return converted
    return value


def maps_from_lists(value: Any) -> Any:
    """Inverse for reported properties (no arrays allowed in a twin)."""
    if isinstance(value, list):
        return {str(i): maps_from_lists(v) for i, v in enumerate(value)}
    if isinstance(value, dict):
        return {k: maps_from_lists(v) for k, v in value.items()}
    return value


def ack(version: int | None, problems: Problems) -> dict[str, Any]:
    """The writable-property acknowledgement (IoT Plug and Play style: ac/av/ad)."""
    if not problems:
        return {ACK_KEY: {"ac": 200, "av": version, "ad": "applied", "errors": None}}
    errors = {str(i): {"field": path, "message": msg[:500]} for i, (path, msg) in enumerate(problems[:50])}
    return {
        ACK_KEY: {
            "ac": 400,
            "av": version,
            "ad": "rejected; previous parameters stay in force",
            "errors": errors,
        }
    }


class TwinHandler:
    def __init__(self, params: SiteParameters) -> None:
        self._params = params
        self.applied_version: int | None = None

    def on_full_twin(self, twin: dict[str, Any]) -> dict[str, Any] | None:
        """At (re)connect: apply the desired document if its version was not applied yet."""
        desired = twin.get("desired", {})
        return self.on_desired_patch(desired)

    def on_desired_patch(self, patch: dict[str, Any]) -> dict[str, Any] | None:
        """Returns the reported patch to send, or None when the patch holds no site parameters."""
        version = patch.get("$version")
        version = version if isinstance(version, int) else None
        if DESIRED_KEY not in patch:
            return None
        if version is not None and version == self.applied_version:
            return None
        site_patch = patch[DESIRED_KEY]
        if not isinstance(site_patch, dict):
            problems: Problems = [(DESIRED_KEY, "must be an object")]
        else:
            candidate = lists_from_maps(merge_patch(self._params.current(), site_patch))
            if version is not None:
                candidate["parameters_version"] = version  # the site schema records what is in force
            problems = self._params.apply(candidate, version)
        if not problems:
            self.applied_version = version
        return ack(version, problems)
