"""Open a python-can bus from configuration: socketcan on the Pi, virtual in one process,
udp_multicast between processes (only inside a network namespace with multicast routes)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import can

from sitecontroller.config.bms import CanConfig

# Bit 6 of an error frame's id: the controller went bus-off (linux/can/error.h CAN_ERR_BUSOFF).
CAN_ERR_BUSOFF = 0x40

BusFactory = Callable[[CanConfig, Sequence[dict[str, int | bool]] | None], can.BusABC]


def open_bus(config: CanConfig, filters: Sequence[dict[str, int | bool]] | None) -> can.BusABC:
    kwargs: dict[str, object] = {}
    if config.interface == "socketcan":
        # The bitrate of can0 is set by the OS (ip link / systemd-networkd); python-can cannot set it.
        kwargs["ignore_rx_error_frames"] = False
    elif config.interface == "virtual":
        kwargs["bitrate"] = config.bitrate
    return can.Bus(
        interface=config.interface,
        channel=config.channel,
        can_filters=list(filters) if filters else None,  # type: ignore[arg-type]
        **kwargs,
    )
