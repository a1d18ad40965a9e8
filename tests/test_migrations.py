"""Schema migrations: an empty database migrated to head has exactly the schema the models
declare; one made by `create_all` before migrations is recorded at the baseline with its data;
one behind head is refused at start-up until `db upgrade`; one ahead is refused; replicas
starting together on one empty database all start. Each runs on SQLite, and on PostgreSQL
where VIGIL_TEST_POSTGRES_URL names one (ids ending in `postgres`)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

from bot import tasks as taskops
from bot.app.factory import build_monitor
from bot.config import Settings
from bot.db import create_schema, make_engine, prepare_schema, transaction
from bot.importing import previews
from bot.migrations import runner
from bot.models import Task
from bot.monitor.gateway import make_client
from tests.conftest import TOKEN, postgres_database

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

# A throwaway next revision, as the lead's next one will look: a column added to a table that
# other tables reference, and a column type changed, which SQLite can only do by rebuilding it.
HEAD = runner.head()  # today's Vigil
NEXT = "9001"  # the throwaway's
THROWAWAY = f"""
import sqlalchemy as sa
from alembic import op

revision = "{NEXT}"
down_revision = "{HEAD}"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("task") as batch:
        batch.add_column(sa.Column("estimate_days", sa.Integer(), nullable=True))
        batch.alter_column("title", type_=sa.Text(), existing_nullable=False)


def downgrade():
    with op.batch_alter_table("task") as batch:
        batch.drop_column("estimate_days")
"""


@contextmanager
def another_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second empty database of the same kind as `database_url`."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'other.db'}"
        return
    with postgres_database() as url:
        yield url


@contextmanager
def opened(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def vigil_with(tmp_path: Path, next_revision: str) -> Path:
    """The script directory of a newer Vigil: today's revisions and the given next one."""
    location = tmp_path / "newer-migrations"
    shutil.copytree(runner.LOCATION, location, ignore=shutil.ignore_patterns("__pycache__"))
    (location / "versions" / f"{NEXT}_throwaway.py").write_text(next_revision)
    return location


@pytest.fixture
def newer_vigil(tmp_path) -> Path:
    return vigil_with(tmp_path, THROWAWAY)


@contextmanager
def running(location: Path) -> Iterator[None]:
    """This process as the Vigil whose revisions are at `location`."""
    old, runner.LOCATION = runner.LOCATION, location
    try:
        yield
    finally:
        runner.LOCATION = old


def plain(value: Any) -> Any:
    """Reflected values made comparable: a where clause or a type as its SQL text."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value if value is None or isinstance(value, bool | int | str) else str(value)


def schema(engine: Engine) -> dict[str, Any]:
    """Every table as the database describes it: columns, keys, unique constraints, indexes."""
    inspector = inspect(engine)
    tables = sorted(set(inspector.get_table_names()) - {"alembic_version"})
    by_name = lambda items: sorted(plain(items), key=repr)  # noqa: E731

    # Column order and a foreign key's name are not the schema's meaning: a revision that adds
    # a column puts it last, and create_all leaves foreign keys unnamed.
    def unnamed(keys: list[dict]) -> list[dict]:
        return [{k: v for k, v in key.items() if k != "name"} for key in keys]

    return {
        table: {
            "columns": sorted(plain(inspector.get_columns(table)), key=lambda c: c["name"]),
            "primary key": plain(inspector.get_pk_constraint(table)),
            "foreign keys": by_name(unnamed(inspector.get_foreign_keys(table))),
            "unique": by_name(inspector.get_unique_constraints(table)),
            "indexes": by_name(inspector.get_indexes(table)),
        }
        for table in tables
    }


def differences(engine: Engine) -> list[Any]:
    """What autogenerate would write to bring the database to the models: nothing, if equal."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)


def revision(engine: Engine) -> str | None:
    return runner.current(engine).revision


def before_migrations(engine: Engine) -> int:
    """A database as Vigil made it before migrations: the baseline's tables by `create_all` of
    that day, no revision recorded, a task at 40% in it. Returns the task's id."""
    with engine.begin() as conn:
        command.upgrade(runner.alembic_config(conn), runner.BASELINE)
        conn.exec_driver_sql("DROP TABLE alembic_version")
        conn.execute(
            text(
                "INSERT INTO task (title, owner_id, creator_id, due_has_time, progress, status,"
                " created_at, updated_at, activity_at) VALUES ('Q3 filing', 'UDANA', 'UMARCUS',"
                " false, 40, 'open', :now, :now, :now)"
            ),
            {"now": NOW.replace(tzinfo=None)},
        )
        return conn.execute(text("SELECT max(id) FROM task")).scalar()


def add_task(engine: Engine, title: str = "Q3 filing") -> int:
    with transaction(engine) as s:
        task = taskops.create_task(s, title=title, creator="UMARCUS", owner="UDANA", now=NOW)
        taskops.set_progress(s, task.id, 40, by="UDANA", now=NOW)
        return task.id


def start(url: str) -> None:
    """What `python -m bot` and `python -m bot sweep` do with the database at start-up."""
    monitor = build_monitor(Settings(database_url=url), make_client(TOKEN, "http://127.0.0.1:9/"))
    monitor.engine.dispose()


def test_migrating_an_empty_database_builds_exactly_what_create_all_builds(database_url, tmp_path):
    with opened(database_url) as migrated:
        start(database_url)
        assert revision(migrated) == runner.head()
        assert differences(migrated) == []
        with another_database(database_url, tmp_path) as other, opened(other) as made:
            SQLModel.metadata.create_all(made)
            assert schema(migrated) == schema(made)
            assert "uq_finding_open" in str(schema(migrated)["finding"]["indexes"])


def test_the_quick_schema_for_tests_and_the_replay_is_the_migrated_one(database_url, tmp_path):
    with opened(database_url) as quick:
        create_schema(quick)
        assert revision(quick) == runner.head()
        with another_database(database_url, tmp_path) as other, opened(other) as migrated:
            prepare_schema(migrated)
            assert schema(quick) == schema(migrated)
        create_schema(quick)  # again: a database at head is left as it is
        assert revision(quick) == runner.head()


def test_a_database_from_before_migrations_is_recorded_at_the_baseline_not_rebuilt(database_url):
    with opened(database_url) as engine:
        tid = before_migrations(engine)
        change = runner.prepare(engine, upgrade=True)
        assert change.summary() == (
            f"recorded the existing tables as revision 0001, then upgraded to {runner.head()}"
        )
        assert revision(engine) == runner.head()
        with transaction(engine) as s:
            assert s.get(Task, tid).progress == 40
        assert differences(engine) == []


def test_a_database_from_before_migrations_meeting_a_newer_vigil_waits_for_db_upgrade(
    database_url, newer_vigil
):
    with opened(database_url) as engine, running(newer_vigil):
        tid = before_migrations(engine)
        with pytest.raises(runner.SchemaError, match=f"at revision 0001 and this Vigil needs {NEXT}"):
            start(database_url)
        assert revision(engine) is None  # refused as a whole: not even recorded
        change = runner.prepare(engine, upgrade=True)
        assert change.summary() == (
            f"recorded the existing tables as revision 0001, then upgraded to {NEXT}"
        )
        assert revision(engine) == NEXT
        with transaction(engine) as s:
            assert s.get(Task, tid).progress == 40


def test_tables_that_are_not_the_baseline_and_have_no_revision_are_refused(database_url):
    with opened(database_url) as engine:
        before_migrations(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE slackuser")
        with pytest.raises(runner.SchemaError) as refused:
            start(database_url)
        assert "table slackuser is missing" in str(refused.value)
        assert revision(engine) is None  # nothing recorded, nothing built


def test_a_database_behind_head_is_refused_until_upgraded_and_keeps_its_data(
    database_url, newer_vigil
):
    with opened(database_url) as engine:
        start(database_url)  # today's Vigil: HEAD
        tid = add_task(engine)
        with transaction(engine) as s:
            taskops.set_progress(s, tid, 60, by="UDANA", now=NOW)
        with running(newer_vigil):
            with pytest.raises(runner.SchemaError) as refused:
                start(database_url)
            assert str(refused.value) == (
                f"the database is at revision {HEAD} and this Vigil needs {NEXT}: back it up, "
                "then run python -m bot db upgrade"
            )
            assert revision(engine) == HEAD
            change = runner.prepare(engine, upgrade=True)
            assert change.summary() == f"upgraded the database from revision {HEAD} to {NEXT}"
            start(database_url)
            assert revision(engine) == NEXT
        columns = {c["name"] for c in inspect(engine).get_columns("task")}
        assert "estimate_days" in columns
        with engine.connect() as conn:
            events = conn.execute(text("SELECT count(*) FROM event WHERE task_id = :t"), {"t": tid})
            assert events.scalar() == 3  # created, progress 40, progress 60: the rebuild kept them
            assert conn.execute(text("SELECT title FROM task")).scalar() == "Q3 filing"


def test_an_upgrade_that_fails_part_way_leaves_the_database_as_it_was(database_url, tmp_path):
    broken = THROWAWAY.replace(
        "existing_nullable=False)", 'existing_nullable=False)\n    op.execute("SELECT nonsense")'
    )
    assert "nonsense" in broken
    with opened(database_url) as engine:
        start(database_url)
        add_task(engine)
        with running(vigil_with(tmp_path, broken)), pytest.raises(DBAPIError):
            runner.prepare(engine, upgrade=True)
        assert revision(engine) == HEAD
        assert "estimate_days" not in {c["name"] for c in inspect(engine).get_columns("task")}
        assert schema(engine)["task"]["columns"][1]["type"] == "VARCHAR"  # the title, untouched
        with engine.connect() as conn:
            assert conn.execute(text("SELECT title FROM task")).scalar() == "Q3 filing"


def test_a_database_ahead_of_this_vigil_is_refused(database_url, newer_vigil):
    with opened(database_url) as engine:
        with running(newer_vigil):
            start(database_url)
            runner.prepare(engine, upgrade=True)
        assert revision(engine) == NEXT
        for upgrade in (False, True):
            with pytest.raises(runner.SchemaError) as refused:
                runner.prepare(engine, upgrade=upgrade)
            assert str(refused.value).startswith(
                f"the database is at revision {NEXT}, which this Vigil does not know "
                f"(it needs {HEAD})"
            )


# One replica's start-up check in a process of its own: it says when it is ready, and migrates
# when told to go, so the three begin together.
REPLICA = """
import sys
from bot.db import make_engine, prepare_schema
engine = make_engine(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
prepare_schema(engine)
"""


def test_replicas_starting_together_on_an_empty_database_all_start(database_url):
    """Without the lock, on PostgreSQL they often fail with a duplicate pg_type row: each
    replica creates the same tables at once."""
    replicas = [
        subprocess.Popen(
            [sys.executable, "-c", REPLICA, database_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for p in replicas:
        assert p.stdout.readline() == "ready\n"
    for p in replicas:
        p.stdin.write("go\n")
        p.stdin.flush()
    errors = [p.communicate(timeout=120)[1].strip() for p in replicas]
    named = [
        next((ln for ln in e.splitlines() if ln.startswith("sqlalchemy.exc")), e) for e in errors
    ]
    assert [p.returncode for p in replicas] == [0, 0, 0], named
    with opened(database_url) as engine:
        assert revision(engine) == runner.head()
        assert differences(engine) == []


def test_a_running_firm_upgraded_to_cases_keeps_its_alerts_and_sends_nothing_again(database_url):
    """0002: a task's open findings become one open case with their ladder's state, and the
    messages already sent show it (so what changes from now edits them); nothing is re-sent."""
    with opened(database_url) as engine:
        tid = before_migrations(engine)
        with engine.begin() as conn:
            runner.adopt(conn)
            at = NOW.replace(tzinfo=None)
            for rule in ("stalled", "overdue"):
                conn.execute(
                    text(
                        "INSERT INTO finding (task_id, rule, status, opened_at, facts, recipient,"
                        " dm_at, escalated_at, reminders) VALUES (:t, :r, 'open', :at, '{}',"
                        " 'UDANA', :at, :at, 1)"
                    ),
                    {"t": tid, "r": rule, "at": at},
                )
            fid = conn.execute(text("SELECT min(id) FROM finding")).scalar()
            for kind, to in (("dm", "UDANA"), ("escalation", "managers")):
                conn.execute(
                    text(
                        'INSERT INTO notification (finding_id, task_id, kind, "to", status,'
                        " decided_at, not_before, attempts, sent_at, channel, ts) VALUES (:f, :t,"
                        " :k, :to, 'sent', :at, :at, 1, :at, 'C1', :ts)"
                    ),
                    {"f": fid, "t": tid, "k": kind, "to": to, "at": at, "ts": f"1.{kind}"},
                )
        runner.prepare(engine, upgrade=True)
        with engine.connect() as conn:
            cases = conn.execute(text('SELECT id, task_id, status, reminders FROM "case"')).all()
            assert [(c.task_id, c.status, c.reminders) for c in cases] == [(tid, "open", 1)]
            assert (
                conn.execute(
                    text("SELECT count(*) FROM finding WHERE case_id = :c"), {"c": cases[0].id}
                ).scalar()
                == 2
            )
            shown = conn.execute(
                text("SELECT count(*) FROM case_message WHERE case_id = :c"), {"c": cases[0].id}
            ).scalar()
            assert shown == 2  # the DM and the managers' message show the case
            pending = conn.execute(
                text("SELECT count(*) FROM notification WHERE status = 'pending'")
            )
            assert pending.scalar() == 0


def test_a_firm_at_0002_upgrades_to_import_previews_and_post_attempts_and_keeps_its_tasks(
    database_url,
):
    """0003: `import_preview`, where an export uploaded in Slack waits for its button; 0004:
    `notification.sending_at`, a post's attempt recorded before Slack is asked."""
    with opened(database_url) as engine:
        with engine.begin() as conn:
            command.upgrade(runner.alembic_config(conn), "0002")
        tid = add_task(engine)
        with pytest.raises(runner.SchemaError, match=f"at revision 0002 and this Vigil needs {HEAD}"):
            start(database_url)
        change = runner.prepare(engine, upgrade=True)
        assert change.summary() == f"upgraded the database from revision 0002 to {HEAD}"
        assert differences(engine) == []
        assert "sending_at" in {c["name"] for c in inspect(engine).get_columns("notification")}
        with transaction(engine) as s:
            assert s.get(Task, tid).progress == 40
        key = previews.keep(engine, user="UMARCUS", name="a.csv", content=b"title\nA\n", now=NOW)
        assert previews.take(engine, key, user="UMARCUS", now=NOW) == ("a.csv", b"title\nA\n")


def test_a_firm_at_0004_upgrades_and_its_dms_handed_over_stay_handed_over(database_url):
    """0005: `case_message.handed_to`. A DM already handed over (its reader is not whom the
    case is with) is marked so, so the case coming back to its reader leaves it alone; the new
    owner's DM and the managers' message still follow the case."""
    with opened(database_url) as engine:
        with engine.begin() as conn:
            command.upgrade(runner.alembic_config(conn), "0004")
        tid = add_task(engine)
        at = NOW.replace(tzinfo=None)
        with engine.begin() as conn:
            conn.execute(
                text(
                    'INSERT INTO "case" (task_id, status, opened_at, back, recipient, reminders,'
                    " notes) VALUES (:t, 'open', :at, 0, 'UTOM', 0, '[]')"
                ),
                {"t": tid, "at": at},
            )
            case_id = conn.execute(text('SELECT id FROM "case"')).scalar()
            for kind, to in (("dm", "UDANA"), ("dm", "UTOM"), ("digest", "managers")):
                note = conn.execute(
                    text(
                        'INSERT INTO notification (task_id, kind, "to", status, decided_at,'
                        " not_before, attempts, sent_at, channel, ts) VALUES (:t, :k, :to,"
                        " 'sent', :at, :at, 1, :at, 'C1', :ts) RETURNING id"
                    ),
                    {"t": tid, "k": kind, "to": to, "at": at, "ts": f"1.{to}"},
                ).scalar()
                conn.execute(
                    text(
                        "INSERT INTO case_message (notification_id, case_id, position)"
                        " VALUES (:n, :c, 1)"
                    ),
                    {"n": note, "c": case_id},
                )
        runner.prepare(engine, upgrade=True)
        assert differences(engine) == []
        with engine.connect() as conn:
            handed = conn.execute(
                text(
                    'SELECT n."to", m.handed_to FROM case_message m JOIN notification n'
                    " ON n.id = m.notification_id ORDER BY n.id"
                )
            ).all()
        assert [tuple(r) for r in handed] == [("UDANA", "UTOM"), ("UTOM", None), ("managers", None)]
