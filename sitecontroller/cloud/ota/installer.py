"""Download, verify and install one artifact (Update_Device, Receive_Artifact, twin firmware).

Order: signature -> type -> version -> download (size-capped, progress reported) -> size and
SHA-256 -> per-type validation -> atomic replacement. Any failure leaves the installed artifact
untouched and is reported with its reason.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cantools
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sitecontroller.cloud import blob
from sitecontroller.cloud.ota.manifest import ArtifactRejected, Manifest, check_version, verify_manifest
from sitecontroller.cloud.ota.releases import ReleaseStore
from sitecontroller.cloud.site_params import SiteParameters
from sitecontroller.runtime.atomic import atomic_write_bytes, atomic_write_text

log = logging.getLogger(__name__)

SOFTWARE_TYPES = frozenset({"software", "firmware"})
CONFIG_TYPES = frozenset({"bms_dbc", "device_config", "meter_setup"})
RESTART_TYPES = frozenset({"bms_dbc", "meter_setup"})
_CONFIG_FILES = {"bms_dbc": "bms.dbc", "device_config": "site.json", "meter_setup": "meters.json"}


@dataclass(frozen=True, slots=True)
class InstallOutcome:
    status: int  # HTTP-like: 200 installed, 400 refused artifact, 409 not allowed now, 500 failed
    message: str
    manifest: Manifest | None = None


class ArtifactInstaller:
    def __init__(
        self,
        state_dir: Path,
        public_key: Ed25519PublicKey | None,
        releases: ReleaseStore,
        site_params: SiteParameters,
        running_version: str,
        allow_downgrade: bool,
        max_artifact_bytes: int,
        report: Callable[[dict[str, Any]], None],
        restart: Callable[[], object],
        now_wall_s: Callable[[], float],
        health_window_s: float,
    ) -> None:
        self._dir = state_dir / "artifacts"
        self._key = public_key
        self._releases = releases
        self._params = site_params
        self._running_version = running_version
        self._allow_downgrade = allow_downgrade
        self._max_bytes = max_artifact_bytes
        self._report = report
        self._restart = restart
        self._now = now_wall_s
        self._window_s = health_window_s
        self._busy = asyncio.Lock()

    @property
    def busy(self) -> bool:
        return self._busy.locked()

    def installed_version(self, artifact_type: str) -> str | None:
        if artifact_type in SOFTWARE_TYPES:
            return self._releases.current_version() or self._running_version
        return self._installed().get(artifact_type)

    def _installed(self) -> dict[str, str]:
        try:
            return json.loads((self._dir / "installed.json").read_text())
        except FileNotFoundError:
            return {}

    def _status(
        self, manifest: Manifest | None, status: str, message: str = "", progress_pct: float = 0.0
    ) -> None:
        self._report(
            {
                "ota": {
                    "status": status,
                    "message": message[:1000],
                    "progress_pct": round(progress_pct, 1),
                    "artifact_type": manifest.artifact_type if manifest else None,
                    "version": manifest.version if manifest else None,
                    "at_wall_s": round(self._now(), 3),
                }
            }
        )

    async def handle(self, payload: object, allowed_types: frozenset[str]) -> InstallOutcome:
        if not isinstance(payload, dict):
            return InstallOutcome(400, "payload must be an object with manifest, signature and url")
        url = payload.get("url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            return InstallOutcome(400, "url must be an http(s) SAS URL")
        try:
            manifest = verify_manifest(self._key, payload.get("manifest"), payload.get("signature"))
        except ArtifactRejected as exc:
            self._status(None, "refused", str(exc))
            return InstallOutcome(400, str(exc))
        if manifest.artifact_type not in allowed_types:
            return InstallOutcome(400, f"artifact type {manifest.artifact_type} not accepted by this method")
        try:
            check_version(manifest, self.installed_version(manifest.artifact_type), self._allow_downgrade)
        except ArtifactRejected as exc:
            self._status(manifest, "refused", str(exc))
            return InstallOutcome(409, str(exc), manifest)
        if self._busy.locked():
            return InstallOutcome(409, "another artifact is being installed", manifest)
        async with self._busy:
            try:
                await self._download_and_install(manifest, url)
            except ArtifactRejected as exc:
                self._status(manifest, "refused", str(exc))
                return InstallOutcome(400, str(exc), manifest)
            except (blob.TransferError, OSError) as exc:
                self._status(manifest, "failed", str(exc))
                return InstallOutcome(500, str(exc), manifest)
        return InstallOutcome(200, f"{manifest.artifact_type} {manifest.version} installed", manifest)

    async def _download_and_install(self, manifest: Manifest, url: str) -> None:
        loop = asyncio.get_running_loop()
        target = self._dir / "download" / f"{manifest.artifact_type}-{manifest.version}"

        def progress(done: int, total: int) -> None:
            # Called on the worker thread; report at most every ~10 %.
            if total and (done == total or done * 10 // total != (done - blob.CHUNK_BYTES) * 10 // total):
                loop.call_soon_threadsafe(self._status, manifest, "downloading", "", 100.0 * done / total)

        self._status(manifest, "downloading", "", 0.0)
        limit = min(manifest.size_bytes, self._max_bytes)
        try:
            digest = await asyncio.to_thread(blob.download_to, url, target, limit, progress)
        except blob.TransferError as exc:
            if "allowed" in str(exc):  # bigger than the signed size: tampered
                raise ArtifactRejected(f"artifact does not match its manifest: {exc}") from exc
            raise
        try:
            size = target.stat().st_size
            if size != manifest.size_bytes or digest != manifest.sha256:
                raise ArtifactRejected(
                    f"artifact does not match its manifest (size {size}, sha256 {digest[:12]}…)"
                )
            self._status(manifest, "installing", "", 100.0)
            await asyncio.to_thread(self._install, manifest, target)
        finally:
            target.unlink(missing_ok=True)
        if manifest.artifact_type in SOFTWARE_TYPES:
            self._status(manifest, "restarting", "switched release; confirming after the health check", 100.0)
            self._restart()
        elif manifest.artifact_type in RESTART_TYPES:
            # The BMS and meter drivers read these at start: in force after a restart at 0 W.
            self._status(manifest, "installed", "in force after the restart now requested", 100.0)
            self._restart()
        else:
            self._status(manifest, "installed", "", 100.0)

    def _install(self, manifest: Manifest, path: Path) -> None:
        kind = manifest.artifact_type
        if kind in SOFTWARE_TYPES:
            self._releases.install(manifest.version, path)
            self._releases.activate(manifest.version, self._now(), self._window_s)
            return
        data = path.read_bytes()
        if kind == "bms_dbc":
            try:
                cantools.database.load_string(data.decode(), database_format="dbc")
            except Exception as exc:  # cantools raises several parse error types
                raise ArtifactRejected(f"DBC does not parse: {exc}") from exc
        else:
            try:
                doc = json.loads(data)
            except ValueError as exc:
                raise ArtifactRejected(f"not JSON: {exc}") from exc
            if not isinstance(doc, dict):
                raise ArtifactRejected("configuration must be a JSON object")
            if kind == "device_config":
                problems = self._params.apply(doc, None)
                if problems:
                    raise ArtifactRejected("; ".join(f"{p}: {m}" for p, m in problems[:10]))
        atomic_write_bytes(self._dir / kind / _CONFIG_FILES[kind], data)
        installed = self._installed() | {kind: manifest.version}
        atomic_write_text(self._dir / "installed.json", json.dumps(installed, indent=1))
