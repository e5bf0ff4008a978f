"""CanBusController: the one task that owns the CAN bus.

It harvests frames (acceptance filters from the DBC), decodes them, and keeps the latest frame
per (message, rack, multiplexer value) with its receive time on the injected clock, so readers ask
"how old is it" and every message has its own timeout (a multiple of its DBC cycle time).
A bus that fails (open error, read error, bus-off error frame) is closed and re-opened with
exponential backoff; the task itself never ends on a bad frame or a bad bus.

Reading and decoding run in one reader thread per open bus, in batches (first frame blocking up to
`poll_s`, the rest without waiting); the asyncio task supervises it. The cache and the counters
are replaced by single assignments, so readers on the event loop always see consistent values.
A full 500 kbit/s bus then costs no event-loop wake-up per frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace

import can
from cantools.database.can import Message

from sitecontroller.can.bus import CAN_ERR_BUSOFF, BusFactory, open_bus
from sitecontroller.can.decoder import DecodedFrame, DecodeFailure, FrameDecoder
from sitecontroller.config.bms import CanConfig
from sitecontroller.core.clock import Clock

log = logging.getLogger(__name__)

BATCH_MAX = 512

FrameKey = tuple[str, int, int | None]


class BusFailure(RuntimeError):
    """The bus went bus-off or stopped working; it will be re-opened."""


@dataclass(frozen=True, slots=True)
class CanCounters:
    frames: int = 0
    decoded: int = 0
    error_frames: int = 0
    unknown_ids: int = 0
    decode_failures: int = 0
    bus_failures: int = 0
    reopens: int = 0


@dataclass(frozen=True, slots=True)
class CanHealth:
    bus_ok: bool
    counters: CanCounters
    last_failure: str


class CanBusController:
    def __init__(
        self,
        config: CanConfig,
        messages: Iterable[Message],
        clock: Clock,
        *,
        rack_mask: int = 0,
        rack_shift: int = 0,
        min_dlc: Mapping[str, int] | None = None,
        bus_factory: BusFactory = open_bus,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        poll_s: float = 0.1,
    ) -> None:
        self._config = config
        self._clock = clock
        self._decoder = FrameDecoder(messages, rack_mask, rack_shift, min_dlc)
        self._bus_factory = bus_factory
        self._sleep = sleep
        self._poll_s = poll_s
        self._cache: dict[FrameKey, DecodedFrame] = {}
        self._timeouts_s = {m.name: self._timeout_for(m) for m in self._decoder.messages}
        self._counters = CanCounters()
        self._bus: can.BusABC | None = None
        self._last_failure = ""
        self._logged_ids: set[tuple[str, int]] = set()
        self._listeners: list[Callable[[can.Message, DecodedFrame | None], None]] = []

    # ---------------------------------------------------------------- reading side (pure lookups)
    def latest(self, name: str, rack_id: int = 0, mux: int | None = None) -> DecodedFrame | None:
        return self._cache.get((name, rack_id, mux))

    def fresh(self, name: str, rack_id: int = 0, mux: int | None = None) -> DecodedFrame | None:
        """The latest frame if younger than its message's timeout, else None."""
        frame = self._cache.get((name, rack_id, mux))
        if frame is None or self._clock.monotonic() - frame.at_s > self._timeouts_s[name]:
            return None
        return frame

    def timeout_s(self, name: str) -> float:
        return self._timeouts_s[name]

    def timed_out(self) -> list[tuple[str, int, float]]:
        """(message, rack, age) of every cached frame older than its timeout."""
        now = self._clock.monotonic()
        return [
            (name, rack, now - f.at_s)
            for (name, rack, _), f in list(self._cache.items())
            if now - f.at_s > self._timeouts_s[name]
        ]

    def health(self) -> CanHealth:
        return CanHealth(self._bus is not None, self._counters, self._last_failure)

    @property
    def decoder(self) -> FrameDecoder:
        return self._decoder

    def add_listener(self, listener: Callable[[can.Message, DecodedFrame | None], None]) -> None:
        """Called for every received frame with its decoding (None = unknown or failed); for tools."""
        self._listeners.append(listener)

    def send(self, frame: can.Message) -> None:
        """Send on the owned bus; raises BusFailure when the bus is not open."""
        if self._bus is None:
            raise BusFailure("CAN bus is not open")
        try:
            self._bus.send(frame, timeout=0.05)
        except can.CanError as exc:
            raise BusFailure(f"send failed: {exc}") from exc

    # ---------------------------------------------------------------- the task
    async def run(self) -> None:
        backoff_s = self._config.reopen_backoff_initial_s
        while True:
            try:
                filters = self._decoder.filters() if self._config.use_filters else None
                self._bus = self._bus_factory(self._config, filters)
            except (can.CanError, OSError, ValueError, ImportError) as exc:
                self._failed(f"cannot open {self._config.interface}:{self._config.channel}: {exc}")
            else:
                frames_before = self._counters.frames
                try:
                    await self._read_until_failure(self._bus)
                except BusFailure as exc:
                    self._failed(str(exc))
                finally:
                    self._close()
                if self._counters.frames > frames_before:
                    # The bus worked before it failed: start the backoff afresh.
                    backoff_s = self._config.reopen_backoff_initial_s
            await self._sleep(backoff_s)
            backoff_s = min(2 * backoff_s, self._config.reopen_backoff_max_s)
            self._counters = replace(self._counters, reopens=self._counters.reopens + 1)

    async def _read_until_failure(self, bus: can.BusABC) -> None:
        """Run the reader thread on `bus` until it fails (raises BusFailure) or we are cancelled."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        stop = threading.Event()

        def finish(exc: BaseException | None) -> None:
            if done.done():
                return
            if exc is None:
                done.set_result(None)
            else:
                done.set_exception(exc)

        def reader() -> None:
            failure: BaseException | None = None
            try:
                while not stop.is_set():
                    self.process(self._read_batch(bus))
            except (can.CanError, OSError) as exc:
                failure = BusFailure(f"read failed: {exc}")
            except BusFailure as exc:
                failure = exc
            with contextlib.suppress(RuntimeError):  # the loop may be closed at shutdown
                loop.call_soon_threadsafe(finish, failure)

        thread = threading.Thread(target=reader, name=f"can-{self._config.channel}", daemon=True)
        thread.start()
        try:
            await done
        finally:
            stop.set()
            # The reader returns within one poll period; the bus must not be closed under it.
            thread.join(timeout=5 * self._poll_s)

    def _read_batch(self, bus: can.BusABC) -> list[can.Message]:
        first = bus.recv(timeout=self._poll_s)
        if first is None:
            return []
        batch = [first]
        while len(batch) < BATCH_MAX:
            frame = bus.recv(timeout=0.0)
            if frame is None:
                break
            batch.append(frame)
        return batch

    def process(self, batch: Iterable[can.Message]) -> None:
        """Decode and cache a batch of received frames (public for tools and benchmarks)."""
        at_s = self._clock.monotonic()
        c = self._counters
        frames = decoded = errors = unknown = failures = 0
        bus_off = False
        for frame in batch:
            frames += 1
            if frame.is_error_frame:
                errors += 1
                bus_off = bus_off or bool(frame.arbitration_id & CAN_ERR_BUSOFF)
                continue
            result: DecodedFrame | None = None
            try:
                result = self._decoder.decode(frame, at_s)
            except DecodeFailure as exc:
                failures += 1
                self._log_once("decode", frame, str(exc))
            else:
                if result is None:
                    unknown += 1
                    self._log_once("unknown", frame, "not in the DBC (counted, ignored)")
                else:
                    decoded += 1
                    self._cache[(result.name, result.rack_id, result.mux)] = result
            for listener in self._listeners:
                listener(frame, result)
        self._counters = replace(
            c,
            frames=c.frames + frames,
            decoded=c.decoded + decoded,
            error_frames=c.error_frames + errors,
            unknown_ids=c.unknown_ids + unknown,
            decode_failures=c.decode_failures + failures,
        )
        if bus_off:
            raise BusFailure("bus-off reported by the CAN controller")

    def _failed(self, reason: str) -> None:
        self._last_failure = reason
        self._counters = replace(self._counters, bus_failures=self._counters.bus_failures + 1)
        log.warning("CAN bus failure: %s; re-opening with backoff", reason)

    def _close(self) -> None:
        bus, self._bus = self._bus, None
        if bus is not None:
            try:
                bus.shutdown()
            except (can.CanError, OSError) as exc:
                log.warning("closing the CAN bus failed: %s", exc)

    def _log_once(self, kind: str, frame: can.Message, detail: str) -> None:
        key = (kind, frame.arbitration_id)
        if key not in self._logged_ids:
            self._logged_ids.add(key)
            log.warning("CAN id 0x%X %s: %s (logged once per id)", frame.arbitration_id, kind, detail)

    def _timeout_for(self, message: Message) -> float:
        override = self._config.frame_timeouts_s.get(message.name)
        if override is not None:
            return override
        cycle_s = (message.cycle_time or 1000) / 1000.0
        return max(self._config.frame_timeout_factor * cycle_s, self._config.frame_timeout_min_s)
