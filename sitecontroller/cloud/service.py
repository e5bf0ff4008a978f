"""CloudService: the one object the composition root creates for the cloud link.

It owns the outbox, the telemetry producer, the event subscription, the connection supervisor
(own jittered backoff, wall-clock gate, fresh SDK client per attempt), the twin, the direct
methods, the OTA installer and the post-update health gate. Everything slow runs in worker
threads or behind timeouts; nothing here can stall the control loops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sitecontroller.cloud import blob, telemetry
from sitecontroller.cloud.batching import pack
from sitecontroller.cloud.hub_link import HubLink, HubLinkError, MethodCall
from sitecontroller.cloud.methods import MethodDispatcher, MethodResult
from sitecontroller.cloud.ota import health
from sitecontroller.cloud.ota.installer import SOFTWARE_TYPES, ArtifactInstaller
from sitecontroller.cloud.ota.manifest import load_public_key
from sitecontroller.cloud.ota.releases import ReleaseStore
from sitecontroller.cloud.outbox import Outbox
from sitecontroller.cloud.settings import CloudSettingsError, resolve_endpoint
from sitecontroller.cloud.site_params import SiteParameters
from sitecontroller.cloud.twin import TwinHandler, maps_from_lists
from sitecontroller.config.cloud import CloudConfig
from sitecontroller.core.backoff import Backoff
from sitecontroller.core.clock import Clock
from sitecontroller.core.events import Event, EventBus
from sitecontroller.runtime.commands import CommandSink

log = logging.getLogger(__name__)

StatusProvider = Callable[[], dict[str, Any]]


class CloudService:
    def __init__(
        self,
        config: CloudConfig,
        node_id: str,
        clock: Clock,
        state_dir: Path,
        status_provider: StatusProvider,
        commands: CommandSink,
        events: EventBus,
        site_params: SiteParameters,
        snapshot_provider: StatusProvider | None = None,
        version: str = "0.0.0",
        env: dict[str, str] | None = None,
    ) -> None:
        self._config = config
        self._node_id = node_id
        self._clock = clock
        self._status = status_provider
        self._snapshot = snapshot_provider or dict
        self._commands = commands
        self._env = env
        self.connection_state = "disabled" if not config.enabled else "starting"
        self.last_error = ""
        self.outbox = Outbox(
            state_dir / "cloud" / "outbox.sqlite3", config.outbox_max_records, config.outbox_max_bytes
        )
        self.releases = ReleaseStore(Path(config.releases_dir))
        key = load_public_key(Path(config.ota_public_key_file)) if config.ota_public_key_file else None
        self._reported: dict[str, Any] = {}
        self._reported_dirty = asyncio.Event()
        self._new_records = asyncio.Event()
        self._drain_wake = asyncio.Event()
        self._firmware_task: asyncio.Future[object] | None = None
        self._pending_events: list[tuple[str, str]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._link: HubLink | None = None
        self.twin = TwinHandler(site_params)
        self.installer = ArtifactInstaller(
            state_dir / "cloud",
            key,
            self.releases,
            site_params,
            version,
            config.allow_downgrade,
            config.max_artifact_bytes,
            self.report,
            self._request_restart,
            clock.wall,
            config.health_window_s,
        )
        self.methods = MethodDispatcher(commands, site_params, self.installer, self._upload_logs)
        events.subscribe(self._on_event)
        self.report({"firmware_version": version, "node_id": node_id})

    # --- public ----------------------------------------------------------------------------
    async def run(self) -> None:
        if not self._config.enabled:
            return
        self._loop = asyncio.get_running_loop()
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._produce_spots())
            tasks.create_task(self._commit_events())
            tasks.create_task(self._health_gate())
            tasks.create_task(self._supervise())

    def link_status(self) -> dict[str, Any]:
        """For the status page and SC_Spot_10s."""
        stats = self.outbox.stats()
        return {
            "state": self.connection_state,
            "last_error": self.last_error,
            "outbox_records": stats.count,
            "outbox_bytes": stats.bytes,
            "outbox_dropped": stats.dropped,
        }

    def record(self, kind: str, data: dict[str, Any]) -> None:
        """Queue an extra record (e.g. SC_cluster_state_event from the master's election)."""
        rec = telemetry.make_record(kind, self._node_id, self._clock.wall(), data)
        self._queue_records([rec])

    def report(self, patch: dict[str, Any]) -> None:
        """Merge into the reported properties; sent debounced while connected."""
        self._reported.update(maps_from_lists(patch))
        self._reported_dirty.set()

    # --- telemetry -------------------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        self._queue_records(telemetry.event_records(self._node_id, event))

    def _queue_records(self, records: list[dict[str, Any]]) -> None:
        if not records or not self._config.enabled:
            return
        self._pending_events.extend((r["type"], telemetry.encode(r)) for r in records)  # type: ignore[misc]
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._new_records.set)

    async def _commit_events(self) -> None:
        while True:
            await self._new_records.wait()
            self._new_records.clear()
            pending, self._pending_events = self._pending_events, []
            if not pending:
                continue
            try:
                await asyncio.to_thread(self.outbox.append_many, pending)
            except (sqlite3.Error, OSError) as exc:  # e.g. disk full: keep them in memory, retry later
                log.error("outbox commit failed, retrying: %s", exc)
                self._pending_events[:0] = pending[-self._config.outbox_max_records :]
                await asyncio.sleep(5.0)
                self._new_records.set()
                continue
            self._drain_wake.set()

    def build_spot(self) -> dict[str, Any]:
        try:
            status, snapshot = self._status(), self._snapshot()
        except Exception as exc:  # a broken provider must not stop telemetry
            status, snapshot = {"error": f"status unavailable: {exc}"}, {}
        return telemetry.spot_record(self._node_id, self._clock.wall(), status, snapshot, self.link_status())

    async def _produce_spots(self) -> None:
        while True:
            rec = self.build_spot()
            self._pending_events.append((telemetry.SPOT, telemetry.encode(rec)))
            self._new_records.set()
            state, mode = rec["data"]["status"].get("state"), rec["data"]["status"].get("mode")  # type: ignore[index]
            if self._reported.get("state") != state or self._reported.get("mode") != mode:
                status = rec["data"]["status"]  # type: ignore[index]
                self.report(
                    {
                        "state": state,
                        "mode": mode,
                        "role": status.get("role"),
                        "errors": status.get("errors"),
                        "link": self.connection_state,
                    }
                )
            await asyncio.sleep(self._config.telemetry_interval_s)

    # --- connection supervisor -------------------------------------------------------------
    async def _supervise(self) -> None:
        backoff = Backoff(self._config.backoff_initial_s, self._config.backoff_max_s)
        while True:
            if self._clock.wall() < self._config.min_valid_wall_s:
                # SAS tokens carry a wall-clock expiry: wait for NTP instead of being refused.
                self.connection_state = "waiting_for_clock"
                await asyncio.sleep(5.0)
                continue
            try:
                endpoint = resolve_endpoint(self._config, self._env)
            except CloudSettingsError as exc:
                self.connection_state, self.last_error = "misconfigured", str(exc)
                log.error("cloud link not started: %s", exc)
                await asyncio.sleep(backoff.next_delay_s())
                continue
            self.connection_state = "connecting"
            link = HubLink(endpoint, self._config.keep_alive_s, self._config.sdk_call_timeout_s)
            try:
                await link.connect()
                self._link, self.connection_state, self.last_error = link, "connected", ""
                self.report({"link": "connected"})
                backoff.reset()
                await self._session(link)
            except* Exception as group:  # link errors, and any bug: never take the node down
                self.last_error = "; ".join(str(e) for e in group.exceptions)[:500]
                log.warning(
                    "cloud link down: %s",
                    self.last_error,
                    exc_info=not all(isinstance(e, HubLinkError) for e in group.exceptions),
                )
            finally:
                self._link = None
                await link.shutdown()
            self.connection_state = "backoff"
            await asyncio.sleep(backoff.next_delay_s())

    async def _session(self, link: HubLink) -> None:
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._watch_disconnect(link))
            tasks.create_task(self._drain(link))
            tasks.create_task(self._twin(link))
            tasks.create_task(self._send_reported(link))
            tasks.create_task(self._serve_methods(link))

    async def _watch_disconnect(self, link: HubLink) -> None:
        await link.disconnected.wait()
        raise HubLinkError("connection dropped")

    async def _drain(self, link: HubLink) -> None:
        """Oldest first, one batch at a time, each deleted only after the hub's PUBACK."""
        min_gap_s = 1.0 / self._config.max_sends_per_s
        while True:
            records = await asyncio.to_thread(self.outbox.peek, self._config.batch_size)
            if not records:
                self._drain_wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(1.0):
                        await self._drain_wake.wait()
                continue
            started = time.monotonic()
            try:
                batch = pack(self._node_id, records, self._config.max_message_bytes)
            except ValueError as exc:
                log.error("dropping unsendable record: %s", exc)
                await asyncio.to_thread(self.outbox.ack, records[0].seq)
                continue
            await link.send(
                batch.body,
                batch.message_id,
                "gzip",
                {
                    "kind": "telemetry-batch",
                    "first_seq": str(batch.first_seq),
                    "last_seq": str(batch.last_seq),
                    "schema_version": str(telemetry.SCHEMA_VERSION),
                    "node_id": self._node_id,
                },
            )
            await asyncio.to_thread(self.outbox.ack, batch.last_seq)
            # Throttle the drain (IoT Hub S1: sends/s are per hub, shared by every device).
            await asyncio.sleep(max(0.0, min_gap_s - (time.monotonic() - started)))

    async def _twin(self, link: HubLink) -> None:
        twin = await link.get_twin()
        self._apply_desired(twin.get("desired", {}))
        while True:
            self._apply_desired(await link.desired_patches.get())

    def _apply_desired(self, desired: dict[str, Any]) -> None:
        ack = self.twin.on_desired_patch(desired)
        if ack is not None:
            self.report(ack)
            if self.twin.applied_version is not None:
                self.report({"applied_parameter_version": self.twin.applied_version})
        firmware = desired.get("firmware")
        if isinstance(firmware, dict) and isinstance(firmware.get("manifest"), dict):
            wanted = firmware["manifest"].get("version")
            if wanted != self.installer.installed_version("software") and not self.installer.busy:
                # Keep a reference: a task nobody holds may be garbage-collected mid-download.
                self._firmware_task = asyncio.ensure_future(self.installer.handle(firmware, SOFTWARE_TYPES))

    async def _send_reported(self, link: HubLink) -> None:
        self._reported_dirty.set()  # everything once per connection
        while True:
            await self._reported_dirty.wait()
            await asyncio.sleep(self._config.reported_debounce_s)
            self._reported_dirty.clear()
            await link.patch_reported(dict(self._reported))

    async def _serve_methods(self, link: HubLink) -> None:
        running: set[asyncio.Task[None]] = set()
        while True:
            call = await link.methods.get()
            task = asyncio.create_task(self._answer(link, call))
            running.add(task)
            task.add_done_callback(running.discard)

    async def _answer(self, link: HubLink, call: MethodCall) -> None:
        result = await self.methods.dispatch(call.name, call.payload)
        log.info("direct method %s -> %d", call.name, result.status)
        with contextlib.suppress(HubLinkError):  # the link supervisor handles a dead link
            await link.respond(call, result.status, result.payload)

    # --- logs upload ----------------------------------------------------------------------------
    async def _upload_logs(self, container_sas_url: str, max_files: int) -> MethodResult:
        log_dir = Path(self._config.log_dir)
        files = (
            sorted(
                (p for p in log_dir.glob("*") if p.is_file()), key=lambda p: p.stat().st_mtime, reverse=True
            )[:max_files]
            if log_dir.is_dir()
            else []
        )
        if not files:
            return MethodResult(409, {"ok": False, "message": f"no log files in {log_dir}"})
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(self._clock.wall()))
        uploaded = []
        for path in files:
            name = f"{self._node_id}/{stamp}/{path.name}"
            try:
                if container_sas_url:
                    await asyncio.to_thread(
                        blob.upload_file, blob.with_blob_name(container_sas_url, name), path
                    )
                else:
                    await self._upload_via_hub(name, path)
            except (blob.TransferError, HubLinkError) as exc:
                return MethodResult(500, {"ok": False, "message": str(exc), "uploaded": uploaded})
            uploaded.append(name)
        return MethodResult(
            200, {"ok": True, "message": f"{len(uploaded)} files uploaded", "uploaded": uploaded}
        )

    async def _upload_via_hub(self, name: str, path: Path) -> None:
        link = self._link
        if link is None:
            raise HubLinkError("not connected")
        info = await link.storage_info(name)
        try:
            await asyncio.to_thread(blob.upload_file, blob.url_from_storage_info(info), path)
        except blob.TransferError as exc:
            await link.notify_upload(info["correlationId"], False, 500, str(exc)[:200])
            raise
        await link.notify_upload(info["correlationId"], True, 200, "ok")

    # --- OTA restart and health gate ------------------------------------------------------------
    def _request_restart(self) -> None:
        result = self._commands.request_state("Restart", "cloud")
        if not result.ok:
            self.report({"ota": {"status": "restart_refused", "message": result.message}})

    def health_facts(self) -> health.HealthFacts:
        try:
            status = self._status()
        except Exception as exc:  # no status is not healthy, but must not stop the gate
            log.warning("status unavailable for the health gate: %s", exc)
            status = {}
        cluster_ok = status.get("leader_id") not in (None, "") or status.get("role") in (
            "leader",
            "follower",
            "standalone",
        )
        return health.HealthFacts(str(status.get("state")), self.connection_state == "connected", cluster_ok)

    def check_health(self) -> health.Decision:
        """One health-gate step (public so tests and the daemon's self-test can drive it)."""
        pending = self.releases.state().get("pending")
        decision = health.decide(
            pending if isinstance(pending, dict) else None, self.health_facts(), self._clock.wall()
        )
        if decision == "confirm":
            self.releases.confirm()
            self.report({"ota": {"status": "confirmed", "version": self.releases.current_version()}})
        elif decision == "rollback":
            back_to = self.releases.rollback("health check failed within the window")
            self.report(
                {
                    "ota": {
                        "status": "rolled_back",
                        "version": back_to,
                        "message": self.releases.state().get("last_result"),
                    }
                }
            )
            if back_to is not None:
                self._request_restart()
        return decision

    async def _health_gate(self) -> None:
        while self.check_health() == "wait":
            await asyncio.sleep(5.0)
