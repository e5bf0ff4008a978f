"""What the modes that close a loop on the site meter share: their state, the bumpless start, and
the safe answer while the meter reading is not valid."""

from __future__ import annotations

from dataclasses import dataclass

from masterController.control.pid import PidState
from masterController.control.snapshot import ModeDecision, SiteSnapshot


@dataclass(frozen=True, slots=True)
class GridLoopState:
    pid: PidState


def start_grid_loop(snapshot: SiteSnapshot) -> GridLoopState:
    """Continue from the power delivered now, so entering the mode causes no step."""
    return held_at(snapshot.baseline_battery_w, snapshot)


def held_at(power_w: float, snapshot: SiteSnapshot) -> GridLoopState:
    """The loop parked at `power_w`: it resumes from there without a jump."""
    return GridLoopState(PidState.bumpless(power_w, snapshot.baseline_grid_w, snapshot.now_s))


def meter_invalid(label: str, snapshot: SiteSnapshot) -> tuple[ModeDecision, GridLoopState]:
    return ModeDecision(0.0, f"{label}: site meter invalid, 0 W"), held_at(0.0, snapshot)
