"""Turn raw CAN frames into named, scaled signal values with the DBC, and refuse bad ones.

A frame is rejected (counted, logged once per id) when cantools cannot decode it (short DLC,
unknown multiplexer value) or a signal lies outside its DBC range: a corrupt frame must never
reach the battery logic as a plausible number. A frame shorter than the DBC length is accepted
only down to the binding's `min_dlc` (Pylon emitters legally send 0x351 with 6 bytes).
Multi-rack protocols carry the rack id in some id bits; the DBC declares rack 0 and
`rack_mask`/`rack_shift` recover the rack.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import can
import cantools
from cantools.database.can import Message

log = logging.getLogger(__name__)

STANDARD_MASK = 0x7FF
EXTENDED_MASK = 0x1FFFFFFF


@dataclass(frozen=True, slots=True)
class DecodedFrame:
    name: str
    rack_id: int
    mux: int | None
    signals: dict[str, float]
    at_s: float


class DecodeFailure(ValueError):
    """A frame with a known id that does not decode to valid values."""


@dataclass(frozen=True, slots=True)
class _Spec:
    message: Message
    min_length: int
    mux_signal: str | None
    ranges: dict[str, tuple[float, float]]


class FrameDecoder:
    def __init__(
        self,
        messages: Iterable[Message],
        rack_mask: int = 0,
        rack_shift: int = 0,
        min_dlc: Mapping[str, int] | None = None,
    ) -> None:
        self._rack_mask = rack_mask
        self._rack_shift = rack_shift
        self._specs: dict[tuple[bool, int], _Spec] = {}
        for m in messages:
            muxes = [s.name for s in m.signals if s.is_multiplexer]
            ranges = {
                s.name: (float(s.minimum) - 1e-9, float(s.maximum) + 1e-9)
                for s in m.signals
                if s.minimum is not None and s.maximum is not None
            }
            min_length = (min_dlc or {}).get(m.name, m.length)
            spec = _Spec(m, min_length, muxes[0] if muxes else None, ranges)
            self._specs[(m.is_extended_frame, m.frame_id)] = spec

    @property
    def messages(self) -> list[Message]:
        return [s.message for s in self._specs.values()]

    def filters(self) -> list[dict[str, int | bool]]:
        """Acceptance filters: one per DBC message, rack bits left open."""
        out: list[dict[str, int | bool]] = []
        for (extended, frame_id), _ in self._specs.items():
            full = EXTENDED_MASK if extended else STANDARD_MASK
            out.append({"can_id": frame_id, "can_mask": full & ~self._rack_mask, "extended": extended})
        return out

    def is_known(self, frame: can.Message) -> bool:
        return (frame.is_extended_id, frame.arbitration_id & ~self._rack_mask) in self._specs

    def decode(self, frame: can.Message, at_s: float) -> DecodedFrame | None:
        """None for an id the DBC does not know; DecodeFailure for a known id with bad data."""
        spec = self._specs.get((frame.is_extended_id, frame.arbitration_id & ~self._rack_mask))
        if spec is None:
            return None
        data = bytes(frame.data)
        if len(data) < spec.min_length:
            raise DecodeFailure(f"{spec.message.name}: {len(data)} bytes, needs {spec.min_length}")
        try:
            signals = spec.message.decode(data, decode_choices=False, allow_truncated=True)
        except (cantools.database.DecodeError, ValueError, KeyError, IndexError) as exc:
            raise DecodeFailure(f"{spec.message.name}: {exc}") from exc
        ranges = spec.ranges
        for name, value in signals.items():  # only the signals present (one multiplexer group)
            bounds = ranges.get(name)
            if bounds is not None and not bounds[0] <= value <= bounds[1]:  # type: ignore[operator]
                raise DecodeFailure(f"{spec.message.name}.{name}={value} outside {bounds}")
        mux = int(signals[spec.mux_signal]) if spec.mux_signal is not None else None  # type: ignore[arg-type]
        rack_id = (frame.arbitration_id & self._rack_mask) >> self._rack_shift
        return DecodedFrame(spec.message.name, rack_id, mux, signals, at_s)  # type: ignore[arg-type]
