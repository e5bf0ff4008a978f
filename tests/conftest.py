"""Shared fixtures: the simulated single-node site on a SimClock."""

from __future__ import annotations

from pathlib import Path

import pytest

from sitecontroller.config.loader import load_site
from sitecontroller.config.site import SiteConfig

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def single_node_config() -> SiteConfig:
    return load_site(ROOT / "config" / "sim" / "single-node.json")
