"""`python -m bot import` from the command line: the dry run prints the plan and stores
nothing; a real run stores it; bad input is one line and exit status 2."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.__main__ import main
from bot.db import create_schema, make_engine, reading
from bot.models import Task
from tests.importing.helpers import FIXTURES


@pytest.fixture
def env(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'vigil.db'}"
    for name in ("SLACK_BOT_TOKEN", "SLACK_API_URL", "MANAGER_USER_IDS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("TEAM_TIMEZONE", "Europe/London")
    monkeypatch.setenv("MANAGER_USER_IDS", "UMARCUS")
    monkeypatch.chdir(tmp_path)  # no .env of the project's own
    return url


def count(url: str) -> int:
    engine = make_engine(url)
    create_schema(engine)
    with reading(engine) as s:
        n = s.scalar(select(func.count()).select_from(Task))
    engine.dispose()
    return n


def test_dry_run_prints_what_it_would_do_and_stores_nothing(env, capsys):
    assert main(["import", str(FIXTURES / "jira.csv"), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "jira: would create 3" in out and "+ Audit prep for Dunn" in out
    assert "1 finished cards skipped" in out and "Dry run: nothing was stored." in out
    assert count(env) == 0


def test_a_real_run_stores_and_a_second_run_adds_nothing(env, capsys):
    assert main(["import", str(FIXTURES / "clickup.csv")]) == 0
    assert "Stored: 3 created" in capsys.readouterr().out
    assert main(["import", str(FIXTURES / "clickup.csv")]) == 0
    assert "Stored: 0 created, 0 updated, 3 unchanged" in capsys.readouterr().out
    assert count(env) == 3


def test_refused_rows_stop_the_import_with_status_1(env, capsys, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("title,progress\nBudget,140\nForecast,10\n")
    assert main(["import", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "line 2: progress “140”" in out and "Nothing was stored" in out
    assert count(env) == 0
    assert main(["import", str(bad), "--skip-bad"]) == 0
    assert count(env) == 1


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["nowhere.csv"], "nowhere.csv: no such file"),
        ([str(FIXTURES / "asana.csv"), "--from", "basecamp"], "--from basecamp: I know"),
        ([str(FIXTURES / "asana.csv"), "--map", "Name"], "--map takes COLUMN=FIELD"),
        ([str(FIXTURES / "asana.csv"), "--map", "Name=colour"], "colour is not a field"),
    ],
)
def test_bad_arguments_are_one_line(env, capsys, args, said):
    assert main(["import", *args]) == 2
    assert said in capsys.readouterr().err
