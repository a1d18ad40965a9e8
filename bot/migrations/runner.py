"""Bringing a database to the schema this Vigil needs: at start-up, from `python -m bot db
upgrade`, and (quickly) for the fresh databases of tests and the replay.

Everything happens on one connection in one transaction that holds the migration lock, so
replicas starting together on an empty database take turns instead of all creating the same
tables at once: on PostgreSQL a transaction-scoped advisory lock (its DDL is transactional, so
a failed upgrade leaves nothing half done); on SQLite the write lock, which `make_engine` takes
at `BEGIN IMMEDIATE`. The first replica creates the schema; the others then find it at head.

A database is in one of five states, and start-up acts on each:
- empty (none of Vigil's tables, no revision): migrated to head;
- made before migrations (Vigil's tables, no `alembic_version`): recorded as the baseline if its
  tables are the baseline's, never rebuilt; refused if they are not;
- at head: used as it is;
- behind head: refused with the command to run, unless `upgrade=True` (`db upgrade`);
- at a revision this code does not know (a newer Vigil upgraded it): refused.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, inspect, text
from sqlmodel import SQLModel

from bot import models  # noqa: F401  (registers the tables)
from bot.config import ConfigError
from bot.db import READ_ONLY

# Where the revisions are; tests point it at a copy with a throwaway newer revision.
LOCATION = Path(__file__).parent
BASELINE = "0001"
UPGRADE_COMMAND = "python -m bot db upgrade"
# Keyed by schema too: databases in different schemas of one server need not wait for each other.
PG_LOCK = "SELECT pg_advisory_xact_lock(hashtext('vigil migrations ' || current_schema()))"


log = logging.getLogger(__name__)


class SchemaError(ConfigError):
    """The database's schema is not the one this Vigil needs; start-up must not go on."""


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic configured in code: an installed wheel has no alembic.ini. With a connection,
    env.py migrates on it, inside the caller's transaction."""
    config = Config()
    config.set_main_option("script_location", str(LOCATION))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def scripts() -> ScriptDirectory:
    return _scripts(LOCATION)


@cache
def _scripts(location: Path) -> ScriptDirectory:
    return ScriptDirectory(str(location))


def head() -> str:
    return scripts().get_current_head() or BASELINE


def known_revisions() -> frozenset[str]:
    return frozenset(s.revision for s in scripts().walk_revisions())


@dataclass(frozen=True)
class Status:
    revision: str | None  # what alembic_version holds
    has_tables: bool  # whether any table this Vigil defines exists
    head: str

    @property
    def at_head(self) -> bool:
        return self.revision == self.head

    def describe(self) -> str:
        """One line for `db current`: the revision and whether it is at head."""
        if self.at_head:
            return f"{self.revision} (head)"
        if self.revision is None and not self.has_tables:
            return f"no schema yet; this Vigil needs {self.head}: run {UPGRADE_COMMAND}"
        if self.revision is None:
            return f"no revision recorded (tables from before migrations); this Vigil needs {self.head}: run {UPGRADE_COMMAND}"
        if self.revision not in known_revisions():
            return f"{self.revision}, unknown to this Vigil, which needs {self.head}"
        return f"{self.revision}, behind head {self.head}: run {UPGRADE_COMMAND}"


@dataclass(frozen=True)
class Change:
    before: Status
    after: str

    def summary(self) -> str:
        """One line for `db upgrade`: what it did."""
        before = self.before.revision
        if before is None and not self.before.has_tables:
            return f"created the schema at revision {self.after}"
        if before is None:
            done = f"recorded the existing tables as revision {BASELINE}"
            return done if self.after == BASELINE else f"{done}, then upgraded to {self.after}"
        if before == self.after:
            return f"the database is already at revision {self.after} (head)"
        return f"upgraded the database from revision {before} to {self.after}"


def read_status(conn: Connection) -> Status:
    revision = MigrationContext.configure(conn).get_current_revision()
    tables = set(inspect(conn).get_table_names()) & set(SQLModel.metadata.tables)
    return Status(revision, bool(tables), head())


def current(engine: Engine) -> Status:
    """The database's revision, read without taking any lock or changing anything."""
    with engine.connect().execution_options(**{READ_ONLY: True}) as conn:
        with conn.begin():
            return read_status(conn)


def prepare(engine: Engine, *, upgrade: bool, quick: bool = False) -> Change:
    """Bring the database to head, or raise SchemaError saying what to run. `quick`: build an
    empty database from the models and record it at head, the same schema as migrating
    (tests/test_migrations.py proves it) in about half the time."""
    with locked(engine) as conn:
        change = bring_to_head(conn, upgrade=upgrade, quick=quick)
    if change.before.revision != change.after:
        log.info("database: %s", change.summary())
    return change


def bring_to_head(conn: Connection, *, upgrade: bool, quick: bool) -> Change:
    before = read_status(conn)
    if before.revision is None and not before.has_tables:
        create(conn, quick=quick)
        return Change(before, head())
    if before.revision is None:
        adopt(conn)
    revision = before.revision or BASELINE
    if revision not in known_revisions():
        raise SchemaError(
            f"the database is at revision {revision}, which this Vigil does not know (it "
            f"needs {head()}): a newer Vigil upgraded it; run that Vigil, or restore the "
            "backup taken before the upgrade"
        )
    if revision != head():
        if not upgrade:
            raise SchemaError(
                f"the database is at revision {revision} and this Vigil needs {head()}: "
                f"back it up, then run {UPGRADE_COMMAND}"
            )
        command.upgrade(alembic_config(conn), "head")
    return Change(before, head())


def create(conn: Connection, *, quick: bool) -> None:
    if quick:
        SQLModel.metadata.create_all(conn)
        MigrationContext.configure(conn).stamp(scripts(), "head")
    else:
        command.upgrade(alembic_config(conn), "head")


def adopt(conn: Connection) -> None:
    """A database made by `create_all` before migrations: recorded as the baseline, untouched,
    when its tables are exactly the baseline's."""
    problem = shape_difference(table_shape(conn), baseline_shape())
    if problem:
        raise SchemaError(
            f"the database has Vigil's tables but no revision, and they are not Vigil's first "
            f"schema ({problem}): point DATABASE_URL at Vigil's own database or an empty one"
        )
    MigrationContext.configure(conn).stamp(scripts(), BASELINE)


@contextmanager
def locked(engine: Engine) -> Iterator[Connection]:
    """One connection in one transaction, holding the migration lock until it commits."""
    with engine.connect() as conn:
        if conn.dialect.name != "sqlite":
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(text(PG_LOCK))
                yield conn
            return
        # SQLite rebuilds a table to alter it (batch mode); with foreign keys enforced, dropping
        # the old copy of a referenced table would fail or cascade. They are checked instead
        # before the commit. The pragma only takes effect outside a transaction.
        raw = conn.connection.driver_connection
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():  # BEGIN IMMEDIATE: the write lock
                yield conn
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").first()
                if broken:
                    raise SchemaError(f"the migration broke a foreign key in table {broken[0]}")
        finally:
            raw.execute("PRAGMA foreign_keys=ON")


Shape = dict[str, tuple[frozenset[str], frozenset[str]]]


def table_shape(conn: Connection, names: set[str] | None = None) -> Shape:
    """Each table's column names and named indexes."""
    inspector = inspect(conn)
    tables = set(inspector.get_table_names()) - {"alembic_version"}
    shape: Shape = {}
    for table in tables if names is None else tables & names:
        columns = frozenset(c["name"] for c in inspector.get_columns(table))
        indexes = frozenset(i["name"] for i in inspector.get_indexes(table) if i["name"])
        shape[table] = (columns, indexes)
    return shape


@cache
def baseline_shape() -> Shape:
    """The baseline revision's tables, as migrating an in-memory database to it builds them."""
    memory = create_engine("sqlite://")
    try:
        with memory.begin() as conn:
            command.upgrade(alembic_config(conn), BASELINE)
            return table_shape(conn)
    finally:
        memory.dispose()


def shape_difference(found: Shape, wanted: Shape) -> str | None:
    """The first way `found` differs from `wanted` on wanted's tables, in words; None if not.
    Indexes `found` has beyond the wanted ones (PostgreSQL lists a unique constraint's) pass."""
    for table, (columns, indexes) in sorted(wanted.items()):
        if table not in found:
            return f"table {table} is missing"
        have_columns, have_indexes = found[table]
        if have_columns != columns:
            odd = sorted(columns ^ have_columns)[0]
            return f"{table}.{odd} is {'missing' if odd in columns else 'not in it'}"
        if not indexes <= have_indexes:
            return f"index {sorted(indexes - have_indexes)[0]} on {table} is missing"
    return None
