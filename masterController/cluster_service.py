"""The cluster as one asyncio service: election core + transport + membership + master + node follower.

The daemon's composition root constructs one `ClusterService` and runs `await service.run()` as a
task; the control loop reads `current_setpoint()` (None = no valid master lease: run the safe
local mode) and the status API reads `role`, `term` and `leader_id`. With `config.enabled` False
the service is "standalone": it owns no socket and never commands anything.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from pathlib import Path

from masterController.history import Recorder, RecordingStore
from masterController.master.controller import Decide, MasterController
from masterController.master.setpoint import RunState, SetpointBatch
from masterController.master.site_params import SiteParams
from masterController.membership.beacon import Discovery
from masterController.membership.beacon_service import BeaconService, load_beacon_key
from masterController.membership.node_state import NodeState
from masterController.membership.summary import ClusterSummary, summarize
from masterController.membership.tracker import MembershipEvent, MembershipTracker
from masterController.node.controller import AppliedSetpoint, MasterDirective, NodeController, Verdict
from masterController.raft.core import ElectionCore
from masterController.raft.file_store import FileHardStateStore
from masterController.raft.messages import Message, Role
from masterController.raft.storage import HardState
from masterController.transport.keys import load_curve_keys
from masterController.transport.zmq_transport import ZmqTransport
from sitecontroller.config.cluster import ClusterConfig
from sitecontroller.core.clock import Clock

log = logging.getLogger(__name__)

# How often the master hands out the cluster-wide parameters (and so how soon a rejoining node has them).
PARAMS_INTERVAL_S = 2.0


class ClusterService:
    def __init__(
        self,
        config: ClusterConfig,
        node_id: str,
        clock: Clock,
        state_dir: Path,
        node_state_provider: Callable[[], NodeState] | None,
        decide: Decide,
        *,
        recorder: Recorder | None = None,
        site_params: Callable[[], tuple[int, dict[str, object], dict[str, dict[str, tuple[float, float]]]]]
        | None = None,
        on_site_params: Callable[[SiteParams], None] | None = None,
    ) -> None:
        """`node_state_provider` is None on a witness (it controls no battery).
        `recorder` receives every event as a dict {"t", "node", "ev", ...}: start, role, persist
        (term/vote), lease, lease_end, send, apply, member (online/offline/leader). Tests record
        them as history; the daemon can forward them to its event bus."""
        self._cfg = config
        self._id = node_id
        self._clock = clock
        self._state_dir = state_dir
        self._provider = node_state_provider
        self._recorder = recorder
        # Leader: (version, control section) to hand out; follower: what to do with the master's.
        self._site_params = site_params
        self._on_site_params = on_site_params
        self._next_params_s = 0.0
        self._stopped = asyncio.Event()
        self._core: ElectionCore | None = None
        self._transport: ZmqTransport | None = None
        self._beacon: BeaconService | None = None
        self._master = MasterController(node_id, config, decide)
        self._follower = NodeController(node_id, config.config_version)
        self._members = MembershipTracker(config)
        self._last_role: tuple[Role, int, str | None] | None = None
        self._lease_until_s: float | None = None
        self._next_publish_s = 0.0
        self._next_state_s = 0.0
        self._last_loop_s = clock.monotonic()
        self._held = False
        # A loop gap this long means the process was stopped or starved: whatever the sockets
        # buffered meanwhile is old, and its age cannot be measured without synchronised clocks.
        self._stall_s = config.setpoint_ttl_s / 2
        self._stalled = False
        if config.enabled and node_id not in config.member_ids:
            raise ValueError(f"node {node_id!r} is not among the configured cluster members")

    # ---- read-only view for the daemon ---------------------------------------------------------
    @property
    def role(self) -> str:
        if self._core is None:
            return "standalone"
        return "candidate" if self._core.role is Role.PRE_CANDIDATE else str(self._core.role)

    @property
    def term(self) -> int:
        return 0 if self._core is None else self._core.term

    @property
    def leader_id(self) -> str | None:
        return None if self._core is None else self._core.leader_id

    def current_setpoint(self) -> AppliedSetpoint | None:
        """This node's valid master setpoint now, or None: then run the safe local mode."""
        return self._follower.current(self._clock.monotonic())

    def master_directive(self) -> MasterDirective | None:
        """The master's site-wide Run/Sleep (or hold) and mode name, while fresh; else None."""
        return self._follower.directive(self._clock.monotonic())

    def node_states(self) -> dict[str, NodeState]:
        """Fresh states of the battery nodes heard from (this one included)."""
        return self._members.online_states(self._clock.monotonic())

    def discovered(self) -> dict[str, Discovery]:
        """Nodes heard by the commissioning beacon (informational: never changes the quorum)."""
        return {} if self._beacon is None else self._beacon.listener.discovered()

    def summary(self) -> ClusterSummary:
        """Cluster telemetry: online count, mean SoC, total power and limits, unhealthy nodes."""
        return summarize(self.node_states())

    # ---- commands ------------------------------------------------------------------------------
    def set_run_state(self, run_state: RunState) -> None:
        """Site-wide Run/Sleep; takes effect while (and if) this node is the master."""
        self._master.set_run_state(run_state)

    def set_site_mode(self, site_mode: str) -> None:
        """Name of the active mode controller; followers see it in `master_directive()`."""
        self._master.set_site_mode(site_mode)

    def transfer_leadership(self, target: str) -> None:
        """Before a rolling update of the master: hand over at once instead of failing over."""
        if self._core is None:
            raise RuntimeError("cluster is not running")
        self._send(self._core.transfer_leadership(target, self._clock.monotonic()))
        self._after_core_event()

    async def stop(self) -> None:
        """Stop; a leader first hands over, so a planned restart costs no election timeout."""
        target = None if self._core is None else self._core.transfer_target()
        if target is not None:
            self.transfer_leadership(target)
            # Give the I/O thread a moment to put TIMEOUT_NOW on the wire before sockets close.
            await asyncio.sleep(self._cfg.heartbeat_interval_s)
        self._stopped.set()

    # ---- the service --------------------------------------------------------------------------
    async def run(self) -> None:
        if not self._cfg.enabled:
            await self._stopped.wait()
            return
        store = FileHardStateStore(self._state_dir)
        recording = RecordingStore(store, self._record_persist) if self._recorder else store
        now_s = self._clock.monotonic()
        self._core = ElectionCore(self._id, self._cfg, recording, random.Random(), now_s)
        keys = load_curve_keys(self._cfg, self._id) if self._cfg.curve.enabled else None
        self._transport = ZmqTransport(
            self._cfg, self._id, keys=keys, on_election=self._on_election, on_published=self._on_published
        )
        await self._transport.start()
        self._record("start", durable=True)
        self._after_core_event()
        tasks = [asyncio.create_task(self._transport.run()), asyncio.create_task(self._tick_loop())]
        if self._cfg.discovery.enabled:
            key = load_beacon_key(Path(self._cfg.discovery.key_path))
            self._beacon = BeaconService(self._cfg, self._id, key, self._clock, self._on_discovery)
            tasks.append(asyncio.create_task(self._beacon.run()))
        stop_task = asyncio.create_task(self._stopped.wait())
        try:
            done, _ = await asyncio.wait([*tasks, stop_task], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stop_task:
                    task.result()  # a crashed loop is an error, not a silent stop
        finally:
            for task in [*tasks, stop_task]:
                task.cancel()
            await asyncio.gather(*tasks, stop_task, return_exceptions=True)
            await self._transport.close()

    async def _tick_loop(self) -> None:
        while True:
            now_s = self._clock.monotonic()
            self._stalled = False
            if now_s - self._last_loop_s > self._stall_s:
                log.warning("cluster loop stalled %.3f s", now_s - self._last_loop_s)
            self._last_loop_s = now_s
            self._tick(now_s)
            await asyncio.sleep(self._cfg.tick_interval_s)

    def _tick(self, now_s: float) -> None:
        assert self._core is not None and self._transport is not None
        self._send(self._core.tick(now_s))
        self._after_core_event()
        self._member_events(self._members.expire(now_s))
        if self._provider is not None and now_s >= self._next_state_s:
            self._next_state_s = now_s + self._cfg.state_interval_s
            state = self._provider()
            self._member_events(self._members.observe(state, now_s))
            self._transport.publish(state)
        status = self._core.status(now_s)
        expiry_s = self._core.lease_expiry_s()
        if status.lease_valid and expiry_s is not None and expiry_s != self._lease_until_s:
            self._lease_until_s = expiry_s
            self._record("lease", term=status.term, until=expiry_s)
        # Publish the first real batch the moment the hold TTL ends, not one interval later.
        hold_over = (
            self._held
            and status.leader_since_s is not None
            and now_s >= status.leader_since_s + self._cfg.setpoint_ttl_s
        )
        if self._site_params is not None and status.lease_valid and now_s >= self._next_params_s:
            self._next_params_s = now_s + PARAMS_INTERVAL_S
            version, control, shares = self._site_params()
            self._transport.publish(SiteParams(status.term, self._id, version, control, shares))
        if now_s >= self._next_publish_s or hold_over:
            batch = self._master.next_batch(status, self._members.online_states(now_s), now_s)
            if batch is not None:
                self._next_publish_s = now_s + self._cfg.setpoint_interval_s
                self._held = batch.run_state is RunState.HOLD
                self._record("send", term=batch.term, seq=batch.seq, run_state=str(batch.run_state))
                self._transport.publish(batch)
                self._apply(batch, now_s)  # the master is a node too

    # ---- inbound ------------------------------------------------------------------------------
    def _on_election(self, msg: Message) -> None:
        assert self._core is not None
        self._send(self._core.step(msg, self._clock.monotonic()))
        self._after_core_event()

    def _on_published(self, peer: str, payload: SetpointBatch | NodeState | SiteParams) -> None:
        now_s = self._clock.monotonic()
        if isinstance(payload, NodeState):
            self._member_events(self._members.observe(payload, now_s))
            return
        if isinstance(payload, SiteParams):
            # Only the leader of the newest term speaks for the site.
            current = payload.term >= self._follower.highest_term and payload.leader_id == self.leader_id
            if current and self._on_site_params is not None and payload.leader_id != self._id:
                self._on_site_params(payload)
            return
        if self._stalled or now_s - self._last_loop_s > self._stall_s:
            # Drained from a backlog after a stall: drop until the loop has run again.
            self._stalled = True
            return
        self._apply(payload, now_s)

    def _apply(self, batch: SetpointBatch, now_s: float) -> None:
        verdict = self._follower.offer(batch, now_s)
        applied = self._follower.current(now_s)
        if verdict is Verdict.ACCEPTED and applied is not None and applied.seq == batch.seq:
            self._record(
                "apply",
                term=batch.term,
                leader=batch.leader_id,
                seq=batch.seq,
                run_state=str(batch.run_state),
                power_w=applied.power_w,
                expires=applied.expires_at_s,
            )
        elif verdict is not Verdict.ACCEPTED:
            log.debug("setpoint %d/%d from %s refused: %s", batch.term, batch.seq, batch.leader_id, verdict)

    # ---- helpers ------------------------------------------------------------------------------
    def _send(self, messages: list[Message]) -> None:
        assert self._transport is not None
        for msg in messages:
            self._transport.send_election(msg)

    def _after_core_event(self) -> None:
        assert self._core is not None
        role = (self._core.role, self._core.term, self._core.leader_id)
        if role != self._last_role:
            if self._lease_until_s is not None and self._clock.monotonic() < self._lease_until_s:
                self._record("lease_end", term=self._last_role[1] if self._last_role else 0)
            self._lease_until_s = None
            self._last_role = role
            self._record(
                "role", role=str(role[0]), term=role[1], leader=role[2], since=self._core.leader_since_s
            )
            self._member_events(self._members.observe_leader(role[1], role[2]))
            log.info("cluster: %s, term %d, leader %s", role[0], role[1], role[2])
        self._follower.observe_term(self._core.term, self._core.leader_id)

    def _member_events(self, events: list[MembershipEvent]) -> None:
        for event in events:
            log.info("cluster member %s: %s (%s)", event.node_id, event.kind, event.detail)
            self._record("member", kind=event.kind, member=event.node_id, detail=event.detail)

    def _on_discovery(self, discovery: Discovery) -> None:
        beacon = discovery.beacon
        if discovery.mismatch:
            log.warning("beacon: %s at %s %s", beacon.node_id, beacon.election_endpoint, discovery.mismatch)
        else:
            log.info("beacon: member %s seen (boot %s)", beacon.node_id, beacon.boot_id)

    def _record_persist(self, state: HardState) -> None:
        self._record("persist", term=state.term, voted_for=state.voted_for)

    def _record(self, ev: str, **fields: object) -> None:
        if self._recorder is not None:
            self._recorder({"t": self._clock.monotonic(), "node": self._id, "ev": ev, **fields})
