"""The task service: every change is validated first, recorded as an event, and bad input
stores nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot import tasks as service
from bot.db import transaction
from bot.errors import UserError
from bot.models import Event, Task
from tests.conftest import london

NOW = london("2026-01-05T09:00")


def rows(engine, model) -> int:
    with transaction(engine) as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def make(engine, **kw) -> int:
    kw.setdefault("title", "Q3 filing")
    kw.setdefault("creator", "UMARCUS")
    kw.setdefault("now", NOW)
    with transaction(engine) as s:
        return service.create_task(s, **kw).id


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s, t: service.set_progress(s, t, 120, by="UDANA", now=NOW), "0 to 100"),
        (lambda s, t: service.set_progress(s, t, -1, by="UDANA", now=NOW), "0 to 100"),
        (
            lambda s, t: service.set_progress(s, 999, 40, by="UDANA", now=NOW),
            "There is no task #999",
        ),
        (lambda s, t: service.block(s, t, "   ", by="UDANA", now=NOW), "Say what blocks it"),
        (lambda s, t: service.unblock(s, t, by="UDANA", now=NOW), "is not blocked"),
        (lambda s, t: service.create_task(s, title="  ", creator="U1", now=NOW), "needs a title"),
        (lambda s, t: service.create_task(s, title="x" * 201, creator="U1", now=NOW), "at most 200"),
        (
            lambda s, t: service.create_task(s, title="sub", creator="U1", now=NOW, parent_id=42),
            "no task #42",
        ),
    ],
)
def test_bad_changes_say_what_to_do_and_store_nothing(engine, change, message):
    tid = make(engine)
    before = (rows(engine, Task), rows(engine, Event))
    with pytest.raises(UserError, match=message):
        with transaction(engine) as s:
            change(s, tid)
    assert (rows(engine, Task), rows(engine, Event)) == before


def test_every_change_is_an_event_with_who_when_old_and_new(engine):
    tid = make(engine)
    later = NOW + timedelta(hours=2)
    with transaction(engine) as s:
        service.set_progress(s, tid, 40, by="UDANA", now=later)
        service.assign(s, tid, "UDANA", by="UMARCUS", now=later)
    with transaction(engine) as s:
        events = s.execute(select(Event).order_by(Event.id)).scalars().all()
    assert [(e.kind, e.actor, e.old, e.new) for e in events] == [
        ("created", "UMARCUS", None, "0"),
        ("progress", "UDANA", "0", "40"),
        ("owner", "UMARCUS", None, "UDANA"),
    ]
    assert events[1].at == later


def test_progress_100_marks_done_and_cancel_closes_without_completing(engine):
    a, b = make(engine, title="A"), make(engine, title="B")
    with transaction(engine) as s:
        service.set_progress(s, a, 100, by="UDANA", now=NOW)
        service.cancel(s, b, by="UMARCUS", now=NOW)
    with transaction(engine) as s:
        assert s.get(Task, a).status == "done"
        assert (s.get(Task, b).status, s.get(Task, b).progress) == ("cancelled", 0)
    with pytest.raises(UserError, match="already done"):
        with transaction(engine) as s:
            service.set_progress(s, a, 50, by="UDANA", now=NOW)


def test_only_progress_and_reassignment_restart_the_stall_clock(engine):
    tid = make(engine)
    t1, t2, t3 = (NOW + timedelta(days=d) for d in (1, 2, 3))
    with transaction(engine) as s:
        service.add_note(s, tid, "looked at it", by="UDANA", now=t1)
        service.set_progress(s, tid, 0, by="UDANA", now=t1)  # no change: no restart
    with transaction(engine) as s:
        assert s.get(Task, tid).activity_at == NOW
        service.set_progress(s, tid, 10, by="UDANA", now=t2)
    with transaction(engine) as s:
        assert s.get(Task, tid).activity_at == t2
        service.assign(s, tid, "ULEE", by="UMARCUS", now=t3)
    with transaction(engine) as s:
        assert s.get(Task, tid).activity_at == t3


def test_datetimes_come_back_aware_utc_from_sqlite(engine):
    """SQLite forgets offsets; the repository boundary puts UTC back."""
    naive = datetime(2026, 1, 5, 10, 0)
    due = datetime(2026, 1, 30, 23, 0, tzinfo=UTC)
    tid = make(engine, due_at=due)
    with transaction(engine) as s:
        task = s.get(Task, tid)
        assert task.due_at == due and task.due_at.tzinfo is UTC
        assert task.created_at.tzinfo is UTC
    with pytest.raises(Exception, match="naive datetime"):
        make(engine, due_at=naive)
