"""Synthetic scenarios: a firm whose work goes to plan, with optional trouble mixed in.
Used for the quiet-month scenario file and for the replay benchmarks."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from bot.calendar import WorkCalendar


def _working_days(cal: WorkCalendar, start: date, end: date) -> list[date]:
    days, day = [], start
    while day <= end:
        if cal.is_working_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def _iso(day: date, at: time) -> str:
    return datetime.combine(day, at).isoformat(timespec="minutes")


def planned_task(key: str, owner: str, creator: str, days: list[date], rng: random.Random) -> dict:
    """A task whose owner reports progress ahead of the clock and finishes on time.

    Updates come every working day (short tasks) or every other one, each putting progress a
    little ahead of the share of working time used, so no rule has anything to say."""
    length = len(days)
    updates = []
    step = 1 if length < 8 else 2
    last = 0
    for i in range(step - 1, length - 1, step):
        share = (i + 1 + step) / length  # where the time will be by the next update
        progress = min(99, max(last + 1, round(100 * share) + 5))
        updates.append(
            {"at": _iso(days[i], time(10, rng.randint(0, 59))), "by": owner, "progress": progress}
        )
        last = progress
    updates.append(
        {"at": _iso(days[-1], time(rng.randint(11, 16), 0)), "by": owner, "progress": 100}
    )
    return {
        "key": key,
        "title": f"Planned work {key}",
        "owner": owner,
        "creator": creator,
        "created": _iso(days[0], time(9, rng.randint(0, 30))),
        "due": days[-1].isoformat(),
        "updates": updates,
    }


def stalled_task(key: str, owner: str, creator: str, days: list[date], rng: random.Random) -> dict:
    """A task that reaches 40% early and then sits there past its deadline."""
    return {
        "key": key,
        "title": f"Stuck work {key}",
        "owner": owner,
        "creator": creator,
        "created": _iso(days[0], time(9, 0)),
        "due": days[-1].isoformat(),
        "updates": [{"at": _iso(days[1], time(11, 0)), "by": owner, "progress": 40}],
    }


def firm(
    *,
    name: str,
    people: int,
    tasks: int,
    start: date,
    end: date,
    trouble: float = 0.0,
    timezone: str = "Europe/London",
    holidays: str | None = "GB",
    seed: int = 1,
) -> dict:
    """A scenario dict: `people` people, `tasks` tasks spread over the period, lengths of 3 to
    15 working days; a share `trouble` of them stall at 40%."""
    rng = random.Random(seed)
    cal = WorkCalendar(timezone, holidays)
    ids = [f"UP{i:04d}" for i in range(people)]
    days = _working_days(cal, start, end)
    out = []
    for n in range(tasks):
        length = rng.randint(3, 15)
        first = rng.randrange(0, max(1, len(days) - length))
        span = days[first : first + length]
        owner, creator = rng.choice(ids), ids[0]
        make = stalled_task if rng.random() < trouble else planned_task
        out.append(make(f"t{n}", owner, creator, span, rng))
    return {
        "name": name,
        "team": {
            "timezone": timezone,
            "holidays": holidays,
            "channel": "CMANAGERS",
            "managers": [ids[0]],
        },
        "people": [{"id": i} for i in ids],
        "start": _iso(start, time(8, 0)),
        "end": _iso(end, time(18, 0)),
        "sweep_every": "30m",
        "tasks": out,
    }
