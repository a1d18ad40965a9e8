"""Engine and sessions. SQLite runs in WAL mode, and every transaction that may write takes the
write lock up front (`BEGIN IMMEDIATE`), so a `sweep` beside the bot waits its turn instead of
failing with "database is locked" when a read transaction tries to become a write one. What
only reads (`reading`) begins deferred: in WAL mode a reader works on a snapshot, neither
waiting for the write lock nor holding it, so lists, App Home and a sweep's judging go on
while another process writes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, create_engine, event, tuple_
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
        read_only = conn.get_execution_options().get(READ_ONLY)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


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
