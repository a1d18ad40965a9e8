"""The six rules as tables, with the cases product.md names."""

from dataclasses import replace
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
# product.md: due Friday 16 January, created Monday 12 at 09:00 (five working days).
MON12, FRI16 = "2026-01-12T09:00", "2026-01-16"


@pytest.mark.parametrize(
    ("progress", "reported", "now", "fires", "why"),
    [
        (10, "2026-01-14T09:30", "2026-01-14T09:31", True, "10% on Wednesday morning fires"),
        (60, "2026-01-14T09:30", "2026-01-14T09:31", False, "60% on Wednesday does not"),
        (60, "2026-01-14T09:30", "2026-01-16T17:00", False, "however long it then stays silent"),
        (10, "2026-01-14T09:30", "2026-01-17T10:00", False, "past the deadline: overdue's to say"),
        (0, None, "2026-01-15T10:00", False, "no report yet: not started, which stalled covers"),
        (5, "2026-01-12T15:00", "2026-01-12T16:00", False, "under 25% of the time: not judged"),
        (5, "2026-01-12T15:00", "2026-01-13T12:00", True, "and judged once a quarter is used"),
        # 35% after two days: finishes Monday 19th, 1 working day late: not *clearly* late.
        (35, "2026-01-13T18:00", "2026-01-14T09:00", False, "one working day late is not clearly"),
        (30, "2026-01-13T18:00", "2026-01-14T09:00", True, "two working days late is"),
    ],
)
def test_behind_pace_is_judged_at_the_latest_report(progress, reported, now, fires, why):
    view = task(
        progress=progress,
        reported_at=t(reported) if reported else None,
        created_at=t(MON12),
        activity_at=t(reported or MON12),
        due_at=due(FRI16),
    )
    assert (check_behind_pace(view, t(now), POLICY, CAL) is not None) == fires, why


def test_a_ten_day_task_on_pace_on_day_two_is_never_behind_however_long_the_silence():
    """The monitor.com "At risk" false flag: 25% of the time used and 0% done, two days into a
    ten-day task that reports on day two. On pace at its report, it is never behind pace in
    the silence after it; the stall rule speaks when the silence is long enough."""
    view = task(
        progress=20,
        created_at=t("2026-01-05T09:00"),
        reported_at=t("2026-01-06T17:00"),
        activity_at=t("2026-01-06T17:00"),
        due_at=due("2026-01-16"),
    )
    moment = t("2026-01-06T17:30")
    while moment < due("2026-01-16"):
        assert check_behind_pace(view, moment, POLICY, CAL) is None, moment
        moment += timedelta(hours=3)
    assert check_stalled(view, t("2026-01-12T00:00"), POLICY, CAL) is not None


def test_behind_pace_explains_itself_in_numbers():
    view = task(
        progress=10, reported_at=t("2026-01-14T09:30"), created_at=t(MON12), due_at=due(FRI16)
    )
    facts = check_behind_pace(view, t("2026-01-14T13:30"), POLICY, CAL)
    assert facts["progress"] == 10 and facts["working_days_late"] > 10
    assert facts["pace_per_day"] == pytest.approx(4.9, abs=0.1)  # 10 points in 2.06 days
    assert facts["time_used"] == 50


def test_behind_pace_holds_until_the_forecast_is_back_within_the_deadline():
    """Hysteresis: one working day late does not open it, but does not close it either."""
    base = dict(created_at=t(MON12), due_at=due(FRI16), reported_at=t("2026-01-13T18:00"))
    now = t("2026-01-14T09:00")
    one_day_late = task(progress=35, **base)  # finishes Monday 19th
    assert check_behind_pace(one_day_late, now, POLICY, CAL) is None
    assert check_behind_pace(replace(one_day_late, behind_pace_open=True), now, POLICY, CAL)
    on_time = task(progress=40, **base)  # finishes Friday 16th
    assert check_behind_pace(replace(on_time, behind_pace_open=True), now, POLICY, CAL) is None


# -- behind_pace of a parent ------------------------------------------------------------------
# A parent created Monday 12 January 09:00, due Friday 23rd (ten working days), whose work is
# in two subtasks created with it: A due Friday 16th, B due with the parent.
PARENT_DUE = "2026-01-23"


def sub(key: str, **kw) -> TaskView:
    """Subtask A or B, not started unless `kw` says otherwise."""
    base = dict(
        id={"A": 2, "B": 3}[key],
        created_at=t(MON12),
        activity_at=t(MON12),
        due_at=due({"A": FRI16, "B": PARENT_DUE}[key]),
    )
    base.update(kw)
    return task(**base)


def reported(progress: int, at: str) -> dict:
    return {"progress": progress, "reported_at": t(at), "activity_at": t(at)}


def parent(*family: TaskView, **kw) -> TaskView:
    """The parent as the rules see it: its subtasks not done, and its progress rolled up
    (low while a subtask has not started: what the rule must not be misled by)."""
    reports = [s.reported_at for s in family if s.reported_at] + [kw.get("own_reported_at")]
    latest = max((r for r in reports if r), default=None)
    base = dict(
        id=1,
        created_at=t(MON12),
        due_at=due(PARENT_DUE),
        subtasks=2,
        family=family,
        progress=kw.get("progress", 5),
        reported_at=latest,
        activity_at=latest or t(MON12),
    )
    base.update(kw)
    return task(**base)


@pytest.mark.parametrize(
    ("family", "now", "fires", "why"),
    [
        ((sub("B"),), "2026-01-15T10:00", False, "A finished early, B not started nor due to"),
        (
            (sub("A", **reported(30, "2026-01-13T17:00")), sub("B")),
            "2026-01-15T10:00",
            False,
            "A on its own pace; B not started and not stalled: no evidence either way",
        ),
        ((sub("B"),), "2026-01-16T10:00", True, "B stalled unstarted: at its plan's pace, late"),
        (
            (sub("A"),),
            "2026-01-22T10:00",
            False,
            "A stalled unstarted on Friday 16th; begun then, it made the 23rd: waiting since is "
            "its own stall's to say",
        ),
        ((sub("B", status="blocked"),), "2026-01-16T10:00", False, "blocked, B does not stall"),
        (
            (sub("B", **reported(10, "2026-01-13T18:00")),),
            "2026-01-15T10:00",
            True,
            "B's reports show 5 points a working day: weeks late",
        ),
        (
            (sub("A", **reported(60, "2026-01-13T18:00")), sub("B", **reported(20, "2026-01-13T18:00"))),
            "2026-01-15T10:00",
            False,
            "B at 10 points a day finishes on the parent's deadline",
        ),
        (
            (sub("B", **reported(60, "2026-01-13T18:00")),),
            "2026-01-20T10:00",
            False,
            "B stalled, but resuming today at its own pace it still makes it",
        ),
        (
            (sub("B", **reported(20, "2026-01-13T18:00")),),
            "2026-01-20T10:00",
            True,
            "B at 10 points a day, stalled since: resuming today, four working days late",
        ),
        (
            (sub("B", status="blocked", **reported(20, "2026-01-13T18:00")),),
            "2026-01-20T10:00",
            False,
            "the same B blocked does not stall: it is the managers' to unblock",
        ),
    ],
)
def test_a_parent_is_behind_pace_when_a_subtask_judged_on_its_own_is(family, now, fires, why):
    view = parent(*family)
    assert (check_behind_pace(view, t(now), POLICY, CAL) is not None) == fires, why


def test_a_subtask_due_after_its_parent_makes_any_lateness_it_shows_enough():
    """19 points in two working days finishes Monday 26th, one working day after the parent:
    not clearly late by pace alone, but B is planned to finish after the parent too."""
    on_plan = sub("B", **reported(19, "2026-01-13T18:00"))
    now = t("2026-01-15T10:00")
    assert check_behind_pace(parent(on_plan), now, POLICY, CAL) is None
    planned_late = replace(on_plan, due_at=due("2026-01-27"))
    facts = check_behind_pace(parent(planned_late), now, POLICY, CAL)
    assert facts is not None and facts["working_days_late"] == 1


def test_a_parents_finding_names_the_subtask_that_makes_it_late():
    slow = sub("B", **reported(10, "2026-01-13T18:00"))
    facts = check_behind_pace(parent(sub("A"), slow), t("2026-01-15T10:00"), POLICY, CAL)
    assert facts["subtask"] == 3 and facts["subtask_progress"] == 10 and facts["started"]
    assert facts["pace_per_day"] == pytest.approx(5)  # 10 points in two working days
    assert facts["working_days_late"] > 5


def test_what_is_reported_on_the_parent_itself_counts_while_it_is_the_latest_word():
    own = {"own_progress": 10, "own_reported_at": t("2026-01-15T09:00"), "progress": 10}
    now = t("2026-01-15T10:00")
    assert check_behind_pace(parent(sub("B"), **own), now, POLICY, CAL) is not None
    later = sub("B", **reported(40, "2026-01-15T09:30"))  # the subtask reports after it
    assert check_behind_pace(parent(later, **own), now, POLICY, CAL) is None


def test_a_parent_whose_subtasks_are_all_done_is_not_judged_on_pace():
    assert check_behind_pace(parent(), t("2026-01-20T10:00"), POLICY, CAL) is None


def test_a_parent_wakes_when_a_subtask_not_started_stalls():
    view = parent(sub("A", **reported(60, "2026-01-13T18:00")), sub("B"))
    rule = RULES_BY_ID["behind_pace"]
    wake = rule.wake(view, t("2026-01-15T10:00"), POLICY, CAL)
    assert wake == t("2026-01-16T00:00")  # B's stall: the start of its 4th working day
    assert check_behind_pace(view, wake - timedelta(seconds=1), POLICY, CAL) is None
    assert check_behind_pace(view, wake, POLICY, CAL) is not None


def test_a_parent_wakes_each_midnight_while_a_started_subtask_is_stalled():
    # B: 40% in its first two working days, 20 points a day, then silent.
    view = parent(sub("B", **reported(40, "2026-01-13T18:00")))
    rule = RULES_BY_ID["behind_pace"]
    assert rule.wake(view, t("2026-01-15T10:00"), POLICY, CAL) == t("2026-01-19T00:00")
    assert rule.wake(view, t("2026-01-22T10:00"), POLICY, CAL) == t("2026-01-23T00:00")
    # Resuming on Thursday 22nd it finishes Monday 26th, one working day late: not clearly;
    # from Friday, Tuesday 27th, two late: clearly.
    assert check_behind_pace(view, t("2026-01-22T23:59"), POLICY, CAL) is None
    assert check_behind_pace(view, t("2026-01-23T00:00"), POLICY, CAL) is not None


# -- the stronger problem speaks ---------------------------------------------------------------
def test_overdue_mutes_behind_pace_and_blocked_mutes_stall_and_pace():
    slow = task(
        progress=10,
        reported_at=t("2026-01-06T10:00"),
        created_at=t("2026-01-05T09:00"),
        activity_at=t("2026-01-06T10:00"),
        due_at=due("2026-01-16"),
        behind_pace_open=True,
    )
    fired, _ = evaluate(slow, t("2026-01-12T10:00"), POLICY, CAL)
    assert {"behind_pace", "stalled"} <= set(fired)
    fired, _ = evaluate(slow, t("2026-01-19T10:00"), POLICY, CAL)
    assert "overdue" in fired and "behind_pace" not in fired
    fired, _ = evaluate(replace(slow, status="blocked"), t("2026-01-12T10:00"), POLICY, CAL)
    assert set(fired) == {"blocked"}
    fired, _ = evaluate(replace(slow, due_at=None), t("2026-01-12T10:00"), POLICY, CAL)
    assert "behind_pace" not in fired and "missing_deadline" in fired


# -- people who are away --------------------------------------------------------------------
def test_an_owner_away_does_not_stall_and_the_days_away_do_not_count():
    # Progress Monday 12th; away Tuesday 13th to Monday 19th (a vacation status).
    view = task(
        activity_at=t(MON),
        due_at=None,
        away_from=t("2026-01-13T00:00"),
        away_until=t("2026-01-19T00:00"),
    )
    assert check_stalled(view, t("2026-01-16T10:00"), POLICY, CAL) is None  # away
    # Back on Monday 19th: Tue-Fri away do not count; Mon 19, Tue 20, Wed 21 are three days.
    assert check_stalled(view, t("2026-01-21T23:00"), POLICY, CAL) is None
    facts = check_stalled(view, t("2026-01-22T00:00"), POLICY, CAL)
    assert facts is not None and facts["working_days"] == 4
    # Away with no end to the status: no stall until it changes.
    away = replace(view, away_until=None)
    assert check_stalled(away, t("2026-02-20T10:00"), POLICY, CAL) is None


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
    view = task(
        activity_at=t(MON),
        created_at=t("2026-01-12T09:00"),
        due_at=due("2026-01-23"),
        progress=5,
        reported_at=t("2026-01-12T17:00"),  # 5 points in 8 hours: weeks late
    )
    now = t("2026-01-12T17:30")
    for rule_id in ("stalled", "behind_pace", "overdue"):
        rule = RULES_BY_ID[rule_id]
        wake = rule.wake(view, now, POLICY, CAL)
        assert wake is not None and wake > now
        before = rule.check(view, wake - timedelta(seconds=2), POLICY, CAL)
        after = rule.check(view, wake, POLICY, CAL)
        assert (before is None) != (after is None), rule_id


# -- forecast -------------------------------------------------------------------------------
def test_forecast_is_the_pace_of_the_latest_report():
    # 40 points in the first two working days (the report on Tuesday evening): 20 a day.
    fc = forecast(
        start=t("2026-01-05T09:00"),
        progress=40,
        reported_at=t("2026-01-06T18:00"),
        due_at=due("2026-01-07"),
        cal=CAL,
    )
    assert fc.pace_per_day == pytest.approx(20)
    assert fc.finish_day.isoformat() == "2026-01-09"  # 60 points more at 20 a day: Fri
    assert fc.working_days_late == 2


def test_no_forecast_without_a_report():
    assert forecast(start=t("2026-01-05T09:00"), progress=0, reported_at=None, due_at=None, cal=CAL) is None
