"""A parent's progress comes from its subtasks: people report on the work they do, not on its
parent. The parent's progress is its subtasks' progress weighted by their working duration
(done ones count 100, cancelled ones not at all), or what was reported on the parent itself
when that is more; a report on a subtask is a report on the parent, and restarts its stall
clock. The parent is still judged against its own deadline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.calendar import WorkCalendar
from bot.models import DONE


@dataclass(frozen=True, slots=True)
class Subtask:
    progress: int
    status: str
    created_at: datetime
    due_at: datetime | None
    reported_at: datetime | None
    # What its own pace and stall need, for its parent's `behind_pace` (rules.py).
    id: int = 0
    activity_at: datetime | None = None
    owner_id: str | None = None
    away_from: datetime | None = None
    away_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class RolledUp:
    progress: int
    reported_at: datetime | None
    activity_at: datetime
    subtasks: int  # how many subtasks it came from (0: its own reports alone)


def roll_up(
    *,
    progress: int,
    reported_at: datetime | None,
    activity_at: datetime,
    due_at: datetime | None,
    subtasks: list[Subtask],
    cal: WorkCalendar,
) -> RolledUp:
    if not subtasks:
        return RolledUp(progress, reported_at, activity_at, 0)
    day = cal.day_seconds()
    total = weighted = 0.0
    for sub in subtasks:
        end = sub.due_at or due_at
        weight = cal.working_seconds(sub.created_at, end) if end else 0.0
        weight = max(weight, day)  # a subtask without a span weighs a working day
        total += weight
        weighted += weight * (100 if sub.status == DONE else sub.progress)
    from_subtasks = round(weighted / total)
    # All subtasks done is not the parent done: that is for a person to say.
    rolled = max(progress, min(99, from_subtasks))
    reports = [r for r in (reported_at, *(s.reported_at for s in subtasks)) if r is not None]
    latest = max(reports) if reports else None
    activity = max(activity_at, latest) if latest else activity_at
    return RolledUp(rolled, latest, activity, len(subtasks))
