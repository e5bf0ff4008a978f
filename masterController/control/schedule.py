"""Time-based P/Q schedules: validated entries, active-entry lookup, cloud copy with local fallback."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import TypeAdapter, ValidationError

from sitecontroller.config.control import DAY_S, ScheduleEntry, schedule_overlap

_ENTRIES = TypeAdapter(tuple[ScheduleEntry, ...])


class ScheduleError(ValueError):
    """A schedule that must be rejected as a whole (bad entry or overlap)."""


def local_time_of_day_s(wall_s: float, utc_offset_s: float) -> float:
    return (wall_s + utc_offset_s) % DAY_S


def _covers(entry: ScheduleEntry, wall_s: float, time_of_day_s: float) -> bool:
    if not entry.daily:
        return entry.start_s <= wall_s < entry.start_s + entry.duration_s
    offset_s = (time_of_day_s - entry.start_s) % DAY_S
    return offset_s < entry.duration_s


def active_entry(
    entries: tuple[ScheduleEntry, ...], wall_s: float, utc_offset_s: float
) -> ScheduleEntry | None:
    """The entry in force at `wall_s`; a dated entry wins over a daily one."""
    time_of_day_s = local_time_of_day_s(wall_s, utc_offset_s)
    daily_hit: ScheduleEntry | None = None
    for entry in entries:
        if _covers(entry, wall_s, time_of_day_s):
            if not entry.daily:
                return entry
            daily_hit = daily_hit or entry
    return daily_hit


@dataclass(frozen=True, slots=True)
class Schedule:
    """A validated schedule and when (monotonic) it was received."""

    entries: tuple[ScheduleEntry, ...]
    received_s: float

    @staticmethod
    def validated(entries: tuple[ScheduleEntry, ...], received_s: float) -> Schedule:
        problem = schedule_overlap(entries)
        if problem:
            raise ScheduleError(problem)
        return Schedule(entries, received_s)

    @staticmethod
    def from_json(payload: str | bytes, received_s: float) -> Schedule:
        """Parse a cloud update: a JSON list of entries. Any bad entry rejects the whole update."""
        try:
            entries = _ENTRIES.validate_json(payload)
        except ValidationError as exc:
            raise ScheduleError(f"invalid schedule: {exc.errors(include_url=False)}") from exc
        return Schedule.validated(entries, received_s)
