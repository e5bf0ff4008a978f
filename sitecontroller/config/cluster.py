"""Site cluster configuration: the fixed, versioned voter set and the election/setpoint timing.

The defaults describe a standalone single node (`enabled=False`): no election, no transport.
Membership is configured, never discovered: the quorum is computed from `members` only.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from sitecontroller.config.base import StrictModel

NODE_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
ENDPOINT_PATTERN = r"^(tcp://[^\s:]+:\d{1,5}|ipc://\S+)$"


class ClusterMember(StrictModel):
    """One node of the site, with the endpoints it binds (and peers connect to)."""

    node_id: str = Field(pattern=NODE_ID_PATTERN)
    # ROUTER socket for election messages and acknowledgements, e.g. "tcp://10.0.0.11:7101".
    election_endpoint: str = Field(pattern=ENDPOINT_PATTERN)
    # PUB socket for setpoints (when leader) and this node's state, e.g. "tcp://10.0.0.11:7102".
    publish_endpoint: str = Field(pattern=ENDPOINT_PATTERN)
    # Voters elect the master; non-voters follow without voting (keeps quorum at 3 or 5 on big sites).
    voter: bool = True
    # A witness votes but controls no battery (the tie-breaker of a two-node site).
    witness: bool = False
    # IP of the LAN interface that carries multicast node states (only for transport "epgm").
    lan_ip: str = ""
    # Where this node's SCADA server listens ("host:port"), for followers forwarding SCADA writes to
    # the master. Empty: the election endpoint's host with the site's scada.port.
    scada_endpoint: str = Field(default="", pattern=r"^$|^[A-Za-z0-9.\-]+:\d{1,5}$")

    @model_validator(mode="after")
    def _witness_votes(self) -> ClusterMember:
        if self.witness and not self.voter:
            raise ValueError(f"member {self.node_id!r}: a witness must be a voter (it exists only to vote)")
        return self


class CurveConfig(StrictModel):
    """ZeroMQ CURVE keys from provisioning: `<keys_dir>/<node_id>.key` (public, every node) and
    `<keys_dir>/<own node_id>.key_secret` (this node's secret), as written by `zmq.auth`."""

    enabled: bool = False
    keys_dir: str = "/etc/sitecontroller/cluster-keys"


class DiscoveryConfig(StrictModel):
    """Commissioning beacon: HMAC-signed UDP announcements. It only reports what it sees; the
    member list (and so the quorum) changes through configuration alone."""

    enabled: bool = False
    site_id: str = Field(default="site", min_length=1, max_length=64)
    port: int = Field(default=7199, ge=1, le=65535)
    # Where beacons are sent: the LAN broadcast address, or a unicast address in tests.
    target_address: str = "255.255.255.255"
    interval_s: float = Field(default=1.0, gt=0.0, le=60.0)
    # File holding the site's shared beacon key (at least 32 bytes), provisioned like the CURVE keys.
    key_path: str = "/etc/sitecontroller/cluster-keys/beacon.key"


class ClusterConfig(StrictModel):
    enabled: bool = False
    # Bumped whenever the member list changes; setpoints carrying another version are refused.
    config_version: int = Field(default=1, ge=1)
    members: tuple[ClusterMember, ...] = ()
    pre_vote: bool = True
    # Randomized election timeout range. Defaults are tuned for sub-second failover on a LAN;
    # on a heavily loaded Pi raise both (and the lease) together.
    election_timeout_min_s: float = Field(default=0.3, gt=0.0, le=30.0)
    election_timeout_max_s: float = Field(default=0.6, gt=0.0, le=60.0)
    heartbeat_interval_s: float = Field(default=0.05, gt=0.0, le=5.0)
    # The leader commands only while a majority acked a heartbeat round sent within this time.
    leader_lease_s: float = Field(default=0.2, gt=0.0, le=30.0)
    # Bound on the relative clock *rate* difference between two nodes (wall clocks are never used).
    clock_drift_bound: float = Field(default=0.01, ge=0.0, le=0.1)
    # Every setpoint expires on the receiver's monotonic clock after this time.
    setpoint_ttl_s: float = Field(default=0.4, gt=0.0, le=60.0)
    setpoint_interval_s: float = Field(default=0.1, gt=0.0, le=30.0)
    state_interval_s: float = Field(default=0.25, gt=0.0, le=60.0)
    # A node whose state was not heard for this long is offline (excluded from allocation).
    offline_after_s: float = Field(default=1.5, gt=0.0, le=600.0)
    # How often the service polls the election core's timers.
    tick_interval_s: float = Field(default=0.01, gt=0.0, le=1.0)
    # Node-state fan-out: TCP PUB/SUB by default; "epgm" adds PGM multicast of node states (needs
    # pyzmq built against Debian's libzmq, and `lan_ip` on every member).
    transport: Literal["tcp", "epgm"] = "tcp"
    epgm_group: str = ""  # multicast group and port, e.g. "239.192.1.1:5555"
    curve: CurveConfig = CurveConfig()
    discovery: DiscoveryConfig = DiscoveryConfig()

    @model_validator(mode="after")
    def _consistent(self) -> ClusterConfig:
        ids = [m.node_id for m in self.members]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate node ids in cluster members: {sorted(ids)}")
        if self.enabled and not any(m.voter for m in self.members):
            raise ValueError("an enabled cluster needs at least one voter")
        if self.election_timeout_max_s <= self.election_timeout_min_s:
            raise ValueError("election_timeout_max_s must exceed election_timeout_min_s")
        if self.heartbeat_interval_s * 3 > self.election_timeout_min_s:
            raise ValueError("heartbeat_interval_s must be at most a third of election_timeout_min_s")
        # Lease safety (Raft thesis 6.4.1): followers refuse votes for election_timeout_min after
        # hearing the leader, on their own clock; the lease, on the leader's clock, must end first
        # even when the two clocks run at rates differing by the drift bound.
        if self.leader_lease_s > self.election_timeout_min_s * (1.0 - 2.0 * self.clock_drift_bound):
            raise ValueError(
                "leader_lease_s must be below election_timeout_min_s minus the clock drift margin"
            )
        if self.leader_lease_s <= self.heartbeat_interval_s:
            raise ValueError("leader_lease_s must exceed heartbeat_interval_s or the lease never holds")
        if self.setpoint_interval_s >= self.setpoint_ttl_s:
            raise ValueError(
                "setpoint_interval_s must be below setpoint_ttl_s or setpoints lapse between renewals"
            )
        if self.transport == "epgm":
            if not self.epgm_group:
                raise ValueError("transport 'epgm' needs epgm_group, e.g. '239.192.1.1:5555'")
            missing = [m.node_id for m in self.members if not m.lan_ip]
            if missing:
                raise ValueError(f"transport 'epgm' needs lan_ip (interface IP) on members {missing}")
        return self

    @property
    def voter_ids(self) -> frozenset[str]:
        return frozenset(m.node_id for m in self.members if m.voter)

    @property
    def member_ids(self) -> frozenset[str]:
        return frozenset(m.node_id for m in self.members)

    def epgm_endpoint(self, node_id: str) -> str:
        # libzmq wants the interface IP here: the interface-name form fails with EINVAL.
        return f"epgm://{self.member(node_id).lan_ip};{self.epgm_group}"

    def member(self, node_id: str) -> ClusterMember:
        for candidate in self.members:
            if candidate.node_id == node_id:
                return candidate
        raise KeyError(f"node {node_id!r} is not a configured cluster member")
