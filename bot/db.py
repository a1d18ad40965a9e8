"""Engine and sessions. SQLite runs in WAL mode, and every transaction that may write takes the
write lock up front (`BEGIN IMMEDIATE`), so a `sweep` beside the bot waits its turn instead of
failing with "database is locked" when a read transaction tries to become a write one. What
only reads (`reading`) begins deferred: in WAL mode a reader works on a snapshot, neither
waiting for the write lock nor holding it, so lists, App Home and a sweep's judging go on
while another process writes."""

from __future__ import annotations

import multiprocessing
import time
import uuid
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Integer, any_, bindparam, create_engine, event, tuple_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import make_url
from sqlmodel import Session

from bot import models  # noqa: F401  (registers the tables)

BUSY_TIMEOUT_MS = 30_000
READ_ONLY = "vigil_read_only"


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
            return
        way = _WAYS.get(engine)
        if way is None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            return
        way.before_write(conn)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            way.after_write(conn)
            raise

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(conn) -> None:  # type: ignore[no-untyped-def]
        if (way := _WAYS.get(engine)) is not None:
            way.after_write(conn)

    return engine


# -- SQLite's one write lock: people first ---------------------------------------------------
_WAYS: weakref.WeakKeyDictionary[Engine, RightOfWay.Side] = weakref.WeakKeyDictionary()
_WRITING = "vigil_writing"


class RightOfWay:
    """Who goes first when the bot and its judging worker both want SQLite's write lock.

    SQLite has one write lock for every process, and a writer kept waiting does not queue: it
    sleeps and tries again, longer each time. A full sweep's worker writes a page of verdicts,
    judges the next page, writes again; people's commands, clicks and App Home, written by the
    bot's own process, fell into that rhythm and waited, and with two database threads per
    bot, answers queued behind them for seconds. So the bot's writes have the right of way:
    while one waits for the lock or holds it (a count shared between the two processes), the
    worker does not ask for it, for at most `most` seconds a transaction, so that a flood of
    clicks slows a sweep but never stops it. PostgreSQL locks rows, not the database, and has
    no need of this."""

    def __init__(self, most: float = 0.25) -> None:
        context = multiprocessing.get_context("spawn")
        self.writing = context.Value("i", 0)
        self.last_write = context.Value("d", 0.0)  # time.monotonic(), the same in every process
        self.most = most

    def busy(self) -> bool:
        """Whether the bot writes now or wrote within the last second."""
        return self.writing.value > 0 or time.monotonic() - self.last_write.value < 1.0

    def first(self, engine: Engine) -> None:
        """`engine`'s writes (the bot's) go before those of any engine that gives way."""
        if engine.dialect.name == "sqlite":
            _WAYS[engine] = RightOfWay.Side(self, first=True)

    def gives_way(self, engine: Engine) -> None:
        """`engine`'s writes (the worker's) wait while the bot writes."""
        if engine.dialect.name == "sqlite":
            _WAYS[engine] = RightOfWay.Side(self, first=False)

    @dataclass
    class Side:
        way: RightOfWay
        first: bool

        def before_write(self, conn: Any) -> None:
            counter = self.way.writing
            if self.first:
                with counter.get_lock():
                    counter.value += 1
                self.way.last_write.value = time.monotonic()
                conn.info[_WRITING] = True
                return
            give_up = time.monotonic() + self.way.most
            while counter.value > 0 and time.monotonic() < give_up:
                time.sleep(0.001)

        def after_write(self, conn: Any) -> None:
            if conn.info.pop(_WRITING, False):
                counter = self.way.writing
                with counter.get_lock():
                    counter.value -= 1


def others_writing(engine: Engine) -> bool:
    """For an engine that gives way: whether the bot is writing now or wrote within the last
    second, when the worker writes in small transactions rather than a page at a time."""
    side = _WAYS.get(engine)
    return side is not None and not side.first and side.way.busy()


class IdsIn:
    """A statement that takes a list of ids (`:ids`), in the form each database reads fastest:
    on PostgreSQL one array parameter (`id = ANY(:ids)`), elsewhere an expanding `IN`. Expanded
    into 2,000 parameters, a page's statement is new text each time, which psycopg parses
    again (12 ms a statement at 1,000 ids, a third of a steady sweep at a million tasks)."""

    def __init__(self, build: Callable[[Callable[..., Any]], Any]) -> None:
        self.array = build(lambda column: column == any_(bindparam("ids", type_=ARRAY(Integer))))
        self.expanding = build(lambda column: column.in_(bindparam("ids", expanding=True)))

    def on(self, session: Any) -> Any:
        """The form for the database `session` (or connection) talks to."""
        bind = session.get_bind() if hasattr(session, "get_bind") else session
        return self.array if bind.dialect.name == "postgresql" else self.expanding


def after_cursor(at_column: Any, id_column: Any) -> Any:
    """`(at, id) > (:after_at, :after_id)`: where the next page starts, in (instant, id) order.
    The parameters take the columns' types. Untyped, an aware instant reaches SQLite as
    Python's own text for it (`...123456+00:00`), which sorts after the same instant as stored
    (`...123456`), and every row sharing the last row's instant was skipped until a later sweep."""
    return tuple_(at_column, id_column) > tuple_(
        bindparam("after_at", type_=at_column.type), bindparam("after_id", type_=id_column.type)
    )


def create_schema(engine: Engine) -> None:
    """The schema at the newest revision, for the fresh databases of tests, the replay and the
    benchmarks: an empty database is built from the models and recorded at head, the same
    schema as migrating (tests/test_migrations.py) in less time. A database that already has
    one is left as it is if at head, else refused as at start-up."""
    from bot.migrations.runner import prepare

    prepare(engine, upgrade=False, quick=True)


def prepare_schema(engine: Engine, *, upgrade: bool = False) -> None:
    """Start-up's check: migrate an empty database to head, record one made before migrations
    at the baseline, and refuse (SchemaError) one behind head unless `upgrade`, or ahead."""
    from bot.migrations.runner import prepare

    prepare(engine, upgrade=upgrade)


@contextmanager
def schema_of_its_own(url: str, prefix: str) -> Iterator[str]:
    """A URL to a new schema of its own in the PostgreSQL database at `url`, dropped
    afterwards: for tests and benchmarks that share one server."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield scoped.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: committed on success, rolled back on any exception."""
    with Session(engine, expire_on_commit=False) as session:
        with session.begin():
            yield session


@contextmanager
def reading(engine: Engine) -> Iterator[Session]:
    """A unit of work that only reads: one consistent snapshot, and on SQLite no write lock."""
    with engine.connect().execution_options(**{READ_ONLY: True}) as conn:
        with Session(bind=conn, expire_on_commit=False) as session:
            with session.begin():
                yield session
