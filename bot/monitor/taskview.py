"""What the rules see of a task, read from the database: one row per task with its parent's
deadline, whether its owner left or is away, and whether `behind_pace` is open (for its
hysteresis), plus its subtasks, rolled up (`rollup.py`), and those unfinished each as the
rules see it, for the parent's pace. The sweep reads pages of these; a message or a reply
reads one."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from bot.calendar import WorkCalendar
from bot.db import IdsIn
from bot.models import CANCELLED, DONE, Finding, SlackUser, Task
from bot.monitor.rollup import Subtask, roll_up
from bot.monitor.rules import TaskView

PARENT, OWNER = aliased(Task), aliased(SlackUser)
PACE_OPEN = (
    exists()
    .where(Finding.task_id == Task.id, Finding.rule == "behind_pace", Finding.status == "open")
    .correlate(Task)
)
# What the rules read of a task: one row each, with its parent's deadline, whether its owner
# left or is away, and whether `behind_pace` is open (its hysteresis). Built once and bound
# per page: statement construction is most of a small sweep's cost.
COLUMNS = (
    Task.id,
    Task.status,
    Task.progress,
    Task.created_at,
    Task.activity_at,
    Task.owner_id,
    Task.creator_id,
    Task.due_at,
    Task.parent_id,
    Task.next_check_at,
    PARENT.due_at,
    OWNER.deleted,
    Task.reported_at,
    OWNER.away_from,
    OWNER.away_until,
    PACE_OPEN.label("pace_open"),
)
TASKS = (
    select(*COLUMNS)
    .outerjoin(PARENT, PARENT.id == Task.parent_id)
    .outerjoin(OWNER, OWNER.id == Task.owner_id)
)
SUBTASKS = IdsIn(
    lambda ids_in: (
        select(
            Task.parent_id,
            Task.progress,
            Task.status,
            Task.created_at,
            Task.due_at,
            Task.reported_at,
            Task.id,
            Task.activity_at,
            Task.owner_id,
            OWNER.away_from,
            OWNER.away_until,
        )
        .outerjoin(OWNER, OWNER.id == Task.owner_id)
        .where(ids_in(Task.parent_id), Task.status != CANCELLED)
    )
)


def subtasks_of(session: Session, ids: list[int]) -> dict[int, list[Subtask]]:
    """The subtasks of these tasks, by parent: one statement for a page."""
    found: dict[int, list[Subtask]] = {}
    if ids:
        for parent, *columns in session.execute(SUBTASKS.on(session), {"ids": ids}):
            found.setdefault(parent, []).append(Subtask(*columns))
    return found


def subtask_view(sub: Subtask) -> TaskView:
    """What its parent's `behind_pace` sees of an unfinished subtask: its own pace and stall."""
    return TaskView(
        id=sub.id,
        status=sub.status,
        progress=sub.progress,
        created_at=sub.created_at,
        activity_at=sub.activity_at or sub.created_at,
        owner_id=sub.owner_id,
        due_at=sub.due_at,
        reported_at=sub.reported_at,
        away_from=sub.away_from if sub.owner_id else None,
        away_until=sub.away_until if sub.owner_id else None,
    )


def view_of(row, subtasks: list[Subtask], cal: WorkCalendar) -> TaskView:  # type: ignore[no-untyped-def]
    """What the rules see of a row of `_COLUMNS`, its progress rolled up from its subtasks."""
    (tid, status, progress, created, activity, owner_id, _creator, due, parent_id, _nc,
     parent_due, owner_gone, reported, away_from, away_until, pace_open) = row  # fmt: skip
    rolled = roll_up(
        progress=progress,
        reported_at=reported,
        activity_at=activity,
        due_at=due,
        subtasks=subtasks,
        cal=cal,
    )
    return TaskView(
        id=tid,
        status=status,
        progress=rolled.progress,
        created_at=created,
        activity_at=rolled.activity_at,
        owner_id=owner_id,
        owner_active=not owner_gone,
        due_at=due,
        parent_id=parent_id,
        parent_due_at=parent_due,
        reported_at=rolled.reported_at,
        away_from=away_from if owner_id else None,
        away_until=away_until if owner_id else None,
        behind_pace_open=bool(pace_open),
        subtasks=rolled.subtasks,
        family=tuple(subtask_view(s) for s in subtasks if s.status != DONE),
        own_progress=progress,
        own_reported_at=reported,
    )


_TASKS_BY_ID = IdsIn(lambda ids_in: TASKS.where(ids_in(Task.id)))  # built once


def load_views(session: Session, task_ids: list[int], cal: WorkCalendar) -> dict[int, TaskView]:
    """What the rules see of these tasks: two statements for a page, whatever its size."""
    if not task_ids:
        return {}
    rows = session.execute(_TASKS_BY_ID.on(session), {"ids": task_ids}).all()
    subs = subtasks_of(session, task_ids)
    return {row[0]: view_of(row, subs.get(row[0], []), cal) for row in rows}


def load_view(session: Session, task_id: int, cal: WorkCalendar) -> TaskView | None:
    return load_views(session, [task_id], cal).get(task_id)
