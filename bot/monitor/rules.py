"""The monitor's checks: pure functions of (task, now, policy, calendar).

A task's history enters through values derived from its events: `activity_at`, when the
stall clock last restarted (creation, a progress change, a reassignment, an unblock; never the
bot's own messages, notes or snoozes), `progress` and `reported_at`, the latest progress report
and when it was made, which with `created_at` give the pace the reports show. Between two
reports progress is unknown, not low: pace is judged as of the latest report, and the silence
since it is `stalled`'s concern alone. A parent's progress and report come from its subtasks
(`rollup.py`), and its pace from theirs, each judged on its own (`parent_forecast`); an owner
who is away (their Slack status) stops the stall clock.

Where one problem explains another, the stronger one speaks (the rulebook's `mutes`).

Each rule has a `check_*` that says whether it fires now and why, in numbers, and a `wake_*`
that says when, with nothing else changing, its answer could next change. The sweep uses the
second to look only at tasks whose answer can have moved, which is what keeps a sweep over a
million tasks cheap; `tests/monitor/test_sweep.py` checks that this never misses a finding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from bot.calendar import WorkCalendar
from bot.models import BLOCKED, OPEN
from bot.monitor.forecast import Forecast, forecast, own_forecast
from bot.monitor.policy import Policy
from bot.monitor.rulebook import RULEBOOK

Facts = dict[str, object]


@dataclass(frozen=True, slots=True)
class TaskView:
    """What the rules may see of a task."""

    id: int
    status: str
    progress: int
    created_at: datetime
    activity_at: datetime
    owner_id: str | None = None
    owner_active: bool = True
    due_at: datetime | None = None
    parent_id: int | None = None
    parent_due_at: datetime | None = None
    reported_at: datetime | None = None  # the latest progress report (None: none yet)
    # The owner's latest spell away (Slack status), and whether it has an end yet.
    away_from: datetime | None = None
    away_until: datetime | None = None
    behind_pace_open: bool = False  # for the rule's hysteresis
    subtasks: int = 0  # how many subtasks its progress comes from
    # A parent's unfinished subtasks, each as the rules see it: its pace is theirs.
    family: tuple[TaskView, ...] = ()
    own_progress: int = 0  # what was reported on a parent itself, apart from its subtasks
    own_reported_at: datetime | None = None

    def away_at(self, now: datetime) -> bool:
        return (
            self.away_from is not None
            and self.away_from <= now
            and (self.away_until is None or now < self.away_until)
        )


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    check: Callable[[TaskView, datetime, Policy, WorkCalendar], Facts | None]
    wake: Callable[[TaskView, datetime, Policy, WorkCalendar], datetime | None] | None = None


# -- missing_owner ------------------------------------------------------------------------
def check_missing_owner(
    task: TaskView, now: datetime, policy: Policy, cal: WorkCalendar
) -> Facts | None:
    if task.owner_id is None:
        return {"why": "no owner"}
    if not task.owner_active:
        return {"why": "owner left", "owner": task.owner_id}
    return None


# -- missing_deadline ---------------------------------------------------------------------
def check_missing_deadline(
    task: TaskView, now: datetime, policy: Policy, cal: WorkCalendar
) -> Facts | None:
    return {"why": "no deadline"} if task.due_at is None else None


# -- overdue ------------------------------------------------------------------------------
def check_overdue(task: TaskView, now: datetime, policy: Policy, cal: WorkCalendar) -> Facts | None:
    if task.due_at is None or now < task.due_at:
        return None
    late = cal.working_days_between(
        cal.due_day(task.due_at), cal.local_date(now)
    )
    return {"due_at": task.due_at.isoformat(), "working_days_late": late, "progress": task.progress}


def wake_overdue(
    task: TaskView, now: datetime, policy: Policy, cal: WorkCalendar
) -> datetime | None:
    return task.due_at if task.due_at is not None and now < task.due_at else None


# -- stalled ------------------------------------------------------------------------------
def _paused_days(task: TaskView, now: datetime, cal: WorkCalendar) -> int:
    """Working days the owner was away since the stall clock last restarted: they do not count."""
    if task.away_from is None:
        return 0
    start = max(task.away_from, task.activity_at)
    end = min(task.away_until or now, now)
    if end <= start:
        return 0
    return cal.working_days_between(cal.local_date(start), cal.local_date(end))


def stall_threshold(task: TaskView, policy: Policy, cal: WorkCalendar, now: datetime) -> datetime:
    """The start of the (N+1)th working day after the day the stall clock last restarted,
    counting no day the owner was away: with N = 3 and progress on a Monday, the start of
    Friday."""
    days = policy.stall_days + 1 + _paused_days(task, now, cal)
    return cal.start_of_day(cal.add_working_days(cal.local_date(task.activity_at), days))


def check_stalled(task: TaskView, now: datetime, policy: Policy, cal: WorkCalendar) -> Facts | None:
    if task.status != OPEN or task.away_at(now):
        return None
    if now < stall_threshold(task, policy, cal, now):
        return None
    days = cal.working_days_between(cal.local_date(task.activity_at), cal.local_date(now))
    days -= _paused_days(task, now, cal)
    # The day in progress counts once it has begun; the day of the last update does not.
    return {
        "since": task.activity_at.isoformat(),
        "working_days": days,
        "progress": task.progress,
        "stall_days": policy.stall_days,
    }


def wake_stalled(
    task: TaskView, now: datetime, policy: Policy, cal: WorkCalendar
) -> datetime | None:
    if task.status != OPEN:
        return None
    if task.away_at(now):
        return task.away_until  # None: the status changing (an event) will wake it
    threshold = stall_threshold(task, policy, cal, now)
    return threshold if now < threshold else None


# -- behind_pace --------------------------------------------------------------------------
def time_used(task: TaskView, now: datetime, cal: WorkCalendar) -> float | None:
    """Share of the working time between start and deadline already spent, 0..1."""
    if task.due_at is None:
        return None
    total = cal.working_seconds(task.created_at, task.due_at)
    if total <= 0:
        return None
    return min(1.0, cal.working_seconds(task.created_at, now) / total)


def pace_judged_from(task: TaskView, policy: Policy, cal: WorkCalendar) -> datetime | None:
    """When pace starts being judged: once `pace_min_used`% of the working time is used."""
    if task.due_at is None:
        return None
    return _judged_from(task.created_at, task.due_at, policy.pace_min_used, cal)


@lru_cache(maxsize=4096)  # asked twice per task judged (`check_*` and `wake_*`): paid once
def _judged_from(
    created_at: datetime, due_at: datetime, share: float, cal: WorkCalendar
) -> datetime | None:
    total = cal.working_seconds(created_at, due_at)
    if total <= 0:
        return None
    return cal.after_working_seconds(created_at, total * share / 100)


def _today(now: datetime, cal: WorkCalendar) -> datetime:
    """The start of the day `now` falls in: a stalled subtask's work resumes today at the
    earliest. A day, not an instant, so that the verdict moves only at midnight."""
    return cal.start_of_day(cal.local_date(now))


def subtask_forecast(
    sub: TaskView, due_at: datetime, now: datetime, policy: Policy, cal: WorkCalendar
) -> Forecast | None:
    """When a subtask will finish, as its parent's pace sees it, against the parent's deadline
    `due_at`. Started, at the pace its own reports show as of its latest report, as
    `behind_pace` judges any task; once it is `stalled` its silence is a known fact for the
    parent, whose other subtasks move on: the rest of its work resumes today at the earliest,
    at that pace. Not started, it is not evidence until it is due to have started, which is
    when it stalls: judged as of that moment, at the pace its own plan needs (all its work
    between its creation and its deadline) begun then."""
    stalled = check_stalled(sub, now, policy, cal) is not None
    if sub.reported_at is not None and sub.progress > 0:
        return forecast(
            start=sub.created_at,
            progress=sub.progress,
            reported_at=sub.reported_at,
            due_at=due_at,
            cal=cal,
            resume_at=_today(now, cal) if stalled else None,
            away=(sub.away_from, sub.away_until),
        )
    if sub.due_at is None or not stalled:
        return None
    planned = cal.working_seconds(sub.created_at, sub.due_at)
    if planned <= 0:
        return None
    begun = stall_threshold(sub, policy, cal, now)
    finish = cal.due_day(cal.after_working_seconds(begun, planned))
    late = cal.working_days_between(cal.due_day(due_at), finish)
    return Forecast(finish, late, 100 * cal.day_seconds() / planned)


def parent_forecast(
    task: TaskView, now: datetime, policy: Policy, cal: WorkCalendar
) -> tuple[Forecast, TaskView | None] | None:
    """A parent finishes when the last of its subtasks does: the latest of their forecasts
    (`subtask_forecast`), and which subtask it is. What was reported on the parent itself
    counts too while it is the latest word on it (None: that report)."""
    if task.due_at is None:
        return None
    found: list[tuple[Forecast, TaskView | None]] = []
    for sub in task.family:
        fc = subtask_forecast(sub, task.due_at, now, policy, cal)
        if fc is not None:
            found.append((fc, sub))
    own = task.own_reported_at
    if own is not None and task.own_progress > 0 and own == task.reported_at:
        fc = forecast(
            start=task.created_at,
            progress=task.own_progress,
            reported_at=own,
            due_at=task.due_at,
            cal=cal,
            away=(task.away_from, task.away_until),
        )
        if fc is not None:
            found.append((fc, None))
    return max(found, key=lambda f: f[0].finish_day) if found else None


def check_behind_pace(
    task: TaskView, now: datetime, policy: Policy, cal: WorkCalendar
) -> Facts | None:
    """At the pace the reports show (progress per working day from the start to the latest
    report), the task finishes clearly after its deadline: more than `pace_late_days` working
    days and more than `pace_late_share`% of its working duration late. Judged as of the
    latest report, so the silence after it changes nothing; a task with no report yet is not
    started, which `stalled` covers. A parent finishes with the last of its subtasks, each
    judged on its own (`parent_forecast`): its rolled-up progress would lag a subtask that is
    not due to start yet; a subtask due after the parent (a `deadline_conflict`) makes it late
    by plan, so any lateness its forecast shows is enough. Once fired, it holds until the
    forecast is back within the deadline, so that it does not flap around its threshold."""
    if task.status != OPEN or task.due_at is None or now >= task.due_at:
        return None  # past the deadline it is overdue's to say
    judged_from = pace_judged_from(task, policy, cal)
    if judged_from is None or now < judged_from:
        return None
    sub: TaskView | None = None
    if task.subtasks:
        found = parent_forecast(task, now, policy, cal)
        if found is None:
            return None
        fc, sub = found
    elif task.reported_at is None or task.progress <= 0:
        return None
    else:
        fc = own_forecast(task, cal)
    if fc is None:
        return None
    duration = cal.working_seconds(task.created_at, task.due_at) / cal.day_seconds()
    clearly = fc.working_days_late > max(policy.pace_late_days, duration * policy.pace_late_share / 100)
    # A subtask due after its parent is planned to make it late: its pace agreeing is enough.
    planned_late = sub is not None and sub.due_at is not None and sub.due_at > task.due_at
    held = task.behind_pace_open or planned_late
    if not (clearly or (held and fc.working_days_late > 0)):
        return None
    facts: Facts = {
        "progress": task.progress,
        "reported_at": task.reported_at.isoformat() if task.reported_at else None,
        "pace_per_day": round(fc.pace_per_day, 1),
        "finish_day": fc.finish_day.isoformat(),
        "working_days_late": fc.working_days_late,
        "time_used": round(100 * (time_used(task, now, cal) or 0)),
    }
    if sub is not None:
        facts.update(subtask=sub.id, subtask_progress=sub.progress, started=sub.progress > 0)
    return facts


def wake_behind_pace(
    task: TaskView, now: datetime, policy: Policy, cal: WorkCalendar
) -> datetime | None:
    """The verdict moves only with a report (which wakes the task itself, and its parent),
    when judging starts, and at the deadline, where `overdue` takes over; a parent's, too,
    when a subtask stalls, and at each midnight while a started one is stalled."""
    if task.status != OPEN or task.due_at is None or now >= task.due_at:
        return None
    wakes = [task.due_at]
    judged_from = pace_judged_from(task, policy, cal)
    if judged_from is not None and now < judged_from and (task.reported_at or task.family):
        wakes.append(judged_from)
    for sub in task.family:
        started = sub.reported_at is not None and sub.progress > 0
        if check_stalled(sub, now, policy, cal) is None:
            if (at := wake_stalled(sub, now, policy, cal)) is not None:
                wakes.append(at)
        elif started:
            wakes.append(cal.start_of_day(cal.local_date(now) + timedelta(days=1)))
    return min(wakes)


# -- deadline_conflict --------------------------------------------------------------------
def check_deadline_conflict(
    task: TaskView, now: datetime, policy: Policy, cal: WorkCalendar
) -> Facts | None:
    if task.due_at is None or task.parent_due_at is None or task.due_at <= task.parent_due_at:
        return None
    late = cal.working_days_between(cal.local_date(task.parent_due_at), cal.local_date(task.due_at))
    return {
        "parent": task.parent_id,
        "due_at": task.due_at.isoformat(),
        "parent_due_at": task.parent_due_at.isoformat(),
        "working_days_after": late,
    }


# -- blocked (not a rule of its own in the contract, but it climbs the same ladder) --------
def check_blocked(task: TaskView, now: datetime, policy: Policy, cal: WorkCalendar) -> Facts | None:
    return {"why": "blocked"} if task.status == BLOCKED else None


RULES: tuple[Rule, ...] = (
    Rule("missing_owner", check_missing_owner),
    Rule("missing_deadline", check_missing_deadline),
    Rule("overdue", check_overdue, wake_overdue),
    Rule("stalled", check_stalled, wake_stalled),
    Rule("behind_pace", check_behind_pace, wake_behind_pace),
    Rule("deadline_conflict", check_deadline_conflict),
    Rule("blocked", check_blocked),
)
RULES_BY_ID = {rule.id: rule for rule in RULES}


def evaluate(
    task: TaskView, now: datetime, policy: Policy, cal: WorkCalendar
) -> tuple[dict[str, Facts], datetime | None]:
    """Every rule that fires for `task` now, less those a stronger one mutes, and when to look
    again if nothing changes."""
    fired: dict[str, Facts] = {}
    wake: datetime | None = None
    for rule in RULES:
        if not policy.enabled(rule.id):
            continue
        facts = rule.check(task, now, policy, cal)
        if facts is not None:
            fired[rule.id] = facts
        if rule.wake is not None:
            at = rule.wake(task, now, policy, cal)
            if at is not None and (wake is None or at < wake):
                wake = at
    muted = {m for rule in fired for m in RULEBOOK[rule].mutes}
    return {rule: facts for rule, facts in fired.items() if rule not in muted}, wake
