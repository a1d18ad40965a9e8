"""`create_many`, the task service's way to create an import's tasks a page at a time, leaves
the same rows and history as creating each task and then reporting on it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import task_sync
from bot import tasks as taskops
from bot.db import reading, transaction
from bot.errors import UserError
from bot.models import Event, Task
from tests.importing.helpers import NOW, eod

ITEM = dict(title="Audit for Oak", owner="UDANA", due_at=eod("2026-01-30"), description="d")


def history(engine, task_id):
    with reading(engine) as s:
        task = s.get(Task, task_id)
        events = s.execute(select(Event).where(Event.task_id == task_id).order_by(Event.id))
        shown = [(e.actor, e.kind, e.old, e.new, e.note) for e in events.scalars()]
        fields = (
            task.title,
            task.owner_id,
            task.due_at,
            task.progress,
            task.status,
            task.block_reason,
            task.activity_at,
            task.closed_at is not None,
        )
        return fields, shown


@pytest.mark.parametrize(
    "start", [{}, {"progress": 40}, {"progress": 40, "block_reason": "Stuck (in Jira)"}]
)
def test_create_many_matches_one_at_a_time(engine, start):
    with transaction(engine) as s:
        one = taskops.create_task(s, creator="UMARCUS", actor="import:jira", now=NOW, **ITEM).id
        if start.get("progress"):
            taskops.set_progress(s, one, start["progress"], by="import:jira", now=NOW)
        if start.get("block_reason"):
            taskops.block(s, one, start["block_reason"], by="import:jira", now=NOW)
        [many] = task_sync.create_many(
            s,
            [task_sync.NewTask(**ITEM, **start, source_key="k1")],
            creator="UMARCUS",
            actor="import:jira",
            now=NOW,
        )
    assert history(engine, one) == history(engine, many)


def test_create_many_refuses_a_bad_row_before_storing_any(engine):
    with pytest.raises(UserError), transaction(engine) as s:
        task_sync.create_many(
            s,
            [
                task_sync.NewTask(title="Fine", source_key="k1"),
                task_sync.NewTask(title="Odd", progress=140, source_key="k2"),
            ],
            creator="UMARCUS",
            actor="import:sheet",
            now=NOW,
        )
    with reading(engine) as s:
        assert s.execute(select(Task)).first() is None
