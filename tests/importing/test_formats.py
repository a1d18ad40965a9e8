"""Each tool's export, made by hand from the tool's own description of it, imports with the
right titles, owners, deadlines, progress, parents and states."""

from __future__ import annotations

import pytest

from bot.models import BLOCKED, OPEN
from tests.conftest import london
from tests.importing.helpers import FIXTURES, eod, events, run_import, tasks_by_title

# title: (owner, deadline, has time, progress, parent title, status)
EXPECTED = {
    "asana.csv": {
        "Q3 filing for Acme": ("UDANA", eod("2026-01-30"), False, 0, None, OPEN),
        "Gather receipts from Acme": (
            "ULEE",
            eod("2026-01-16"),
            False,
            0,
            "Q3 filing for Acme",
            OPEN,
        ),
        "Payroll for Birch": (None, eod("2026-02-06"), False, 0, None, BLOCKED),
    },
    "trello.json": {
        "Year-end accounts for Cobb": ("UDANA", london("2026-01-23T17:00"), True, 40, None, OPEN),
        "Chase Cobb for bank statements": ("ULEE", None, False, 0, None, BLOCKED),
        "Payroll run for Cobb": (None, london("2026-02-06T17:00"), True, 0, None, OPEN),
    },
    "jira.csv": {
        "Audit prep for Dunn": ("UDANA", london("2026-01-30T17:00"), True, 25, None, OPEN),
        "Sample testing for Dunn": (
            "ULEE",
            eod("2026-01-23"),
            False,
            0,
            "Audit prep for Dunn",
            OPEN,
        ),
        "Stock count for Dunn": ("UJOSE", eod("2026-02-06"), False, 0, None, BLOCKED),
    },
    "clickup.csv": {
        "Management accounts for Eames": ("UDANA", eod("2026-01-30"), False, 0, None, OPEN),
        "Reconcile Eames bank account": (
            "ULEE",
            eod("2026-01-23"),
            False,
            0,
            "Management accounts for Eames",
            OPEN,
        ),
        "Board pack for Eames": ("UTOM", None, False, 0, None, BLOCKED),
    },
    "todoist.csv": {
        "Tax return for Farrow": ("UDANA", eod("2026-01-31"), False, 0, None, OPEN),
        "Collect P60 from Farrow": (
            "ULEE",
            eod("2026-01-20"),
            False,
            0,
            "Tax return for Farrow",
            OPEN,
        ),
        # 30/01/2026: day first, as the team is in London
        "Book review meeting with Farrow": (None, eod("2026-01-30"), False, 0, None, OPEN),
    },
    "monday.xlsx": {
        "VAT return for Gale": ("UDANA", eod("2026-01-30"), False, 40, None, OPEN),
        "Check Gale invoices": (
            "ULEE",
            eod("2026-01-23"),
            False,
            0,
            "VAT return for Gale",
            BLOCKED,
        ),
        "Accounts for Ives": (None, None, False, 0, None, OPEN),
    },
    "karbon.csv": {
        "Annual accounts for Jones": ("UDANA", eod("2026-02-27"), False, 0, None, OPEN),
        "Tax planning for Kerr": ("ULEE", eod("2026-02-13"), False, 0, None, BLOCKED),
    },
    "sheet.csv": {
        "Budget for Moss": ("UDANA", london("2026-01-30T17:00"), True, 40, None, OPEN),
        "Cash-flow forecast for Moss": (
            "ULEE",
            eod("2026-01-16"),
            False,
            10,
            "Budget for Moss",
            OPEN,
        ),
        "Register Moss for VAT": ("UMARCUS", None, False, 0, None, OPEN),
    },
}
UNMATCHED = {
    "asana.csv": {"pat@elsewhere.example": 1},
    "trello.json": {"Pat Quinn": 1},
    "monday.xlsx": {"Pat Quinn": 1},
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_each_tools_export_imports_as_the_tool_shows_it(name, engine, slack):
    prepared, done = await run_import(engine, FIXTURES / name, slack)

    assert prepared.plan.refused == []
    assert prepared.plan.unmatched == UNMATCHED.get(name, {})
    tasks = tasks_by_title(engine)
    assert set(tasks) == set(EXPECTED[name])  # finished and archived cards stayed out
    by_id = {t.id: t for t in tasks.values()}
    for title, (owner, due, has_time, progress, parent, status) in EXPECTED[name].items():
        task = tasks[title]
        parent_title = by_id[task.parent_id].title if task.parent_id else None
        assert (task.owner_id, task.due_at, task.due_has_time, task.progress) == (
            owner,
            due,
            has_time,
            progress,
        ), title
        assert (parent_title, task.status) == (parent, status), title
        assert task.creator_id == "UMARCUS"
        assert task.source_key.startswith(f"import:{prepared.plan.tool}:")
        assert {e.actor for e in events(engine, task.id)} == {f"import:{prepared.plan.tool}"}


async def test_a_trello_card_keeps_its_description_and_links_back(engine, slack):
    await run_import(engine, FIXTURES / "trello.json", slack)
    card = tasks_by_title(engine)["Year-end accounts for Cobb"]
    assert card.description == "Draft, review, sign"
    assert card.link == "https://trello.com/c/Yr1"


async def test_finished_cards_come_in_closed_with_include_done(engine, slack):
    _, done = await run_import(engine, FIXTURES / "jira.csv", slack, include_done=True)
    memo = tasks_by_title(engine)["Close-out memo for Dunn"]
    assert (memo.status, memo.progress, done.created) == ("done", 100, 4)


async def test_without_slack_only_ids_are_owners_and_the_plan_says_why(engine, tmp_path):
    sheet = tmp_path / "tasks.csv"
    sheet.write_text("title,owner\nFile for Moss,<@UDANA|dana>\nFile for Nash,Lee\n")
    prepared, _ = await run_import(engine, sheet)
    tasks = tasks_by_title(engine)
    assert tasks["File for Moss"].owner_id == "UDANA"
    assert tasks["File for Nash"].owner_id is None
    assert prepared.plan.unmatched == {"Lee": 1}
    assert any("SLACK_BOT_TOKEN" in n for n in prepared.plan.notes)


async def test_strict_refuses_the_rows_of_people_slack_does_not_know(engine, slack):
    prepared, done = await run_import(engine, FIXTURES / "trello.json", slack, strict=True)
    assert [r.where for r in prepared.plan.refused] == ["card Pa5 “Payroll run for Cobb”"]
    assert done is None and tasks_by_title(engine) == {}
