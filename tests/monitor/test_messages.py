"""One problem of a task in words and numbers (`messages`): what is wrong, why, what clears it,
the forecast, the owner's buttons, and why a problem cleared. No Slack needed."""

from datetime import UTC, date, datetime

import pytest

from bot.calendar import WorkCalendar
from bot.monitor import messages
from bot.monitor.forecast import Forecast
from bot.monitor.messages import Alert
from bot.slack import ids

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
    "behind_pace": {
        "pace_per_day": 2.5,
        "progress": 40,
        "finish_day": "2026-02-06",
        "working_days_late": 5,
    },
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
        facts=FACTS[rule],
        progress=40,
        status="blocked" if rule == "blocked" else "open",
        owner_id=None if rule == "missing_owner" else "UDANA",
        creator_id="UMARCUS",
        due_at={
            "missing_deadline": None,
            "overdue": datetime(2026, 1, 15, 18, 0, tzinfo=UTC),
        }.get(rule, datetime(2026, 1, 31, tzinfo=UTC)),
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


def elements(blocks):
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def picker_day(blocks) -> str | None:
    (picker,) = [e for e in elements(blocks) if e["type"] == "datepicker"]
    return picker.get("initial_date")


@pytest.mark.parametrize(
    "rule, words",
    [
        ("missing_owner", "has no owner"),
        ("missing_deadline", "has no deadline"),
        ("overdue", "is overdue: it was due Thu 15 Jan (1 working day ago) and is at 40%"),
        (
            "stalled",
            "has had no progress since Mon 12 Jan: this is working day 4 without any, at 40%",
        ),
        (
            "behind_pace",
            "at the pace of its reports (2.5 points a working day, 40% reported) it finishes "
            "Fri 6 Feb, 5 working days late",
        ),
        (
            "deadline_conflict",
            "is due Tue 3 Feb, 2 working days after its parent #7 (due Fri 30 Jan)",
        ),
        ("blocked", "is blocked: waiting for the client's figures"),
    ],
)
def test_every_problem_says_what_is_wrong_in_numbers_why_and_what_clears_it(rule, words):
    what, why, clears = messages.problem(alert(rule))
    assert words in what
    assert why and clears


@pytest.mark.parametrize(
    "started, words",
    [
        (
            True,
            "is behind pace: its subtask #13, at the pace of its reports (2.5 points a working "
            "day, 20% reported), it finishes Fri 6 Feb, 5 working days late",
        ),
        (
            False,
            "is behind pace: its subtask #13 has not started; begun when it was due to, at the "
            "pace its plan needs (2.5 points a working day), it finishes Fri 6 Feb, 5 working "
            "days late",
        ),
    ],
)
def test_a_parent_behind_pace_names_the_subtask_that_makes_it_late(started, words):
    facts = {**FACTS["behind_pace"], "subtask": 13, "subtask_progress": 20 if started else 0}
    what, _, _ = messages.problem(alert("behind_pace", facts={**facts, "started": started}))
    assert words in what


def test_the_conflict_says_which_day_clears_it():
    assert (
        "Move this deadline to Fri 30 Jan or earlier."
        in messages.problem(alert("deadline_conflict"))[2]
    )


def test_the_forecast_line_says_when_it_finishes_and_how_late():
    assert (
        messages.forecast_line(alert("stalled"))
        == "Forecast: at 6 points a working day it finishes Fri 6 Feb, 5 working days late."
    )
    on_time = alert("stalled", forecast=Forecast(date(2026, 1, 28), 0, 2.5))
    assert messages.forecast_line(on_time).endswith("finishes Wed 28 Jan, on time.")
    assert "none yet" in messages.forecast_line(alert("stalled", forecast=None))


def test_the_owners_buttons_fix_it_in_one_click_and_offer_the_forecast_day():
    blocks = messages.owner_buttons(alert("stalled"), frozenset({"stalled"}))
    found = {e["action_id"] for e in elements(blocks)}
    assert found == {
        ids.unique(a, "12")
        for a in (
            ids.ACTION_PROGRESS_SELECT,
            ids.ACTION_PROGRESS_OTHER,
            ids.ACTION_DONE,
            ids.ACTION_BLOCKED,
            ids.ACTION_SNOOZE,
            ids.ACTION_MOVE_DEADLINE,
        )
    }
    assert picker_day(blocks) == "2026-02-06"
    # A click finds the task from the block alone.
    assert {ids.parse_block_id(b["block_id"]) for b in blocks} == {(12, None)}


def test_a_blocked_task_is_not_offered_i_m_blocked_again():
    blocks = messages.owner_buttons(alert("blocked"), frozenset({"blocked"}))
    assert ids.unique(ids.ACTION_BLOCKED, "12") not in {e["action_id"] for e in elements(blocks)}


def test_missing_owner_offers_assign_and_the_conflict_offers_the_parents_date():
    assign = ids.unique(ids.ACTION_ASSIGN, "12")
    alone = messages.owner_buttons(alert("missing_owner"), frozenset({"missing_owner"}))
    assert assign in {e["action_id"] for e in elements(alone)}
    # Assign is offered whichever problem the picker speaks for.
    both = messages.owner_buttons(alert("stalled"), frozenset({"stalled", "missing_owner"}))
    assert assign in {e["action_id"] for e in elements(both)}
    plain = messages.owner_buttons(alert("stalled"), frozenset({"stalled"}))
    assert assign not in {e["action_id"] for e in elements(plain)}
    conflict = messages.owner_buttons(alert("deadline_conflict"), frozenset({"deadline_conflict"}))
    assert picker_day(conflict) == "2026-01-30"  # the parent's last working day


def test_the_picker_never_offers_a_day_already_past():
    late = alert("stalled", forecast=Forecast(date(2026, 1, 2), 0, 9.0))
    assert messages.offered_day(late) == date(2026, 1, 16)


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
        ("stalled", {}, "the stall threshold was raised"),
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
        ("overdue", {"due_at": None}, "the deadline was removed"),
        ("missing_owner", {"owner_id": "ULEE"}, "<@ULEE> now owns it"),
        ("missing_deadline", {}, "a deadline was set"),
        ("deadline_conflict", {}, "the deadlines agree now"),
        ("blocked", {"status": "open"}, "unblocked"),
        ("overdue", {"status": "cancelled"}, "the task was cancelled"),
    ],
)
def test_a_resolution_says_truly_why_the_problem_cleared(rule, task_now, reason):
    opened = {"recipient": "UDANA", "activity_at": datetime(2026, 1, 12, 10, 0, tzinfo=UTC)}
    assert reason in messages.resolution_reason(alert(rule, **(opened | task_now)))
