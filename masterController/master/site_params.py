"""The cluster-wide site parameters the master hands to every node.

The control section (modes, site connection limits, grid-service contracts) must be the same on
every node, so that whichever node leads next decides as the last one did. Node-specific sections
(identity, devices) stay each node's own. The receiving node validates `control` against its schema
before anything changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class SiteParams:
    term: int
    leader_id: str
    # The master's parameters_version: nodes keep the newest they have seen.
    version: int
    control: Mapping[str, Any]
    # Each node's share of each contracted grid service: node -> product -> (capacity_w, energy_wh),
    # re-split by the master over the nodes online, so a lost node's share moves to the others.
    shares: Mapping[str, Mapping[str, tuple[float, float]]] = field(default_factory=dict)
