"""pyzmq transport: ROUTER (bind) + one DEALER per peer for election traffic, PUB (bind) + one SUB per
peer for setpoints and node states. CURVE authenticates every peer by its provisioned key.

Queues are bounded and nothing is queued for a dead peer (IMMEDIATE, small HWMs, LINGER 0), so a
reconnect never replays a stale backlog; messages that cannot go out at once are dropped (Raft
retries by itself and setpoints are renewed every interval). One SUB per peer lets the receiver
know, from the authenticated connection, who published a message, and refuse forged sender ids.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TypeVar

import zmq
import zmq.asyncio
from zmq.auth.asyncio import AsyncioAuthenticator
from zmq.utils import z85

from masterController.master.setpoint import SetpointBatch
from masterController.master.site_params import SiteParams
from masterController.membership.node_state import NodeState
from masterController.raft.messages import Message
from masterController.transport.codec import CodecError, Payload, decode, encode
from masterController.transport.keys import CurveKeys
from sitecontroller.config.cluster import ClusterConfig

log = logging.getLogger(__name__)

SEND_HWM = 16
RECV_HWM = 64
RECONNECT_IVL_MS = 50
RECONNECT_IVL_MAX_MS = 500
ZMTP_HEARTBEAT_MS = 1000

SocketT = TypeVar("SocketT", bound=zmq.Socket)
OnElection = Callable[[Message], None]
OnPublished = Callable[[str, SetpointBatch | NodeState], None]


class _KeyedAuthenticator(AsyncioAuthenticator):
    """ZAP handler that names an authenticated CURVE client by its node id (its ZMQ User-Id)."""

    def __init__(self, context: zmq.asyncio.Context, keys: CurveKeys) -> None:
        super().__init__(context)
        self._keys = keys

    def callback(self, domain: str, client_public_key_z85: bytes) -> bool:
        """ZAP credentials check: is this the key of a configured member?"""
        return self._keys.node_of(client_public_key_z85) is not None

    def curve_user_id(self, client_public_key: bytes) -> str:
        # Called with the raw 32-byte key; provisioning files hold the z85 text form.
        return self._keys.node_of(z85.encode(client_public_key)) or ""


class ZmqTransport:
    def __init__(
        self,
        config: ClusterConfig,
        node_id: str,
        *,
        keys: CurveKeys | None,
        on_election: OnElection,
        on_published: OnPublished,
    ) -> None:
        self._cfg = config
        self._id = node_id
        self._keys = keys
        self._on_election = on_election
        self._on_published = on_published
        self._ctx = zmq.asyncio.Context()
        # Senders are plain (non-async) sockets on the same context: a non-blocking send that
        # would block raises zmq.Again at once instead of leaving an unread failed future.
        self._sync_ctx = zmq.Context.shadow(self._ctx.underlying)
        self._auth: _KeyedAuthenticator | None = None
        self._router: zmq.asyncio.Socket | None = None
        self._pub: zmq.Socket | None = None
        self._dealers: dict[str, zmq.Socket] = {}
        self._subs: dict[str, zmq.asyncio.Socket] = {}
        self._epgm_pub: zmq.Socket | None = None
        self._epgm_sub: zmq.asyncio.Socket | None = None
        self.rejected = 0
        self.dropped = 0
        self.received_multicast = 0

    async def start(self) -> None:
        me = self._cfg.member(self._id)
        if self._keys is not None:
            self._auth = _KeyedAuthenticator(self._ctx, self._keys)
            self._auth.start()
            # Only the public keys of configured members may connect (not every file in keys_dir).
            self._auth.configure_curve_callback(domain="*", credentials_provider=self._auth)
        self._router = self._configure(self._ctx.socket(zmq.ROUTER), server=True)
        # A peer reconnecting after a partition takes its identity over from the half-dead connection.
        self._router.setsockopt(zmq.ROUTER_HANDOVER, 1)
        self._router.bind(me.election_endpoint)
        self._pub = self._configure(self._sync_ctx.socket(zmq.PUB), server=True)
        self._pub.bind(me.publish_endpoint)
        for peer in self._cfg.members:
            if peer.node_id == self._id:
                continue
            server_key = self._server_key(peer.node_id)
            dealer = self._configure(self._sync_ctx.socket(zmq.DEALER), server_key=server_key)
            dealer.setsockopt(zmq.ROUTING_ID, self._id.encode())
            dealer.setsockopt(zmq.IMMEDIATE, 1)
            dealer.connect(peer.election_endpoint)
            self._dealers[peer.node_id] = dealer
            sub = self._configure(self._ctx.socket(zmq.SUB), server_key=server_key)
            sub.setsockopt(zmq.SUBSCRIBE, b"")
            sub.connect(peer.publish_endpoint)
            self._subs[peer.node_id] = sub
        if self._cfg.transport == "epgm":
            self._start_epgm()

    def _start_epgm(self) -> None:
        if not zmq.has("pgm"):
            raise RuntimeError(
                "transport 'epgm' needs pyzmq built against a libzmq with PGM "
                "(pip install --no-binary pyzmq pyzmq with Debian's libzmq3-dev); the PyPI wheel has none"
            )
        # PGM cannot carry CURVE: only node states (never setpoints) use it, checked against members.
        self._epgm_pub = self._sync_ctx.socket(zmq.PUB)
        self._epgm_pub.setsockopt(zmq.LINGER, 0)
        self._epgm_pub.connect(self._cfg.epgm_endpoint(self._id))
        self._epgm_sub = self._ctx.socket(zmq.SUB)
        self._epgm_sub.setsockopt(zmq.SUBSCRIBE, b"")
        self._epgm_sub.connect(self._cfg.epgm_endpoint(self._id))

    def _configure(self, sock: SocketT, *, server: bool = False, server_key: bytes | None = None) -> SocketT:
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.SNDHWM, SEND_HWM)
        sock.setsockopt(zmq.RCVHWM, RECV_HWM)
        sock.setsockopt(zmq.RECONNECT_IVL, RECONNECT_IVL_MS)
        sock.setsockopt(zmq.RECONNECT_IVL_MAX, RECONNECT_IVL_MAX_MS)
        # ZMTP heartbeats find connections to a vanished peer (cable pulled) without waiting for TCP.
        sock.setsockopt(zmq.HEARTBEAT_IVL, ZMTP_HEARTBEAT_MS)
        sock.setsockopt(zmq.HEARTBEAT_TIMEOUT, 3 * ZMTP_HEARTBEAT_MS)
        if self._keys is not None:
            sock.curve_publickey = self._keys.public
            sock.curve_secretkey = self._keys.secret
            if server:
                sock.curve_server = True
            elif server_key is not None:
                sock.curve_serverkey = server_key
        return sock

    def _server_key(self, peer: str) -> bytes | None:
        return None if self._keys is None else self._keys.peers[peer]

    # ---- sending (never blocks; drops instead of queueing) -------------------------------------
    def send_election(self, msg: Message) -> None:
        dealer = self._dealers.get(msg.dst)
        if dealer is None:
            raise ValueError(f"no route to {msg.dst!r}: not a configured peer")
        self._send(dealer, encode(msg))

    def publish(self, payload: SetpointBatch | NodeState) -> None:
        assert self._pub is not None, "start() first"
        self._send(self._pub, encode(payload))
        if isinstance(payload, NodeState) and self._epgm_pub is not None:
            self._send(self._epgm_pub, encode(payload))

    def _send(self, sock: zmq.Socket, data: bytes) -> None:
        try:
            sock.send(data, zmq.NOBLOCK)
        except zmq.Again:
            self.dropped += 1

    # ---- receiving ----------------------------------------------------------------------------
    async def run(self) -> None:
        assert self._router is not None, "start() first"
        loops = [self._router_loop(self._router)]
        loops += [self._sub_loop(peer, sub) for peer, sub in self._subs.items()]
        if self._epgm_sub is not None:
            loops.append(self._multicast_loop(self._epgm_sub))
        await asyncio.gather(*loops)

    async def _router_loop(self, router: zmq.asyncio.Socket) -> None:
        while True:
            frames = await router.recv_multipart(copy=False)
            if len(frames) != 2:
                self._reject("election frame count %d", len(frames))
                continue
            # With CURVE the sender is who the ZAP handler authenticated, not what it claims to be.
            if self._keys is not None:
                sender = frames[1].get("User-Id")
            else:
                sender = frames[0].bytes.decode(errors="replace")
            msg = self._decode(frames[1].bytes)
            if msg is None:
                continue
            if not isinstance(msg, Message) or msg.src != sender or msg.dst != self._id:
                self._reject("election message %r from authenticated %r refused", msg, sender)
                continue
            self._on_election(msg)

    async def _sub_loop(self, peer: str, sub: zmq.asyncio.Socket) -> None:
        while True:
            payload = self._decode(await sub.recv())
            # The authenticated publisher must be the one the payload names.
            if payload is not None and _publisher(payload) == peer:
                self._on_published(peer, payload)
            elif payload is not None:
                self._reject("published %r from %r refused", payload, peer)

    async def _multicast_loop(self, sub: zmq.asyncio.Socket) -> None:
        # Unauthenticated (PGM has no CURVE): only states of configured members, never setpoints.
        while True:
            payload = self._decode(await sub.recv())
            if isinstance(payload, NodeState) and payload.node_id in self._cfg.member_ids:
                if payload.node_id != self._id:
                    self.received_multicast += 1
                    self._on_published(payload.node_id, payload)
            elif payload is not None:
                self._reject("multicast %r refused", payload)

    def _decode(self, raw: bytes) -> Payload | None:
        try:
            return decode(raw)
        except CodecError as exc:
            self._reject("undecodable message: %s", exc)
            return None

    def _reject(self, fmt: str, *args: object) -> None:
        self.rejected += 1
        log.warning(fmt, *args)

    async def close(self) -> None:
        for sock in [self._router, self._pub, self._epgm_pub, self._epgm_sub, *self._dealers.values()]:
            if sock is not None:
                sock.close(linger=0)
        for sub in self._subs.values():
            sub.close(linger=0)
        if self._auth is not None:
            self._auth.stop()
        self._ctx.term()


def _publisher(payload: Payload) -> str | None:
    if isinstance(payload, SetpointBatch | SiteParams):
        return payload.leader_id
    if isinstance(payload, NodeState):
        return payload.node_id
    return None
