"""A newer export of the same board: what changed is updated (as events from the import), what
is new is added, nothing is made twice, and a card that disappeared is reported, not deleted."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from bot import tasks as taskops
from bot.db import reading, transaction
from bot.models import Task
from tests.conftest import london
from tests.importing.helpers import FIXTURES, events, run_import, tasks_by_title

LATER = london("2026-01-07T08:00")


def newer_board(tmp_path):
    board = json.loads((FIXTURES / "trello.json").read_text())
    cards = {c["id"]: c for c in board["cards"]}
    cards["c1"]["name"] = "Year-end accounts for Cobb Ltd"
    board["checklists"][0]["checkItems"][2]["state"] = "complete"  # 3 of 5: 60%
    cards["c2"]["idList"] = "l2"  # out of Blocked, into Doing
    board["cards"] = [c for c in board["cards"] if c["id"] != "c5"]  # gone from the board
    board["cards"].append(
        {
            "id": "c6",
            "shortLink": "Ne6",
            "name": "New engagement for Cobb",
            "closed": False,
            "idList": "l1",
            "idMembers": ["m2"],
            "due": None,
            "shortUrl": "https://trello.com/c/Ne6",
        }
    )
    path = tmp_path / "trello-later.json"
    path.write_text(json.dumps(board))
    return path


async def test_a_second_import_updates_adds_and_duplicates_nothing(engine, slack, tmp_path):
    await run_import(engine, FIXTURES / "trello.json", slack)
    first = tasks_by_title(engine)

    prepared, done = await run_import(engine, newer_board(tmp_path), slack, now=LATER)

    assert (done.created, done.updated) == (1, 2)
    tasks = tasks_by_title(engine)
    accounts = tasks["Year-end accounts for Cobb Ltd"]
    assert accounts.id == first["Year-end accounts for Cobb"].id and accounts.progress == 60
    assert tasks["Chase Cobb for bank statements"].status == "open"
    assert tasks["New engagement for Cobb"].owner_id == "ULEE"
    with reading(engine) as s:
        assert s.scalar(select(func.count()).select_from(Task)) == 4
    history = [(e.actor, e.kind, e.old, e.new) for e in events(engine, accounts.id)]
    assert (
        "import:trello",
        "title",
        "Year-end accounts for Cobb",
        "Year-end accounts for Cobb Ltd",
    ) in history
    assert ("import:trello", "progress", "40", "60") in history
    # The card that left the board is reported, and its task is still there, still open.
    assert prepared.plan.missing == [(first["Payroll run for Cobb"].id, "Payroll run for Cobb")]
    assert tasks["Payroll run for Cobb"].status == "open"


async def test_the_same_export_again_changes_nothing(engine, slack):
    await run_import(engine, FIXTURES / "asana.csv", slack)
    prepared, done = await run_import(engine, FIXTURES / "asana.csv", slack, now=LATER)
    assert (done.created, done.updated, done.unchanged) == (0, 0, 3)
    assert prepared.plan.missing == []


async def test_progress_reported_in_slack_survives_an_export_without_progress(engine, slack):
    await run_import(engine, FIXTURES / "asana.csv", slack)
    filing = tasks_by_title(engine)["Q3 filing for Acme"]
    with transaction(engine) as s:
        taskops.set_progress(s, filing.id, 30, by="UDANA", now=LATER)
    _, done = await run_import(engine, FIXTURES / "asana.csv", slack, now=LATER)
    assert tasks_by_title(engine)["Q3 filing for Acme"].progress == 30
    assert done.updated == 0


async def test_a_card_finished_in_the_tool_closes_its_task(engine, slack, tmp_path):
    await run_import(engine, FIXTURES / "trello.json", slack)
    board = json.loads((FIXTURES / "trello.json").read_text())
    for card in board["cards"]:
        if card["id"] == "c1":
            card["idList"] = "l4"  # moved to Done
    later = tmp_path / "done.json"
    later.write_text(json.dumps(board))
    _, done = await run_import(engine, later, slack, now=LATER)
    task = tasks_by_title(engine)["Year-end accounts for Cobb"]
    assert (task.status, task.progress, done.updated) == ("done", 100, 1)
