"""Task service: every change to a task goes through here, by a command, a button, a replayed
scenario or an import alike. Each function validates, changes the row, records the event (who,
when, what, old -> new) and marks the task for the monitor's next look. It raises `UserError`,
with one sentence for the user, before it changes anything.

`change_task` is the one way a person's change is applied: it checks who may make it, then
applies each part in a fixed order (owner, deadline, progress or note, status) and says what
it did in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session

from bot.errors import UserError, may_change_refusal
from bot.models import BLOCKED, CANCELLED, DONE, LIVE_STATUSES, OPEN, Event, Task

MAX_TITLE = 200
MAX_TEXT = 3000
MAX_DEPTH = 3  # a parent, its subtasks, and theirs


def get_task(session: Session, task_id: int) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise UserError(f"There is no task #{task_id}. `/task list` shows yours.")
    return task


def may_change(task: Task, user_id: str, managers: frozenset[str]) -> bool:
    return user_id in managers or user_id in (task.owner_id, task.creator_id)


def check_may_change(task: Task, user_id: str, managers: frozenset[str]) -> None:
    """Only the owner, the creator or a manager may change a task: one check, one wording."""
    if not may_change(task, user_id, managers):
        raise may_change_refusal(task.id, task.owner_id or task.creator_id)


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
    if task.parent_id is not None:
        # A parent's progress and stall clock come from its subtasks: it is looked at again too.
        session.execute(update(Task).where(Task.id == task.parent_id).values(next_check_at=now))


def _require_live(task: Task) -> None:
    if task.status not in LIVE_STATUSES:
        raise UserError(f"#{task.id} is already {task.status}; nothing to change.")


def check_title(title: str) -> str:
    """The title as stored (runs of spaces made one), or the one sentence about what is wrong
    with it: the grammar, the forms, scenarios and imports all ask here."""
    title = " ".join(title.split())
    if not title:
        raise UserError("A task needs a title.", "/task add Q3 filing for Acme @dana due friday")
    if len(title) > MAX_TITLE:
        raise UserError(
            f"That title is {len(title)} characters; a title has at most {MAX_TITLE}.",
            "/task add Q3 filing for Acme @dana due friday",
        )
    return title


def check_description(text: str | None) -> str | None:
    if text and len(text) > MAX_TEXT:
        raise UserError(
            f"The description is {len(text)} characters; a description has at most {MAX_TEXT}."
        )
    return text or None


def check_progress(progress: int, task_id: int | str = 12) -> int:
    if not 0 <= progress <= 100:
        raise UserError("Progress is a number from 0 to 100.", f"/task progress {task_id} 40")
    return progress


def _check_parent(session: Session, parent_id: int | None) -> None:
    """A subtask's parent exists, is open, and is not too deep already. (A new task has no
    subtasks of its own, so it cannot close a cycle.)"""
    if parent_id is None:
        return
    parent = get_task(session, parent_id)
    if parent.status not in LIVE_STATUSES:
        raise UserError(f"#{parent_id} is {parent.status}; a subtask needs an open parent.")
    depth, cursor = 1, parent
    while cursor.parent_id is not None:
        cursor = get_task(session, cursor.parent_id)
        depth += 1
    if depth >= MAX_DEPTH:
        raise UserError(f"Subtasks go {MAX_DEPTH} levels deep at most; #{parent_id} is too deep.")


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
    title = check_title(title)
    description = check_description(description)
    _check_parent(session, parent_id)
    task = Task(
        title=title,
        description=description,
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


def set_progress(
    session: Session,
    task_id: int,
    progress: int,
    *,
    by: str,
    now: datetime,
    note: str | None = None,
) -> Task:
    check_progress(progress, task_id)
    task = get_task(session, task_id)
    _require_live(task)
    old = task.progress
    if progress == old and not note:
        return task  # a repeated click or command: nothing new to record
    task.progress = progress
    if progress != old:
        task.activity_at = now  # real progress restarts the stall clock
        task.reported_at = now  # and is the report pace is judged from
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


def block(session: Session, task_id: int, reason: str, *, by: str, now: datetime) -> Task:
    reason = " ".join(reason.split())
    if not reason:
        raise UserError(
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
        raise UserError(f"#{task_id} is not blocked.")
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
        task.activity_at = task.reported_at = now
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


# -- a person's change, whatever surface it came from -----------------------------------------
@dataclass(frozen=True)
class Change:
    """What a person asks to change about a task: any of these, applied in this order."""

    owner: str | None = None
    due: tuple[datetime | None, bool] | None = None  # (deadline, has a time of day)
    progress: int | None = None
    note: str | None = None
    status: str | None = None  # open (unblock), blocked, done, cancelled
    reason: str | None = None  # why it is blocked


def change_task(
    session: Session,
    task_id: int,
    change: Change,
    *,
    by: str,
    now: datetime,
    managers: frozenset[str],
    due_words: str | None = None,
) -> tuple[Task, list[str]]:
    """Apply `change` for `by`, who must be the owner, the creator or a manager. Returns the
    task and what was done, in words (`progress 40% → 60%`, `marked done`). `due_words` is how
    the new deadline reads to people, for that sentence."""
    task = get_task(session, task_id)
    check_may_change(task, by, managers)
    done: list[str] = []
    if change.owner is not None:
        assign(session, task_id, change.owner, by=by, now=now)
        done.append(f"now owned by <@{change.owner}>")
    if change.due is not None:
        at, has_time = change.due
        set_due(session, task_id, at, by=by, now=now, has_time=has_time)
        done.append(f"due {due_words}" if due_words else "deadline moved")
    if change.progress is not None:
        old = task.progress
        set_progress(session, task_id, change.progress, by=by, now=now, note=change.note)
        if old == change.progress and not change.note:
            done.append(f"progress is already {old}%; nothing changed")  # a click repeated
        else:
            done.append(
                f"progress {old}% → {change.progress}%"
                + (" · done" if change.progress == 100 else "")
            )
    elif change.note:
        add_note(session, task_id, change.note, by=by, now=now)
        done.append("note added")
    if change.status == BLOCKED:
        block(session, task_id, change.reason or "", by=by, now=now)
        done.append("blocked; the managers' channel will hear of it at the next sweep")
    elif change.status == OPEN:
        unblock(session, task_id, by=by, now=now)
        done.append("unblocked")
    elif change.status == DONE:
        complete(session, task_id, by=by, now=now)
        done.append("marked done")
    elif change.status == CANCELLED:
        cancel(session, task_id, by=by, now=now)
        done.append("cancelled")
    return task, done
