"""`/task list`, `/task team` and App Home with many tasks: the riskiest first across all of
them, every part within Slack's limits, and each says truly how many more there are and how
to see them."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from bot import tasks as taskops
from bot.db import transaction
from bot.models import Case, Finding
from bot.standin.wire import SlackWire, settle
from tests.blockkit import block_errors, view_errors
from tests.conftest import MONDAY, london

HOSTILE = "&<>" * 66  # 198 characters; 858 once escaped
BROKEN_ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")


def make_tasks(w: SlackWire, n: int, **fields) -> None:
    with transaction(w.ctx.engine) as s:
        for i in range(1, n + 1):
            taskops.create_task(
                s,
                title=fields.get("title", f"Task {i}"),
                creator="UMARCUS",
                now=MONDAY,
                owner=fields.get("owner", "UDANA"),
                due_at=fields.get("due", london("2026-03-31T00:00")),
            )


def texts(blocks: list[dict]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


async def home_of(w: SlackWire, user: str) -> dict:
    calls = lambda: [c for c in w.standin.calls_to("views.publish") if c.params["user_id"] == user]  # noqa: E731
    seen = len(calls())
    await w.event({"type": "app_home_opened", "user": user, "tab": "home"})
    await settle(lambda: len(calls()) > seen)
    return calls()[-1].params["view"]


async def test_the_riskiest_of_251_tasks_leads_the_list_and_home_and_the_rest_is_reachable(
    wire, standin
):
    make_tasks(wire, 250)
    with transaction(wire.ctx.engine) as s:  # #251, the newest, is the one due tomorrow
        taskops.create_task(
            s,
            title="Payroll",
            creator="UMARCUS",
            owner="UDANA",
            now=MONDAY,
            due_at=london("2026-01-14T00:00"),
        )
    await wire.sweep(london("2026-01-14T10:00"))  # #251 is overdue now

    first = await wire.command("list", user="UDANA")
    assert first["text"] == "Your 251 open tasks, riskiest first · page 1 of 17"
    assert re.findall(r"\*#(\d+) ", texts(first["blocks"]))[:2] == ["251", "1"]
    assert "Tasks 1–15 of 251. Next: `/task list 2`." in texts(first["blocks"])
    assert not block_errors(first["blocks"])

    last = await wire.command("list 17", user="UDANA")
    shown = re.findall(r"\*#(\d+) ", texts(last["blocks"]))
    assert shown == [str(n) for n in range(240, 251)]  # the 11 least risky, in order
    assert "Tasks 241–251 of 251. That is the last page" in texts(last["blocks"])
    beyond = await wire.command("list 18", user="UDANA")
    assert "`/task list 17` is the last" in texts(beyond["blocks"])

    home = await home_of(wire, "UDANA")
    assert not view_errors(home)
    numbers = re.findall(r"\*#(\d+) ", texts(home["blocks"]))
    assert numbers[0] == "251" and len(numbers) == 20
    assert "Your 20 riskiest of 251 open tasks. `/task list` shows them all, 15 to a page" in (
        texts(home["blocks"])
    )


def open_cases(w: SlackWire, tasks: int) -> None:
    """An open case on each of `tasks` tasks, with two open findings, as a sweep opens them."""
    with transaction(w.ctx.engine) as s:
        for task_id in range(1, tasks + 1):
            case = Case(task_id=task_id, opened_at=MONDAY, recipient="UMARCUS")
            s.add(case)
            s.flush()
            for rule in ("missing_owner", "missing_deadline"):
                s.add(
                    Finding(task_id=task_id, case_id=case.id, rule=rule, opened_at=MONDAY, facts={})
                )


def lines_of(blocks: list[dict]) -> list[str]:
    return [
        line
        for b in blocks
        if b["type"] == "section"
        for line in b["text"]["text"].split("\n")
        if line.startswith("•")
    ]


async def test_250_cases_on_titles_full_of_ampersands_are_all_shown_whole(wire, standin):
    make_tasks(wire, 250, title=HOSTILE, owner=None, due=None)
    open_cases(wire, 250)
    wire.clock.now = MONDAY + timedelta(hours=1)

    seen: list[str] = []
    for page in range(1, 6):
        reply = await wire.command(f"team {page}", user="UMARCUS")
        blocks = reply["blocks"]
        assert not block_errors(blocks) and len(blocks) <= 50
        for b in blocks:
            assert len(b.get("text", {}).get("text", "")) <= 3000
            assert not BROKEN_ENTITY.search(b.get("text", {}).get("text", ""))
        lines = lines_of(blocks)
        assert lines and all("&amp;&lt;&gt;" * 66 + "*: no" in line for line in lines)
        seen += lines
        if page < 5:
            assert f"…and {250 - len(seen)} more: `/task team {page + 1}`." in texts(blocks)
        else:
            assert "more:" not in texts(blocks)
    assert len(seen) == len(set(seen)) == 250  # every case, once, across the pages
    assert all("*: no owner, no deadline, owner" in line for line in seen)  # one line each

    home = await home_of(wire, "UMARCUS")
    assert not view_errors(home) and len(home["blocks"]) <= 100
    shown = lines_of(home["blocks"])
    assert len(shown) == 50 and not BROKEN_ENTITY.search(texts(home["blocks"]))
    assert "…and 200 more: `/task team 2`." in texts(home["blocks"])


async def test_the_forecast_is_the_pace_the_reports_show_whatever_the_silence_after(wire):
    # Created Monday 09:00, due Friday. 10% by Tuesday, 20% by Wednesday 09:00: 20 points in
    # 18 working hours, so the other 80 take 72 more: 8 working days, the Friday after.
    await wire.command("add Payroll <@UDANA|dana> due 2026-01-16", user="UMARCUS")
    wire.clock.now = london("2026-01-13T09:00")
    await wire.command("progress 1 10", user="UDANA")
    wire.clock.now = london("2026-01-14T09:00")
    await wire.command("progress 1 20", user="UDANA")

    card = texts((await wire.command("1", user="UDANA"))["blocks"])
    assert "forecast: finishes Fri 23 Jan, 5 working days late" in card

    # A day on with no report: progress is unknown, not low, so the pace is the same (the
    # silence is the stall rule's to judge).
    wire.clock.now = london("2026-01-15T09:00")
    card = texts((await wire.command("1", user="UDANA"))["blocks"])
    assert "forecast: finishes Fri 23 Jan, 5 working days late" in card
