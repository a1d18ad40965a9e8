"""The six rules as tables, with the cases product.md names."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.calendar import WorkCalendar
from bot.monitor.forecast import forecast
from bot.monitor.policy import Policy
from bot.monitor.rules import (
    RULES_BY_ID,
    TaskView,
    check_behind_pace,
    check_deadline_conflict,
    check_missing_deadline,
    check_missing_owner,
    check_overdue,
    check_stalled,
    evaluate,
)

LONDON = ZoneInfo("Europe/London")
CAL = WorkCalendar("Europe/London", "GB")
POLICY = Policy()


def t(text: str) -> datetime:
    """A London wall-clock time as an aware UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=LONDON).astimezone(UTC)


def due(day: str) -> datetime:
    return CAL.end_of_day(datetime.fromisoformat(day).date())


def task(**kw) -> TaskView:
    base = dict(
        id=1,
        status="open",
        progress=0,
        created_at=t("2026-01-05T09:00"),
        activity_at=t("2026-01-05T09:00"),
        owner_id="UDANA",
        due_at=due("2026-01-30"),
    )
    base.update(kw)
    return TaskView(**base)


# -- stalled --------------------------------------------------------------------------------
# Progress on Monday 12 January 2026 (London, GB holidays); N = 3.
MON = "2026-01-12T10:00"


@pytest.mark.parametrize(
    ("activity", "now", "fires", "why"),
    [
        (MON, "2026-01-15T23:59", False, "Thursday is only the 3rd working day without progress"),
        (MON, "2026-01-16T00:00", True, "flagged at the start of the 4th working day (Friday)"),
        (MON, "2026-01-16T09:30", True, "and all through it"),
        # A weekend inside the window: progress on Wednesday, the 4th day is next Tuesday.
        ("2026-01-14T10:00", "2026-01-19T12:00", False, "Thu, Fri, Mon: three days"),
        ("2026-01-14T10:00", "2026-01-20T00:00", True, "Tuesday is the 4th"),
        # A holiday inside the window: Good Friday 3 April 2026.
        ("2026-04-01T10:00", "2026-04-06T12:00", False, "Thu, (Good Fri), Mon: two days"),
        ("2026-04-01T10:00", "2026-04-07T12:00", False, "Tue is the 3rd"),
        ("2026-04-01T10:00", "2026-04-08T00:00", True, "Wed is the 4th"),
    ],
)
def test_stalled(activity, now, fires, why):
    result = check_stalled(task(activity_at=t(activity), due_at=None), t(now), POLICY, CAL)
    assert (result is not None) == fires, why


def test_stalled_says_which_working_day_it_is():
    facts = check_stalled(task(activity_at=t(MON), progress=40), t("2026-01-16T09:00"), POLICY, CAL)
    assert facts["working_days"] == 4
    assert facts["progress"] == 40


def test_a_blocked_task_is_not_stalled_it_is_the_managers_to_unblock():
    assert (
        check_stalled(
            task(status="blocked", activity_at=t(MON)), t("2026-01-20T12:00"), POLICY, CAL
        )
        is None
    )


def test_stall_days_is_a_setting():
    lenient = Policy(stall_days=5)
    assert check_stalled(task(activity_at=t(MON)), t("2026-01-16T12:00"), lenient, CAL) is None
    assert check_stalled(task(activity_at=t(MON)), t("2026-01-20T00:00"), lenient, CAL) is not None


# -- behind_pace ----------------------------------------------------------------------------
# Due Friday 16 January, created Monday 12 at 09:00: on Wednesday afternoon ~55% is used.
@pytest.mark.parametrize(
    ("progress", "now", "fires"),
    [
        (10, "2026-01-14T14:00", True),  # product.md: 10% on Wednesday fires
        (90, "2026-01-14T14:00", False),  # and 90% does not
        (30, "2026-01-14T14:00", False),  # 53% used, 23 points behind: inside the tolerance
        (0, "2026-01-12T16:00", False),  # under 25% of the time used: too early to judge
        (0, "2026-01-13T12:00", True),  # 26.7% used and nothing done
        (10, "2026-01-17T10:00", False),  # past the deadline it is overdue's to say
    ],
)
def test_behind_pace(progress, now, fires):
    view = task(
        progress=progress,
        created_at=t("2026-01-12T09:00"),
        activity_at=t(now) - timedelta(hours=1),
        due_at=due("2026-01-16"),
    )
    assert (check_behind_pace(view, t(now), POLICY, CAL) is not None) == fires


def test_behind_pace_explains_itself_in_numbers():
    view = task(progress=10, created_at=t("2026-01-12T09:00"), due_at=due("2026-01-16"))
    facts = check_behind_pace(view, t("2026-01-14T13:30"), POLICY, CAL)
    assert facts == {"time_used": 50, "progress": 10, "behind_by": 40, "tolerance": 25}


# -- overdue, missing owner / deadline --------------------------------------------------------
@pytest.mark.parametrize(
    ("due_day", "now", "late"),
    [
        ("2026-01-16", "2026-01-16T23:59", None),  # a date means the end of that day
        ("2026-01-16", "2026-01-17T00:00", 0),  # Saturday: overdue, no working day lost yet
        ("2026-01-16", "2026-01-19T09:00", 1),
        ("2026-01-16", "2026-01-23T09:00", 5),
    ],
)
def test_overdue(due_day, now, late):
    facts = check_overdue(task(due_at=due(due_day)), t(now), POLICY, CAL)
    assert (facts and facts["working_days_late"]) == late if late is not None else facts is None


def test_missing_owner_and_deadline():
    now = t("2026-01-05T09:00")
    assert check_missing_owner(task(owner_id=None), now, POLICY, CAL) == {"why": "no owner"}
    assert check_missing_owner(task(owner_active=False), now, POLICY, CAL)["why"] == "owner left"
    assert check_missing_owner(task(), now, POLICY, CAL) is None
    assert check_missing_deadline(task(due_at=None), now, POLICY, CAL) is not None
    assert check_missing_deadline(task(), now, POLICY, CAL) is None


# -- deadline_conflict ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("child_due", "parent_due", "fires"),
    [
        ("2026-02-03", "2026-01-30", True),  # a subtask due after its parent
        ("2026-01-28", "2026-01-30", False),
        ("2026-01-30", "2026-01-30", False),  # the same day is fine
        ("2026-01-28", "2026-01-27", True),  # the parent's deadline moved earlier
        ("2026-01-28", None, False),  # a parent with no deadline cannot conflict
    ],
)
def test_deadline_conflict(child_due, parent_due, fires):
    view = task(
        due_at=due(child_due), parent_id=7, parent_due_at=due(parent_due) if parent_due else None
    )
    assert (check_deadline_conflict(view, t("2026-01-06T09:00"), POLICY, CAL) is not None) == fires


# -- all together ---------------------------------------------------------------------------
def test_disabled_rules_never_fire():
    quiet = Policy(disabled=frozenset({"missing_deadline"}))
    fired, _ = evaluate(task(due_at=None), t("2026-01-05T10:00"), quiet, CAL)
    assert "missing_deadline" not in fired


def test_wake_is_the_instant_the_answer_changes():
    """With nothing else changing, a rule's answer is the same until its wake time and
    different from it on: the sweep relies on this to skip tasks that cannot have moved."""
    view = task(activity_at=t(MON), created_at=t("2026-01-12T09:00"), due_at=due("2026-01-23"))
    now = t("2026-01-12T10:00")
    for rule_id in ("stalled", "behind_pace", "overdue"):
        rule = RULES_BY_ID[rule_id]
        wake = rule.wake(view, now, POLICY, CAL)
        assert wake is not None and wake > now
        before = rule.check(view, wake - timedelta(seconds=2), POLICY, CAL)
        after = rule.check(view, wake, POLICY, CAL)
        assert (before is None) != (after is None), rule_id


# -- forecast -------------------------------------------------------------------------------
def test_forecast_finds_the_finish_day_and_how_late_it_is():
    # 40 points in the first two working days, then nothing for two more: 10 points a day.
    fc = forecast(
        start=t("2026-01-05T09:00"),
        start_progress=0,
        progress=40,
        due_at=due("2026-01-09"),
        now=t("2026-01-09T09:00"),
        cal=CAL,
    )
    assert fc.pace_per_day == pytest.approx(10)
    assert fc.finish_day.isoformat() == "2026-01-16"  # 60 points more at 10 a day
    assert fc.working_days_late == 5


def test_no_forecast_without_progress():
    assert (
        forecast(
            start=t("2026-01-05T09:00"),
            start_progress=0,
            progress=0,
            due_at=None,
            now=t("2026-01-09T09:00"),
            cal=CAL,
        )
        is None
    )


def test_a_pace_crossing_at_the_end_of_a_day_wakes_the_next_morning():
    """Created Monday 09:00, due Friday: with 15% done, pace fires once 40% of the time is
    used, which is Tuesday 18:00 exactly; the answer only changes when Wednesday's hours
    begin, and the wake must be then, not parked at the deadline."""
    view = task(
        progress=15,
        created_at=t("2026-01-12T09:00"),
        activity_at=t("2026-01-12T09:00"),
        due_at=due("2026-01-16"),
    )
    evening = t("2026-01-13T18:30")
    assert check_behind_pace(view, evening, POLICY, CAL) is None
    wake = RULES_BY_ID["behind_pace"].wake(view, evening, POLICY, CAL)
    assert wake == t("2026-01-14T09:00:01")
    assert check_behind_pace(view, wake, POLICY, CAL) is not None
