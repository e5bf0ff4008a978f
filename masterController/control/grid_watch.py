"""Grid-loss detection and the 'grid is back' judgement, from the grid-side voltage and frequency.

Loss: outside the trip window continuously for `detect_delay_s`. Back: inside the (narrower)
reconnection window continuously for `reconnect_delay_s`, the grid-code wait before reconnecting.
"""

from __future__ import annotations

from dataclasses import dataclass

from sitecontroller.config.control import GridLossConfig


@dataclass(frozen=True, slots=True)
class GridWatch:
    lost: bool = False
    bad_since_s: float | None = None
    good_since_s: float | None = None


def _inside(value: float, low: float, high: float) -> bool:
    return low <= value <= high


def watch_grid(
    cfg: GridLossConfig, state: GridWatch, freq_hz: float, voltage_v: float, now_s: float
) -> GridWatch:
    if not state.lost:
        healthy = _inside(voltage_v, cfg.voltage_min_v, cfg.voltage_max_v) and _inside(
            freq_hz, cfg.freq_min_hz, cfg.freq_max_hz
        )
        if healthy:
            return GridWatch()
        bad_since_s = now_s if state.bad_since_s is None else state.bad_since_s
        if now_s - bad_since_s >= cfg.detect_delay_s:
            return GridWatch(lost=True, bad_since_s=bad_since_s)
        return GridWatch(bad_since_s=bad_since_s)
    good = _inside(voltage_v, cfg.reconnect_voltage_min_v, cfg.reconnect_voltage_max_v) and _inside(
        freq_hz, cfg.reconnect_freq_min_hz, cfg.reconnect_freq_max_hz
    )
    if not good:
        return GridWatch(lost=True, bad_since_s=state.bad_since_s)
    good_since_s = now_s if state.good_since_s is None else state.good_since_s
    if now_s - good_since_s >= cfg.reconnect_delay_s:
        return GridWatch()
    return GridWatch(lost=True, bad_since_s=state.bad_since_s, good_since_s=good_since_s)
