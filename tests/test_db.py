"""SQLite serves the bot and a `sweep` beside it: writers wait their turn, nobody fails with
"database is locked". Two engines on one file stand for the two processes."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

from sqlalchemy import create_mock_engine, func, select

from bot import tasks as service
from bot.calendar import WorkCalendar
from bot.db import (
    _WAYS,
    RightOfWay,
    create_schema,
    make_engine,
    others_writing,
    reading,
    transaction,
)
from bot.models import Event, Finding, Task
from bot.monitor.monitor import Monitor
from bot.monitor.sweep import run_sweep
from tests.conftest import london

START = london("2026-01-05T09:00")


def test_edits_and_sweeps_side_by_side_never_see_database_is_locked(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    bot_engine, sweep_engine = make_engine(url), make_engine(url)
    create_schema(bot_engine)
    with transaction(bot_engine) as s:
        ids = [
            service.create_task(s, title=f"t{i}", creator="UMARCUS", now=START).id
            for i in range(20)
        ]
    errors: list[BaseException] = []

    def edit() -> None:
        try:
            for n in range(300):
                with transaction(bot_engine) as s:
                    # Read first, then write: the pattern that deadlocks a deferred transaction.
                    service.get_task(s, ids[n % 20])
                    # 1 to 99, never the value a task already has: each write is a change.
                    service.set_progress(
                        s, ids[n % 20], n % 99 + 1, by="UDANA", now=START + timedelta(minutes=n)
                    )
        except BaseException as exc:  # noqa: BLE001 - the test reports whatever happened
            errors.append(exc)

    editor = threading.Thread(target=edit)
    editor.start()
    monitor = Monitor(engine=sweep_engine, cal=WorkCalendar("Europe/London", "GB"))
    for n in range(30):
        asyncio.run(run_sweep(monitor, START + timedelta(hours=n)))
    editor.join()
    assert errors == []
    with transaction(bot_engine) as s:
        assert s.execute(select(func.count()).select_from(Event)).scalar() == 20 + 300
        assert s.execute(select(func.count()).select_from(Finding)).scalar() > 0
    bot_engine.dispose()
    sweep_engine.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    engine.dispose()


def test_what_only_reads_goes_on_while_another_process_holds_the_write_lock(tmp_path):
    """Lists, App Home and a sweep's judging read a snapshot: they neither wait for a writer
    in another process (a long sweep page, a `sweep` beside the bot) nor hold one up."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    bot_engine, sweep_engine = make_engine(url), make_engine(url)
    create_schema(bot_engine)
    with transaction(bot_engine) as s:
        service.create_task(s, title="committed", creator="UMARCUS", now=START)
    seen: list[list[str]] = []

    def list_tasks() -> None:
        with reading(bot_engine) as s:
            seen.append(list(s.execute(select(Task.title)).scalars()))

    with transaction(sweep_engine) as writer:  # the write lock, held until this block ends
        service.create_task(writer, title="not yet committed", creator="UMARCUS", now=START)
        writer.flush()
        reader = threading.Thread(target=list_tasks)
        reader.start()
        reader.join(timeout=10)  # a reader that waited for the lock would still be waiting
        assert not reader.is_alive() and seen == [["committed"]]
    with reading(bot_engine) as s:
        assert s.execute(select(func.count()).select_from(Task)).scalar() == 2
    bot_engine.dispose()
    sweep_engine.dispose()


def test_a_persons_write_goes_before_the_judging_workers_whoever_asked_first(tmp_path):
    """SQLite's write lock does not queue its waiters. While a person's change waits for it
    (here behind a `sweep` beside the bot), the judging worker does not ask for it: when the
    lock frees, the person's change is written first, and the worker's verdicts after."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    bot_engine, worker_engine, beside = make_engine(url), make_engine(url), make_engine(url)
    create_schema(bot_engine)
    way = RightOfWay(most=30.0)
    way.first(bot_engine)
    way.gives_way(worker_engine)

    def write(engine, title: str) -> None:  # type: ignore[no-untyped-def]
        with transaction(engine) as s:
            service.create_task(s, title=title, creator="UMARCUS", now=START)

    person = threading.Thread(target=write, args=(bot_engine, "a person's change"))
    worker = threading.Thread(target=write, args=(worker_engine, "the worker's verdicts"))
    with transaction(beside) as holder:  # the lock is taken: both will have to wait for it
        holder.execute(select(func.count()).select_from(Task))  # BEGIN IMMEDIATE has run
        person.start()
        while way.writing.value == 0:  # the person's change is waiting for the lock
            threading.Event().wait(0.001)
        # Long enough for SQLite to try again for the person only every 100 ms, while the
        # worker, which asks later, would try every few milliseconds and win the lock.
        threading.Event().wait(0.3)
        worker.start()
        threading.Event().wait(0.05)  # the worker, started, is waiting too
    person.join(timeout=30)
    worker.join(timeout=30)
    with reading(bot_engine) as s:
        order = list(s.execute(select(Task.title).order_by(Task.id)).scalars())
    assert order == ["a person's change", "the worker's verdicts"]
    assert way.writing.value == 0  # nothing left counted as writing
    for engine in (bot_engine, worker_engine, beside):
        engine.dispose()


def test_the_right_of_way_is_for_sqlite_alone(tmp_path):
    """PostgreSQL locks rows, not the database: nothing waits there for anyone's turn."""
    way = RightOfWay()
    # A PostgreSQL engine as far as its dialect goes, with no driver or server needed.
    engine = create_mock_engine("postgresql+psycopg://", lambda *args, **kwargs: None)
    way.gives_way(engine)
    way.first(engine)
    assert engine not in _WAYS


def test_the_worker_sees_people_writing_now_and_for_a_second_after(tmp_path):
    """What decides the worker's transactions (`others_writing`): a page of verdicts is one
    when the bot is quiet, ten tasks while people's writes come, now or within the last
    second. The bot's own engine never gives way."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    bot_engine, worker_engine = make_engine(url), make_engine(url)
    create_schema(bot_engine)
    way = RightOfWay()
    way.first(bot_engine)
    way.gives_way(worker_engine)
    assert not others_writing(worker_engine)
    with transaction(bot_engine) as s:
        service.create_task(s, title="a person's change", creator="UMARCUS", now=START)
        assert others_writing(worker_engine)  # writing now
    assert others_writing(worker_engine)  # and a moment ago
    assert not others_writing(bot_engine)  # the bot itself never waits for anyone
    for engine in (bot_engine, worker_engine):
        engine.dispose()


def test_a_sweep_with_nothing_to_do_never_waits_for_the_write_lock(tmp_path):
    """Most scheduled sweeps find nothing due: that look is a read, so it goes on while a
    `sweep` beside the bot (or its worker) holds the write lock, and holds no one up."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    bot_engine, beside = make_engine(url), make_engine(url)
    create_schema(bot_engine)
    monitor = Monitor(
        engine=bot_engine, cal=WorkCalendar("UTC"), settings_checked=True, count_open_tasks=False
    )
    reports: list = []
    sweep = threading.Thread(target=lambda: reports.append(asyncio.run(run_sweep(monitor, START))))
    with transaction(beside) as holder:
        holder.execute(select(func.count()).select_from(Task))  # BEGIN IMMEDIATE has run
        sweep.start()
        sweep.join(timeout=10)  # a sweep that asked for the lock would still be waiting
        assert not sweep.is_alive() and reports[0].checked == 0
    for engine in (bot_engine, beside):
        engine.dispose()
