"""The task service's part for keeping tasks in step with another tool (`python -m bot import`
and `/task import`): many tasks created at once, and the changes only an import makes (a
title, description or link edited in the tool, a card moved under another parent). Like the
rest of the service, each checks before it changes anything and records every change as an
event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlmodel import Session

from bot.errors import UserError
from bot.models import BLOCKED, DONE, OPEN, Event, Task
from bot.tasks import (
    _check_parent,
    _record,
    _require_live,
    check_description,
    check_progress,
    check_title,
    get_task,
)


@dataclass(frozen=True)
class NewTask:
    """One task of `create_many`: what `create_task` takes, and the state it starts in."""

    title: str
    source_key: str
    owner: str | None = None
    due_at: datetime | None = None
    due_has_time: bool = False
    parent_id: int | None = None
    description: str | None = None
    link: str | None = None
    progress: int = 0
    block_reason: str | None = None  # starts blocked, for this reason
    done: bool = False  # starts done (an import of a finished card)


def create_many(
    session: Session, items: list[NewTask], *, creator: str, actor: str, now: datetime
) -> list[int]:
    """Many tasks at once (an import's page), checked as `create_task` checks one, with the
    same events (created, then progress and status where a task starts further on), in two
    statements instead of a flush per task. The new ids are found by the source keys."""
    for parent_id in {i.parent_id for i in items if i.parent_id}:
        _check_parent(session, parent_id)
    rows = [_new_row(item, creator, now) for item in items]
    # One executemany, then the ids by key: SQLite would insert row by row to return them.
    session.execute(insert(Task.__table__), rows)
    keys = [row["source_key"] for row in rows]
    found = dict(
        session.execute(select(Task.source_key, Task.id).where(Task.source_key.in_(keys))).all()
    )
    ids = [found[key] for key in keys]
    events = []
    for task_id, row in zip(ids, rows, strict=True):
        said = dict(task_id=task_id, at=now, actor=actor, note=None)
        events.append(said | dict(kind="created", old=None, new="0", note=row["title"]))
        if row["progress"]:
            events.append(said | dict(kind="progress", old="0", new=str(row["progress"])))
        if row["status"] != OPEN:
            note = row["block_reason"]
            events.append(said | dict(kind="status", old=OPEN, new=row["status"], note=note))
    session.execute(insert(Event.__table__), events)
    parents = {row["parent_id"] for row in rows if row["parent_id"]}
    if parents:  # as `_record` does: a parent's progress comes from its subtasks
        session.execute(update(Task).where(Task.id.in_(parents)).values(next_check_at=now))
    return ids


def _new_row(item: NewTask, creator: str, now: datetime) -> dict:
    progress = 100 if item.done else check_progress(item.progress)
    return dict(
        title=check_title(item.title),
        description=check_description(item.description),
        link=item.link,
        owner_id=item.owner,
        creator_id=creator,
        parent_id=item.parent_id,
        due_at=item.due_at,
        due_has_time=item.due_has_time,
        progress=progress,
        reported_at=now if progress else None,
        status=DONE if item.done else BLOCKED if item.block_reason else OPEN,
        block_reason=None if item.done else item.block_reason,
        created_at=now,
        updated_at=now,
        activity_at=now,
        next_check_at=now,
        closed_at=now if item.done else None,
        source_key=item.source_key,
    )


def set_text(
    session: Session, task_id: int, field: str, value: str | None, *, by: str, now: datetime
) -> Task:
    """A new title, description or link (an import keeping a task in step with its card)."""
    if field not in ("title", "description", "link"):
        raise ValueError(f"not a text field of a task: {field}")
    task = get_task(session, task_id)
    _require_live(task)
    if field == "title":
        value = check_title(value or "")
    elif field == "description":
        value = check_description(value)
    old = getattr(task, field)
    setattr(task, field, value or None)
    _record(session, task, field, by, now, old, value or None)
    return task


def set_parent(session: Session, task_id: int, parent_id: int, *, by: str, now: datetime) -> Task:
    """A task moved under another parent (its card moved in the tool it was imported from)."""
    task = get_task(session, task_id)
    _require_live(task)
    _check_parent(session, parent_id)
    cursor: int | None = parent_id
    while cursor is not None:
        if cursor == task_id:
            raise UserError(f"#{task_id} cannot sit under #{parent_id}: that makes a cycle.")
        cursor = get_task(session, cursor).parent_id
    old = task.parent_id
    task.parent_id = parent_id
    _record(session, task, "parent", by, now, old, parent_id)
    return task
