"""Every message the monitor builds, for every rule: valid Block Kit, a text fallback, the
numbers, and the buttons product.md asks for. No Slack needed."""

from datetime import UTC, date, datetime

import pytest

from bot.calendar import WorkCalendar
from bot.monitor import messages
from bot.monitor.forecast import Forecast
from bot.monitor.messages import Alert
from bot.slack import ids
from tests.blockkit import assert_valid_message

CAL = WorkCalendar("Europe/London", "GB")
NOW = datetime(2026, 1, 16, 9, 30, tzinfo=UTC)
FACTS = {
    "missing_owner": {"why": "no owner"},
    "missing_deadline": {"why": "no deadline"},
    "overdue": {"due_at": "2026-01-15T00:00:00+00:00", "working_days_late": 1, "progress": 40},
    "stalled": {
        "since": "2026-01-12T10:00:00+00:00",
        "working_days": 4,
        "progress": 40,
        "stall_days": 3,
    },
    "behind_pace": {"time_used": 80, "progress": 40, "behind_by": 40, "tolerance": 25},
    "deadline_conflict": {
        "parent": 7,
        "due_at": "2026-02-04T00:00:00+00:00",
        "parent_due_at": "2026-01-31T00:00:00+00:00",
        "working_days_after": 2,
    },
    "blocked": {"why": "blocked"},
}


def alert(rule: str, **kw) -> Alert:
    base = dict(
        task_id=12,
        title="Q3 filing for Acme",
        rule=rule,
        finding_id=34,
        facts=FACTS[rule],
        progress=40,
        status="blocked" if rule == "blocked" else "open",
        owner_id=None if rule == "missing_owner" else "UDANA",
        creator_id="UMARCUS",
        due_at=None if rule == "missing_deadline" else datetime(2026, 1, 31, tzinfo=UTC),
        opened_at=datetime(2026, 1, 15, 9, 0, tzinfo=UTC),
        now=NOW,
        cal=CAL,
        used=0.8,
        forecast=Forecast(date(2026, 2, 6), 5, 6.0),
        block_reason="waiting for the client's figures",
        parent_id=7 if rule == "deadline_conflict" else None,
    )
    base.update(kw)
    return Alert(**base)


def action_ids(blocks):
    return {e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]}


@pytest.mark.parametrize("rule", list(FACTS))
def test_every_message_for_every_rule_is_valid_block_kit(rule):
    a = alert(rule)
    for text, blocks in (
        messages.build_owner_alert(a),
        messages.build_owner_alert(a, reminder=True),
        messages.build_manager_alert(a),
        messages.build_resolved(a, "marked done", for_managers=True),
        messages.build_resolved(a, "marked done", for_managers=False),
        messages.build_resolution_reply(a, "marked done"),
    ):
        assert_valid_message(text, blocks)
        assert "#12" in text


def test_the_owner_dm_says_what_why_and_what_clears_it_with_one_click_fixes():
    text, blocks = messages.build_owner_alert(alert("stalled"))
    body = str(blocks)
    assert "#12 Q3 filing for Acme has had no progress since Mon 12 Jan" in text
    assert "working day 4" in text
    assert "progress ▰▰▰▰▱▱▱▱▱▱ 40%  ·  time used ▰▰▰▰▰▰▰▰▱▱ 80%" in body
    assert "Fri 6 Feb, 5 working days late" in body  # the forecast
    assert "Clears when:" in body
    assert action_ids(blocks) >= {
        ids.ACTION_PROGRESS_SELECT,
        ids.ACTION_DONE,
        ids.ACTION_BLOCKED,
        ids.ACTION_SNOOZE,
        ids.ACTION_MOVE_DEADLINE,
    }
    # The deadline picker offers the forecast day.
    picker = next(
        e
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "datepicker"
    )
    assert picker["initial_date"] == "2026-02-06"
    # Handlers find the task and the finding from the block alone.
    assert ids.parse_block_id(blocks[-1]["block_id"]) == (12, 34)


def test_missing_owner_offers_assign_and_the_conflict_offers_the_parents_date():
    assert ids.ACTION_ASSIGN in action_ids(messages.build_owner_alert(alert("missing_owner"))[1])
    _, blocks = messages.build_owner_alert(alert("deadline_conflict"))
    picker = next(
        e
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "datepicker"
    )
    assert picker["initial_date"] == "2026-01-30"


def test_the_managers_message_names_task_owner_problem_and_age_with_its_buttons():
    text, blocks = messages.build_manager_alert(alert("overdue", reminders=2))
    assert "#12" in text and "<@UDANA>" in text and "overdue" in text
    assert "open 1 working day, owner reminded 2×" in str(blocks)
    assert action_ids(blocks) == {
        ids.ACTION_REASSIGN,
        ids.ACTION_MOVE_DEADLINE,
        ids.ACTION_PING_OWNER,
    }


def test_user_text_is_shown_never_acted_on():
    text, blocks = messages.build_owner_alert(
        alert("blocked", title="<!channel> & <@U1>", block_reason="<!here>")
    )
    everything = text + str(blocks)
    assert (
        "<!channel>" not in everything and "<@U1>" not in everything and "<!here>" not in everything
    )
    assert "&lt;!channel&gt; &amp; &lt;@U1&gt;" in text


@pytest.mark.parametrize(
    "rule, task_now, reason",
    [
        ("stalled", {"progress": 60}, "progress recorded (60%)"),
        ("stalled", {"owner_id": "ULEE"}, "<@ULEE> owns it now, with a fresh start"),
        (
            "stalled",
            {"activity_at": datetime(2026, 1, 16, 9, 0, tzinfo=UTC)},
            "unblocked, so its stall clock starts again",
        ),
        ("stalled", {"status": "blocked"}, "it is blocked now"),
        ("stalled", {"status": "done", "progress": 100}, "marked done"),
        (
            "behind_pace",
            {"progress": 70, "used": 0.6},
            "back on pace, 70% done with 60% of the time used",
        ),
        (
            "behind_pace",
            {"due_at": datetime(2026, 1, 16, tzinfo=UTC)},
            "its deadline has passed at 40%, so it is overdue now",
        ),
        ("overdue", {"due_at": datetime(2026, 2, 7, tzinfo=UTC)}, "moved to Fri 6 Feb"),
        ("missing_owner", {"owner_id": "ULEE"}, "<@ULEE> now owns it"),
        ("missing_deadline", {}, "a deadline was set"),
        ("deadline_conflict", {}, "the deadlines agree now"),
        ("blocked", {"status": "open"}, "unblocked"),
        ("overdue", {"status": "cancelled"}, "the task was cancelled"),
    ],
)
def test_a_resolution_says_truly_why_the_finding_cleared(rule, task_now, reason):
    opened = {"recipient": "UDANA", "activity_at": datetime(2026, 1, 12, 10, 0, tzinfo=UTC)}
    a = alert(rule, **(opened | task_now))
    text, _ = messages.build_resolved(a, messages.resolution_reason(a), for_managers=True)
    assert reason in text


def test_resolved_messages_carry_no_buttons():
    for text, blocks in (
        messages.build_resolved(alert("stalled"), "progress recorded (60%)", for_managers=True),
        messages.build_resolved(alert("stalled"), "progress recorded (60%)", for_managers=False),
    ):
        assert not action_ids(blocks)
        assert "no longer stalled: progress recorded (60%)" in text
