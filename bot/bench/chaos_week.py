"""The kill loop's team and week: people, their tasks built through the task service, and the
instants swept with the changes made before each (bot/bench/chaos.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from bot import tasks as service
from bot.db import transaction
from bot.models import Task

LONDON = ZoneInfo("Europe/London")
MANAGER = "UMGR"


def london(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


# -- the team's week ------------------------------------------------------------------------
def people(n: int) -> list[str]:
    return [f"UP{k:03d}" for k in range(n)]


def build_team(engine: Engine, n: int) -> None:
    """Each person owns four tasks due at the month's end, reported at 10% on Tuesday 6 and
    then quiet (stalled from Monday 12); every fourth also one overdue since Thursday 8, every
    fifth one blocked; and a few tasks have no owner (their creator, the manager, is told)."""
    start = london("2026-01-05T09:00")
    with transaction(engine) as s:
        for k, person in enumerate(people(n)):
            for j in range(4):
                task = service.create_task(
                    s,
                    title=f"Report {j + 1} for client {k}",
                    creator=MANAGER,
                    owner=person,
                    due_at=london("2026-01-30T17:00"),
                    now=start,
                )
                service.set_progress(s, task.id, 10, by=person, now=london("2026-01-06T10:00"))
            if k % 4 == 0:
                service.create_task(
                    s,
                    title=f"Renewal for client {k}",
                    creator=MANAGER,
                    owner=person,
                    due_at=london("2026-01-08T17:00"),
                    now=start,
                )
            if k % 5 == 0:
                task = service.create_task(
                    s, title=f"Audit {k}", creator=MANAGER, owner=person, now=start
                )
                service.block(
                    s, task.id, "waiting on legal", by=person, now=london("2026-01-07T11:00")
                )
        for j in range(max(2, n // 10)):
            service.create_task(
                s,
                title=f"Unassigned {j}",
                creator=MANAGER,
                due_at=london("2026-01-30T17:00"),
                now=start,
            )


def _owned(engine: Engine, person: str) -> list[int]:
    with transaction(engine) as s:
        return list(
            s.execute(
                select(Task.id)
                .where(Task.owner_id == person, Task.status == "open")
                .order_by(Task.id)
            ).scalars()
        )


def _progress_half(engine: Engine, n: int) -> None:
    """Monday afternoon: every other person reports on two tasks (their cases resolve), and
    every third finishes one."""
    when = london("2026-01-12T13:00")
    for k, person in enumerate(people(n)):
        owned = _owned(engine, person)
        with transaction(engine) as s:
            if k % 2 == 0:
                for tid in owned[:2]:
                    service.set_progress(s, tid, 50, by=person, now=when)
            if k % 3 == 0 and owned:
                service.complete(s, owned[-1], by=person, now=when)


def _finish_some(engine: Engine, n: int) -> None:
    """Wednesday morning: every fourth person finishes what they have, blocks lift."""
    when = london("2026-01-14T09:15")
    for k, person in enumerate(people(n)):
        if k % 4 == 1:
            with transaction(engine) as s:
                for tid in _owned(engine, person):
                    service.complete(s, tid, by=person, now=when)
    with transaction(engine) as s:
        blocked = s.execute(select(Task.id).where(Task.status == "blocked")).scalars().all()
        for tid in blocked:
            task = s.get(Task, tid)
            service.unblock(s, tid, by=task.owner_id or MANAGER, now=when)


def week(n: int) -> list[tuple[datetime, Callable[[Engine], None] | None]]:
    """The instants swept, each with the change made just before it."""
    return [
        (london("2026-01-12T09:40"), None),
        (london("2026-01-12T14:00"), lambda e: _progress_half(e, n)),
        (london("2026-01-13T10:00"), None),
        (london("2026-01-14T10:00"), lambda e: _finish_some(e, n)),
        (london("2026-01-15T10:00"), None),
    ]
