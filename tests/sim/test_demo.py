"""`python -m bot demo` tells the story product.md promises, through the real monitor: who was
told what, and when, read from the replay's transcript of the demo firm
(bot/sim/scenarios/demo.yaml)."""

import asyncio
from datetime import date

import pytest

from bot.sim.demo import demo_path, render_conversation
from bot.sim.replay import calendar_for, replay
from bot.sim.scenario.load import load_scenario
from bot.standin import SlackStandIn
from tests.blockkit import block_errors
from tests.conftest import london
from tests.slackio import run_cli

MANAGERS = "CMANAGERS"  # the scenario's team channel
# The demo's work that goes to plan (the last block of tasks in demo.yaml, and Birch's
# year-end accounts, whose subtask is the one in conflict).
TO_PLAN = (
    "birch",
    "invoices",
    "expenses",
    "tax-hale",
    "tax-ng",
    "payroll-setup",
    "website",
    "ledger",
    "training",
    "fees",
    "backup",
    "pension",
    "cobalt-call",
)


@pytest.fixture(scope="module")
def demo():
    """One replay of the demo, against a stand-in that checks every message's Block Kit."""
    standin = SlackStandIn(token="xoxb-standin", block_validator=block_errors)
    result = asyncio.run(replay(load_scenario(demo_path()), standin=standin))
    return result, standin


def about(result, task: str, rule: str | None = None):
    """The messages that tell someone about `task` (for `rule`): new ones only, an edit is not
    someone told; a batched DM or a digest names several tasks."""
    return [
        m
        for m in result.messages
        if task in m.tasks and not m.edit and (rule is None or rule in m.rules)
    ]


def told(messages, kind: str):
    """(who, when) of the first message of `kind`."""
    first = next(m for m in messages if m.kind == kind)
    return first.to, first.at


def cleared(result, task: str, to: str):
    """When the message to `to` about `task` was edited to say it no longer needs attention."""
    return next(
        m.at
        for m in result.messages
        if task in m.tasks and m.to == to and m.edit and m.kind == "resolution"
    )


def test_the_filing_is_caught_on_the_4th_working_day_and_the_managers_hear_a_day_later(demo):
    result, _ = demo
    scenario = result.scenario
    filing = next(t for t in scenario.tasks if t.key == "filing")
    team = calendar_for(scenario)
    deadline = team.due_day(filing.due)
    assert (filing.owner, deadline) == ("UDANA", date(2026, 1, 20))
    stall = about(result, "filing", "stalled")
    # Dana reported 40% on Tuesday 6 January, then nothing: Wednesday, Thursday, Friday make
    # three silent working days, and Monday 12 at the start of the working day is the 4th.
    # Nothing at all is said about the filing before then.
    assert told(stall, "dm") == ("UDANA", london("2026-01-12T09:00"))
    assert min(m.at for m in about(result, "filing")) == london("2026-01-12T09:00")
    # The managers a working day later, in Tuesday's digest: a week (five working days) before
    # the deadline, Tuesday 20.
    assert told(stall, "digest") == (MANAGERS, london("2026-01-13T09:30"))
    assert team.working_days_between(date(2026, 1, 13), deadline) == 5
    # Nobody hears of it for any other reason: at 40% after a day, its pace was never behind.
    assert {r for m in about(result, "filing") for r in m.rules} == {"stalled"}
    # Her progress on Wednesday 14 at 10:30 clears it: her DM says so at once.
    assert cleared(result, "filing", "UDANA") == london("2026-01-14T10:30")


def test_the_overdue_payroll_reaches_its_owner_and_the_managers_at_once(demo):
    result, _ = demo
    overdue = about(result, "payroll", "overdue")
    # Due Friday 9; the weekend passes; Priya hears at the start of Monday's working day and
    # the managers in that morning's digest.
    assert told(overdue, "dm") == ("UPRIYA", london("2026-01-12T09:00"))
    assert told(overdue, "digest") == (MANAGERS, london("2026-01-12T09:30"))
    assert cleared(result, "payroll", "UPRIYA") == london("2026-01-12T11:30")  # marked done


def test_missing_owners_deadlines_and_a_blocked_task_go_where_they_can_be_fixed(demo):
    result, _ = demo
    # Nobody owns the insurance: its creator hears, then the managers in the next digest; Tom's
    # assignment clears it.
    unowned = about(result, "insurance", "missing_owner")
    assert told(unowned, "dm") == ("UMARCUS", london("2026-01-05T09:30"))
    assert told(unowned, "digest") == (MANAGERS, london("2026-01-06T09:30"))
    assert cleared(result, "insurance", "UMARCUS") == london("2026-01-06T14:00")
    # Sara sets the checklist's deadline an hour after her DM: the managers never hear of it.
    undated = [m for m in result.messages if "checklist" in m.tasks]
    assert {(m.kind, m.to) for m in undated} == {("dm", "USARA"), ("resolution", "USARA")}
    # Lee asks for help: the managers hear at once in a message of its own, and Lee is not told
    # what he said himself; its resolution is one reply in that message's thread.
    blocked = [m for m in about(result, "vat") if m.kind in ("dm", "escalation")]
    assert [(m.kind, m.to, m.at, m.thread) for m in blocked] == [
        ("escalation", MANAGERS, london("2026-01-08T15:00"), False)
    ]
    replies = [m for m in result.messages if "vat" in m.tasks and m.thread]
    assert [(m.kind, m.at) for m in replies] == [("resolution", london("2026-01-12T16:00"))]


@pytest.mark.parametrize("task", TO_PLAN)
def test_work_that_goes_to_plan_gets_no_message_at_all(demo, task):
    result, _ = demo
    assert task in {t.key for t in result.scenario.tasks}
    assert [m.text for m in result.messages if task in m.tasks] == []


def test_the_demo_replays_every_update_without_a_warning(demo):
    result, _ = demo
    assert result.warnings == [] and result.refused == []


def test_people_are_told_in_their_own_working_hours(demo):
    result, _ = demo
    scenario = result.scenario
    team = calendar_for(scenario)
    zones = {p.id: p.tz for p in scenario.people}
    for m in result.messages:
        if m.kind in ("dm", "reminder") and not m.edit:
            assert team.in_zone(zones[m.to]).is_working_time(m.at), m
        elif m.kind in ("escalation", "digest") and not m.edit:
            assert team.is_working_time(m.at), m


def test_nobody_gets_more_than_one_message_per_batch_or_three_a_day(demo):
    result, _ = demo
    team = calendar_for(result.scenario)
    per_day: dict = {}
    for m in result.messages:
        if m.kind in ("dm", "reminder") and not m.edit:
            key = (m.to, team.local_date(m.at))
            per_day[key] = per_day.get(key, 0) + 1
            assert sum(1 for o in result.messages if o.to == m.to and o.at == m.at and not o.edit) == 1
    assert max(per_day.values()) <= 3
    digests = [team.local_date(m.at) for m in result.messages if m.kind == "digest" and not m.edit]
    assert len(digests) == len(set(digests))  # one digest a day at most


def test_the_conversation_marks_edits_and_thread_replies(demo):
    result, _ = demo
    lines = render_conversation(result).splitlines()
    sara = [line for line in lines if "onboarding checklist" in line]
    assert sara[0].startswith("  10:00  DM → Sara")
    assert sara[1] == (
        "  11:00    ✎ edited (Sara)            #10 Update the client onboarding checklist no "
        "longer needs attention: a deadline was set."
    )
    assert any("↳ in the thread (#managers)" in line and "#14" in line for line in lines)
    assert lines.index("Mon 5 Jan 2026") < lines.index(sara[1]) < lines.index("Tue 6 Jan 2026")


def test_every_message_the_demo_sends_is_valid_block_kit(demo):
    result, standin = demo
    posted = [c for c in standin.calls if c.method in ("chat.postMessage", "chat.update")]
    assert len(posted) == len(result.messages)
    failed = [c.response for c in posted if not c.response["ok"]]
    assert failed == []


async def test_python_m_bot_demo_prints_its_sections(tmp_path):
    code, out, err = await run_cli("demo", env={"HOME": str(tmp_path)})
    assert code == 0, err
    for section in (
        "Vigil demo: 12 people, 20 tasks",
        "Mon 12 Jan 2026",
        "→ #managers",
        "silence means on track",
        "Assurance report: demo",
        "And from Slack itself",
    ):
        assert section in out, section
