"""`python -m bot db upgrade` and `db current` as an operator runs them, and the one line that
start-up (`python -m bot`, `python -m bot sweep`) prints when the schema is behind or ahead."""

from __future__ import annotations

import pytest

from bot.__main__ import main
from bot.db import transaction
from bot.migrations import runner
from bot.models import Task
from tests import test_migrations
from tests.conftest import TOKEN
from tests.test_main import one_line, run_cli
from tests.test_migrations import (
    HEAD,
    NEXT,
    add_task,
    before_migrations,
    opened,
    revision,
    running,
)

UPGRADE = "python -m bot db upgrade"
newer_vigil = test_migrations.newer_vigil  # the fixture: a newer Vigil's revisions


async def test_db_upgrade_builds_a_new_database_and_db_current_says_it_is_at_head(database_url):
    env = {"DATABASE_URL": database_url}
    code, out, _ = await run_cli("db", "current", env=env)
    assert (code, out) == (1, f"no schema yet; this Vigil needs {HEAD}: run {UPGRADE}\n")
    code, out, err = await run_cli("db", "upgrade", env=env)
    assert (code, out) == (0, f"created the schema at revision {HEAD}\n"), err
    code, out, _ = await run_cli("db", "current", env=env)
    assert (code, out) == (0, f"{HEAD} (head)\n")
    code, out, _ = await run_cli("db", "upgrade", env=env)
    assert (code, out) == (0, f"the database is already at revision {HEAD} (head)\n")


async def test_db_upgrade_records_a_database_from_before_migrations_and_keeps_its_tasks(
    tmp_path,
):
    db = f"sqlite:///{tmp_path / 'vigil.db'}"
    with opened(db) as engine:
        tid = before_migrations(engine)
        code, out, _ = await run_cli("db", "current", env={"DATABASE_URL": db})
        assert code == 1 and out.startswith("no revision recorded (tables from before migrations)")
        code, out, err = await run_cli("db", "upgrade", env={"DATABASE_URL": db})
        assert (code, out) == (
            0,
            f"recorded the existing tables as revision 0001, then upgraded to {HEAD}\n",
        ), err
        with transaction(engine) as s:
            assert s.get(Task, tid).title == "Q3 filing"


def test_start_up_refuses_a_database_behind_head_until_db_upgrade(
    database_url, newer_vigil, monkeypatch, capsys
):
    """In this process, as a newer Vigil (one more revision) meeting today's database."""
    with opened(database_url) as engine:
        runner.prepare(engine, upgrade=False)
        add_task(engine)
        monkeypatch.setenv("DATABASE_URL", database_url)
        monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api/")
        with running(newer_vigil):
            assert main(["sweep", "--now", "2026-01-12T09:30"]) == 2
            assert one_line(capsys.readouterr().err) == (
                f"vigil: the database is at revision {HEAD} and this Vigil needs {NEXT}: back it up, "
                f"then run {UPGRADE}"
            )
            assert main(["db", "current"]) == 1
            assert capsys.readouterr().out == f"{HEAD}, behind head {NEXT}: run {UPGRADE}\n"
            assert main(["db", "upgrade"]) == 0
            assert (
                capsys.readouterr().out == f"upgraded the database from revision {HEAD} to {NEXT}\n"
            )
            assert main(["db", "current"]) == 0
            assert capsys.readouterr().out == f"{NEXT} (head)\n"
        assert revision(engine) == NEXT


@pytest.mark.parametrize("command", [["sweep"], [], ["db", "upgrade"]], ids=" ".join)
async def test_a_database_ahead_of_this_vigil_stops_start_up_with_one_line(
    database_url, newer_vigil, command
):
    with opened(database_url) as engine, running(newer_vigil):
        runner.prepare(engine, upgrade=False)
    env = {
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": "secret",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
    }
    code, _, err = await run_cli(*command, env=env)
    assert code == 2
    assert one_line(err) == (
        f"vigil: the database is at revision {NEXT}, which this Vigil does not know (it needs "
        f"{HEAD}): a newer Vigil upgraded it; run that Vigil, or restore the backup taken before "
        "the upgrade"
    )


async def test_db_current_names_a_database_ahead(database_url, newer_vigil):
    with opened(database_url) as engine, running(newer_vigil):
        runner.prepare(engine, upgrade=False)
    code, out, _ = await run_cli("db", "current", env={"DATABASE_URL": database_url})
    assert (code, out) == (1, f"{NEXT}, unknown to this Vigil, which needs {HEAD}\n")


async def test_an_unusable_database_url_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    db = f"sqlite:///{blocker / 'vigil.db'}"  # a folder that is a file
    code, _, err = await run_cli("db", "upgrade", env={"DATABASE_URL": db})
    assert code == 2 and one_line(err).startswith("vigil: DATABASE_URL: cannot open the database")
    code, _, err = await run_cli("db", "current", env={"DATABASE_URL": "mysql://x/y"})
    assert code == 2 and one_line(err).startswith("vigil: DATABASE_URL")
