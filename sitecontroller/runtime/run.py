"""`sitecontroller run`: the daemon on a real site, as systemd starts it."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

from sitecontroller.config.cache import ParameterCache
from sitecontroller.config.loader import ConfigError, load_site
from sitecontroller.config.site import SiteConfig
from sitecontroller.core.clock import SystemClock
from sitecontroller.runtime.daemon import PARAMETERS_FILE, Daemon
from sitecontroller.runtime.hardware import hardware_devices
from sitecontroller.runtime.system_actions import SystemdActions

log = logging.getLogger(__name__)


def site_parameters(config_path: Path, state_dir: Path) -> SiteConfig:
    """The parameters to run on. The file, remembered as the last good ones, unless the last good
    ones are newer (a twin patch applied after the file was written: higher `parameters_version`).
    A broken file falls back to the last good ones (a bad edit must not stop a site); with none,
    the ConfigError."""
    cache = ParameterCache(state_dir / PARAMETERS_FILE)
    cached = cache.load()
    try:
        config = load_site(config_path)
    except ConfigError as exc:
        if cached is None:
            raise
        log.error("%s; running on the last good parameters (version %d)", exc, cached.parameters_version)
        return cached
    if cached is not None and cached.parameters_version > config.parameters_version:
        log.info(
            "running on parameters version %d from the cloud (file: %d)",
            cached.parameters_version,
            config.parameters_version,
        )
        return cached
    cache.save(config)
    return config


async def run_daemon(config: SiteConfig, state_dir: Path) -> int:
    daemon = Daemon(config, hardware_devices, state_dir, SystemClock(), SystemdActions())
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, daemon.request_stop)
    return await daemon.run()
