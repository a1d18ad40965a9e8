"""The forecast: at the pace observed so far, when will the task finish, and how late is that.

The pace is progress gained per hour of working time since the task started, measured up to
`now` (so a stall slows the pace, as it should). With no progress yet there is no pace and no
forecast: the message says so rather than invent a date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.calendar import WorkCalendar


@dataclass(frozen=True, slots=True)
class Forecast:
    finish_day: date
    working_days_late: int  # 0 when on time
    pace_per_day: float  # points of progress per working day


def forecast(
    *,
    start: datetime,
    start_progress: int,
    progress: int,
    due_at: datetime | None,
    now: datetime,
    cal: WorkCalendar,
) -> Forecast | None:
    if progress >= 100 or progress <= start_progress:
        return None
    spent = cal.working_seconds(start, now)
    if spent <= 0:
        return None
    pace = (progress - start_progress) / spent  # points per working second
    finish = cal.after_working_seconds(max(now, start), (100 - progress) / pace)
    finish_day = cal.due_day(finish)
    late = 0
    if due_at is not None:
        due_day = cal.due_day(due_at)
        late = cal.working_days_between(due_day, finish_day)
    return Forecast(finish_day, late, pace * cal.day_seconds())


def forecast_for(task: Any, now: datetime, cal: WorkCalendar) -> Forecast | None:
    """The forecast of a task from its own columns: every task starts at 0% when it is created,
    and its progress column is the newest of its progress events, so the pace since the start
    needs no read of the history."""
    return forecast(
        start=task.created_at,
        start_progress=0,
        progress=task.progress,
        due_at=task.due_at,
        now=now,
        cal=cal,
    )
