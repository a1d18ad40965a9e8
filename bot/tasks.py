"""Task service: every change to a task goes through here, by a command, a button or a
scenario alike. Each function validates, changes the row, records the event (who, when, what,
old -> new) and marks the task for the monitor's next look. It raises `TaskError`, with one
sentence for the user, before it changes anything."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlmodel import Session

from bot.models import BLOCKED, CANCELLED, DONE, LIVE_STATUSES, OPEN, Event, Task

MAX_TITLE = 200
MAX_TEXT = 3000
MAX_DEPTH = 3  # a parent, its subtasks, and theirs


class TaskError(ValueError):
    """A change that cannot be made; the message says what to do instead."""


def get_task(session: Session, task_id: int) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise TaskError(f"There is no task #{task_id}. `/task list` shows yours.")
    return task


def may_change(task: Task, user_id: str, managers: frozenset[str]) -> bool:
    return user_id in managers or user_id in (task.owner_id, task.creator_id)


def _record(
    session: Session,
    task: Task,
    kind: str,
    by: str,
    now: datetime,
    old: object = None,
    new: object = None,
    note: str | None = None,
) -> None:
    session.add(
        Event(
            task_id=task.id,
            at=now,
            actor=by,
            kind=kind,
            old=None if old is None else str(old),
            new=None if new is None else str(new),
            note=note,
        )
    )
    task.updated_at = now
    task.next_check_at = now  # the monitor looks again at its next sweep
    session.add(task)


def _require_live(task: Task) -> None:
    if task.status not in LIVE_STATUSES:
        raise TaskError(f"#{task.id} is already {task.status}; nothing to change.")


def _clean_title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise TaskError(
            "A task needs a title, e.g. `/task add Q3 filing for Acme @dana due friday`."
        )
    if len(title) > MAX_TITLE:
        raise TaskError(f"That title is {len(title)} characters; keep it under {MAX_TITLE}.")
    return title


def _check_parent(session: Session, parent_id: int | None, child_id: int | None = None) -> None:
    if parent_id is None:
        return
    parent = get_task(session, parent_id)
    if parent.status not in LIVE_STATUSES:
        raise TaskError(f"#{parent_id} is {parent.status}; a subtask needs an open parent.")
    depth, cursor = 1, parent
    while cursor.parent_id is not None:
        if cursor.parent_id == child_id or cursor.id == child_id:
            raise TaskError(f"#{child_id} cannot sit under #{parent_id}: that makes a cycle.")
        cursor = get_task(session, cursor.parent_id)
        depth += 1
    if cursor.id == child_id:
        raise TaskError(f"#{child_id} cannot sit under #{parent_id}: that makes a cycle.")
    if depth >= MAX_DEPTH:
        raise TaskError(f"Subtasks go {MAX_DEPTH} levels deep at most; #{parent_id} is too deep.")


def create_task(
    session: Session,
    *,
    title: str,
    creator: str,
    now: datetime,
    owner: str | None = None,
    due_at: datetime | None = None,
    due_has_time: bool = False,
    parent_id: int | None = None,
    description: str | None = None,
    link: str | None = None,
    source_key: str | None = None,
    actor: str | None = None,
) -> Task:
    """`actor` is who the history names when it is not the creator: an import creates tasks on
    behalf of the manager who ran it, and its events say where they came from."""
    title = _clean_title(title)
    if description and len(description) > MAX_TEXT:
        raise TaskError(f"The description is too long; keep it under {MAX_TEXT} characters.")
    _check_parent(session, parent_id)
    task = Task(
        title=title,
        description=description or None,
        link=link,
        owner_id=owner,
        creator_id=creator,
        parent_id=parent_id,
        due_at=due_at,
        due_has_time=due_has_time,
        created_at=now,
        updated_at=now,
        activity_at=now,
        next_check_at=now,
        source_key=source_key,
    )
    session.add(task)
    session.flush()  # assigns the id the event and the reply need
    _record(session, task, "created", actor or creator, now, new=0, note=title)
    return task


@dataclass(frozen=True)
class NewTask:
    """One task of `create_many`: what `create_task` takes, and the state it starts in."""

    title: str
    owner: str | None = None
    due_at: datetime | None = None
    due_has_time: bool = False
    parent_id: int | None = None
    description: str | None = None
    link: str | None = None
    source_key: str | None = None
    progress: int = 0
    block_reason: str | None = None  # starts blocked, for this reason
    done: bool = False  # starts done (an import of a finished card)


def create_many(
    session: Session, items: list[NewTask], *, creator: str, actor: str, now: datetime
) -> list[int]:
    """Many tasks at once, checked as `create_task` checks one, with the same events (created,
    then progress and status where a task starts further on), written in two statements
    instead of a flush per task: an import of 10,000 cards takes seconds, not minutes. Each
    item needs its own source key: the new ids are found by them."""
    if any(not item.source_key for item in items):
        raise ValueError("create_many finds the new tasks' ids by their source keys")
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
    return ids


def _new_row(item: NewTask, creator: str, now: datetime) -> dict:
    if not 0 <= item.progress <= 100:
        raise TaskError(f"Progress is a number from 0 to 100, not {item.progress}.")
    if item.description and len(item.description) > MAX_TEXT:
        raise TaskError(f"The description is too long; keep it under {MAX_TEXT} characters.")
    return dict(
        title=_clean_title(item.title),
        description=item.description or None,
        link=item.link,
        owner_id=item.owner,
        creator_id=creator,
        parent_id=item.parent_id,
        due_at=item.due_at,
        due_has_time=item.due_has_time,
        progress=100 if item.done else item.progress,
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
        value = _clean_title(value or "")
    elif field == "description" and value and len(value) > MAX_TEXT:
        raise TaskError(f"The description is too long; keep it under {MAX_TEXT} characters.")
    old = getattr(task, field)
    setattr(task, field, value or None)
    _record(session, task, field, by, now, old, value or None)
    return task


def set_progress(
    session: Session,
    task_id: int,
    progress: int,
    *,
    by: str,
    now: datetime,
    note: str | None = None,
) -> Task:
    if not 0 <= progress <= 100:
        raise TaskError(f"Progress is a number from 0 to 100, e.g. `/task progress {task_id} 40`.")
    task = get_task(session, task_id)
    _require_live(task)
    old = task.progress
    task.progress = progress
    if progress != old:
        task.activity_at = now  # real progress restarts the stall clock
    _record(session, task, "progress", by, now, old, progress, note)
    if progress == 100:
        _close(session, task, DONE, by, now)
    return task


def assign(session: Session, task_id: int, owner: str, *, by: str, now: datetime) -> Task:
    task = get_task(session, task_id)
    _require_live(task)
    old = task.owner_id
    task.owner_id = owner
    if owner != old:
        task.activity_at = now  # a new owner gets a fresh stall clock
    _record(session, task, "owner", by, now, old, owner)
    return task


def set_due(
    session: Session,
    task_id: int,
    due_at: datetime | None,
    *,
    by: str,
    now: datetime,
    has_time: bool = False,
) -> Task:
    task = get_task(session, task_id)
    _require_live(task)
    old = task.due_at
    task.due_at, task.due_has_time = due_at, has_time
    _record(
        session,
        task,
        "due",
        by,
        now,
        old.isoformat() if old else None,
        due_at.isoformat() if due_at else None,
    )
    # Subtasks judge their own deadline against this one: they must be looked at again too.
    session.execute(
        update(Task)
        .where(Task.parent_id == task.id, Task.status.in_(LIVE_STATUSES))
        .values(next_check_at=now)
    )
    return task


def set_parent(
    session: Session, task_id: int, parent_id: int | None, *, by: str, now: datetime
) -> Task:
    task = get_task(session, task_id)
    _require_live(task)
    if parent_id == task_id:
        raise TaskError(f"#{task_id} cannot be its own parent.")
    _check_parent(session, parent_id, child_id=task_id)
    old = task.parent_id
    task.parent_id = parent_id
    _record(session, task, "parent", by, now, old, parent_id)
    return task


def block(session: Session, task_id: int, reason: str, *, by: str, now: datetime) -> Task:
    reason = " ".join(reason.split())
    if not reason:
        raise TaskError(
            f"Say what blocks it, e.g. `/task block {task_id} waiting for the client's figures`."
        )
    task = get_task(session, task_id)
    _require_live(task)
    old = task.status
    task.status, task.block_reason = BLOCKED, reason[:MAX_TEXT]
    _record(session, task, "status", by, now, old, BLOCKED, reason)
    return task


def unblock(session: Session, task_id: int, *, by: str, now: datetime) -> Task:
    task = get_task(session, task_id)
    if task.status != BLOCKED:
        raise TaskError(f"#{task_id} is not blocked.")
    task.status, task.block_reason = OPEN, None
    # The blocked days were the managers' to solve; the owner's stall clock starts afresh.
    task.activity_at = now
    _record(session, task, "status", by, now, BLOCKED, OPEN)
    return task


def complete(session: Session, task_id: int, *, by: str, now: datetime) -> Task:
    task = get_task(session, task_id)
    _require_live(task)
    if task.progress != 100:
        _record(session, task, "progress", by, now, task.progress, 100)
        task.progress = 100
        task.activity_at = now
    _close(session, task, DONE, by, now)
    return task


def cancel(
    session: Session, task_id: int, *, by: str, now: datetime, note: str | None = None
) -> Task:
    task = get_task(session, task_id)
    _require_live(task)
    _close(session, task, CANCELLED, by, now, note)
    return task


def _close(
    session: Session, task: Task, status: str, by: str, now: datetime, note: str | None = None
) -> None:
    old = task.status
    task.status, task.closed_at, task.block_reason = status, now, None
    _record(session, task, "status", by, now, old, status, note)


def add_note(session: Session, task_id: int, note: str, *, by: str, now: datetime) -> Task:
    """A note is history, not progress: it does not restart the stall clock."""
    task = get_task(session, task_id)
    _record(session, task, "note", by, now, note=note[:MAX_TEXT])
    return task
