"""Storing a plan through the task service, a page of cards per transaction, parents before
their subtasks. Every change is an event whose actor is `import:<tool>`; the tasks' creator is
the person who ran the import, so that a task without an owner has someone to ask."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select
from sqlmodel import Session

from bot import task_sync
from bot import tasks as taskops
from bot.db import transaction
from bot.importing.plan import Wanted, actor, block_reason, changes, pages, stored
from bot.models import Task


@dataclass
class Applied:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0


def apply_pages(
    engine: Engine,
    items: Iterator[Wanted],
    *,
    tool: str,
    creator: str,
    now: datetime,
    include_done: bool,
    done: Applied,
    progress: Callable[[int], None] | None = None,
) -> None:
    by = actor(tool)
    for page in pages(items):
        with transaction(engine) as session:
            tasks, parents = stored(session, [w.key for w in page])
            parent_ids = _parent_ids(session, [w.parent_key for w in page if w.parent_key])
            new: list[task_sync.NewTask] = []
            for want in page:
                task = tasks.get(want.key)
                parent_id = parent_ids.get(want.parent_key or "")
                if task is None:
                    if want.card.finished and not include_done:
                        done.skipped += 1
                        continue
                    new.append(_new_task(want, parent_id, tool))
                    continue
                found = changes(want, task, parents.get(task.parent_id or 0), tool)
                if not found:
                    done.unchanged += 1
                    continue
                _update(session, want, task, found, parent_id, by=by, now=now, tool=tool)
                done.updated += 1
            if new:
                task_sync.create_many(session, new, creator=creator, actor=by, now=now)
                done.created += len(new)
        if progress:
            progress(len(page))


def _parent_ids(session: Session, keys: list[str]) -> dict[str, int]:
    if not keys:
        return {}
    rows = session.execute(
        select(Task.source_key, Task.id).where(
            Task.source_key.in_(keys), Task.status.in_(("open", "blocked"))
        )
    )
    return dict(rows.all())


def _new_task(want: Wanted, parent_id: int | None, tool: str) -> task_sync.NewTask:
    card = want.card
    return task_sync.NewTask(
        title=card.title,
        owner=want.owner,
        due_at=card.due_at,
        due_has_time=card.due_has_time,
        parent_id=parent_id,
        description=card.description,
        link=card.link,
        source_key=want.key,
        progress=card.progress,
        block_reason=block_reason(card, tool) if card.blocked else None,
        done=card.finished,
    )


def _update(
    session: Session,
    want: Wanted,
    task: Task,
    found: list[str],
    parent_id: int | None,
    *,
    by: str,
    now: datetime,
    tool: str,
) -> None:
    card, tid = want.card, task.id
    assert tid is not None
    for name in ("title", "description", "link"):
        if name in found:
            task_sync.set_text(session, tid, name, getattr(card, name), by=by, now=now)
    if "owner" in found and want.owner:
        taskops.assign(session, tid, want.owner, by=by, now=now)
    if "due" in found:
        taskops.set_due(session, tid, card.due_at, by=by, now=now, has_time=card.due_has_time)
    if "parent" in found and parent_id:
        task_sync.set_parent(session, tid, parent_id, by=by, now=now)
    if "done" in found:
        taskops.complete(session, tid, by=by, now=now)
        return
    if "unblocked" in found:
        taskops.unblock(session, tid, by=by, now=now)
    if "progress" in found:
        taskops.set_progress(session, tid, card.progress, by=by, now=now)
    if "blocked" in found and task.status in ("open",):
        taskops.block(session, tid, block_reason(card, tool), by=by, now=now)
