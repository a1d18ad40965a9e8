"""The forecast: at the pace the reports show, when will the task finish, and how late is that.

The pace is the progress of the latest report over the working time from the task's start to
that report. Between two reports progress is unknown, not low, so the silence since the last
report does not slow the pace (a stall is `stalled`'s to say). With no report yet there is no
pace and no forecast: a message says so rather than invent a date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.calendar import WorkCalendar


@dataclass(frozen=True, slots=True)
class Forecast:
    finish_day: date
    working_days_late: int  # 0 when on time
    pace_per_day: float  # points of progress per working day


def forecast(
    *,
    start: datetime,
    progress: int,
    reported_at: datetime | None,
    due_at: datetime | None,
    cal: WorkCalendar,
    resume_at: datetime | None = None,
    away: tuple[datetime | None, datetime | None] = (None, None),
) -> Forecast | None:
    """From the report at `reported_at`; the rest of the work counted from `resume_at` when
    later (a date to offer someone today, rather than one already past). The working time
    the owner was away (`away`: from, until) does not count against their pace."""
    if reported_at is None or progress <= 0 or progress >= 100:
        return None
    spent = cal.working_seconds(start, reported_at)
    if away[0] is not None:
        lo, hi = max(away[0], start), min(away[1] or reported_at, reported_at)
        spent -= cal.working_seconds(lo, hi) if hi > lo else 0.0
    if spent <= 0:
        return None
    pace = progress / spent  # points per working second
    begin = max(reported_at, resume_at) if resume_at else reported_at
    finish = cal.after_working_seconds(begin, (100 - progress) / pace)
    finish_day = cal.due_day(finish)
    late = 0
    if due_at is not None:
        late = cal.working_days_between(cal.due_day(due_at), finish_day)
    return Forecast(finish_day, late, pace * cal.day_seconds())


def own_forecast(task, cal: WorkCalendar) -> Forecast | None:  # type: ignore[no-untyped-def]
    """A task's forecast from its own reports (a rules' view, with `progress`, `reported_at`,
    `created_at`, `due_at` and the owner's away spell): from the latest report, the silence
    since it changing nothing."""
    return forecast(
        start=task.created_at,
        progress=task.progress,
        reported_at=task.reported_at,
        due_at=task.due_at,
        cal=cal,
        away=(getattr(task, "away_from", None), getattr(task, "away_until", None)),
    )


def forecast_for(task, now: datetime, cal: WorkCalendar, policy) -> Forecast | None:  # type: ignore[no-untyped-def]
    """The forecast of a task as `behind_pace` judges it under `policy`: its own, or a
    parent's from its subtasks' (`rules.parent_forecast`)."""
    if getattr(task, "subtasks", 0):
        from bot.monitor.rules import parent_forecast  # the rules build on this module

        found = parent_forecast(task, now, policy, cal)
        return found[0] if found else None
    return own_forecast(task, cal)
