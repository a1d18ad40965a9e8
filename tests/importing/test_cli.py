"""`python -m bot import` from the command line: the dry run prints the plan and stores
nothing; a real run stores it; bad input is one line and exit status 2; a terminal sees a
progress bar; with a Slack token, owners are found in Slack."""

from __future__ import annotations

import asyncio
import io
import os
import sys

import pytest
from sqlalchemy import func, select

from bot.__main__ import main
from bot.db import create_schema, make_engine, reading
from bot.models import Task
from tests.conftest import TOKEN
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


class Terminal(io.StringIO):
    """stderr as a terminal: the progress bar draws only there."""

    def isatty(self) -> bool:
        return True

    def frames(self) -> list[str]:
        """Each state of the line the bar draws on, as the user sees it after each redraw:
        a carriage return goes back to the start, and what follows writes over the line."""
        line, seen = "", []
        for part in self.getvalue().split("\r")[1:]:
            line = part + line[len(part) :]
            seen.append(line.rstrip())
        return seen


def big_export(tmp_path, rows: int):
    path = tmp_path / "big.csv"
    with path.open("w") as f:
        f.write("title,deadline,progress\n")
        f.writelines(f"Task {n},2026-03-01,10\n" for n in range(rows))
    return path


def test_a_terminal_sees_a_progress_bar_that_fills_and_is_wiped(env, capsys, monkeypatch, tmp_path):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)

    assert main(["import", str(big_export(tmp_path, 1200))]) == 0

    frames = [f for f in terminal.frames() if f]
    assert frames[:2] == ["checking  500 rows", "checking  1,000 rows"]
    assert "planning  1,000 rows" in frames
    storing = [f for f in frames if f.startswith("storing")]
    assert storing[0] == "storing   " + "▰" * 12 + "▱" * 18 + " 500/1,200"
    assert storing[-1] == "storing   " + "▰" * 30 + " 1,200/1,200"
    assert terminal.frames()[-1] == ""  # the bar is gone, the line left clean
    assert "Stored: 1200 created" in capsys.readouterr().out
    assert count(env) == 1200


def test_no_bar_when_stderr_is_not_a_terminal(env, capsys, tmp_path):
    assert main(["import", str(big_export(tmp_path, 600))]) == 0
    assert capsys.readouterr().err == ""


async def test_with_a_slack_token_owners_are_found_in_slack_over_the_wire(standin, tmp_path):
    """The real command line, in a process of its own, talking to the stand-in as to Slack:
    an email through users.lookupByEmail, names through users.list."""
    standin.set_email("UDANA", "dana@firm.example")
    url = f"sqlite:///{tmp_path / 'vigil.db'}"
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MANAGER_"))}
    environ |= {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_API_URL": standin.url,
        "DATABASE_URL": url,
        "TEAM_TIMEZONE": "Europe/London",
        "MANAGER_USER_IDS": "UMARCUS",
    }
    command = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "import",
        str(FIXTURES / "sheet.csv"),
        cwd=tmp_path,  # no .env of the project's own
        env=environ,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(command.communicate(), timeout=120)

    assert command.returncode == 0, err.decode()
    assert "Stored: 3 created" in out.decode() and "Not found in Slack" not in out.decode()
    assert [c.params["email"] for c in standin.calls_to("users.lookupByEmail")] == [
        "dana@firm.example"
    ]
    assert standin.calls_to("users.list")
    engine = make_engine(url)
    with reading(engine) as s:
        owners = {t.title: t.owner_id for t in s.execute(select(Task)).scalars()}
    engine.dispose()
    assert owners == {
        "Budget for Moss": "UDANA",
        "Cash-flow forecast for Moss": "ULEE",
        "Register Moss for VAT": "UMARCUS",
    }
