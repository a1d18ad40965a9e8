"""The monitor's checks: pure functions of (task, now, policy, calendar).

A task's history enters through two values derived from its events: `activity_at`, when the
stall clock last restarted (creation, a progress change, a reassignment; never the bot's own
messages, notes or snoozes), and `progress`, the newest progress event, which with
`created_at` gives the forecast its pace.

Each rule has a `check_*` that says whether it fires now and why, in numbers, and a `wake_*`
that says when, with nothing else changing, its answer could next change. The sweep uses the
second to look only at tasks whose answer can have moved, which is what keeps a sweep over a
million tasks cheap; `tests/monitor/test_sweep.py` checks that this never misses a finding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.calendar import WorkCalendar
from bot.models import BLOCKED, OPEN
from bot.monitor.policy import Policy

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
def stall_threshold(task: TaskView, policy: Policy, cal: WorkCalendar) -> datetime:
    """The start of the (N+1)th working day after the day the stall clock last restarted:
    with N = 3 and progress on a Monday, the start of Friday."""
    day = cal.add_working_days(cal.local_date(task.activity_at), policy.stall_days + 1)
    return cal.start_of_day(day)


def check_stalled(task: TaskView, now: datetime, policy: Policy, cal: WorkCalendar) -> Facts | None:
    if task.status != OPEN:
        return None
    if now < stall_threshold(task, policy, cal):
        return None
    days = cal.working_days_between(cal.local_date(task.activity_at), cal.local_date(now))
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
    threshold = stall_threshold(task, policy, cal)
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


def check_behind_pace(
    task: TaskView, now: datetime, policy: Policy, cal: WorkCalendar
) -> Facts | None:
    if task.due_at is None or now >= task.due_at:
        return None  # past the deadline it is overdue's to say
    used = time_used(task, now, cal)
    if used is None:
        return None
    used_pct = used * 100
    if used_pct < policy.pace_min_used or used_pct - task.progress <= policy.pace_tolerance:
        return None
    return {
        "time_used": round(used_pct),
        "progress": task.progress,
        "behind_by": round(used_pct - task.progress),
        "tolerance": policy.pace_tolerance,
    }


def wake_behind_pace(
    task: TaskView, now: datetime, policy: Policy, cal: WorkCalendar
) -> datetime | None:
    if task.due_at is None or now >= task.due_at:
        return None
    total = cal.working_seconds(task.created_at, task.due_at)
    if total <= 0:
        return None
    share = max(policy.pace_min_used, task.progress + policy.pace_tolerance) / 100
    if share >= 1:
        return task.due_at  # never behind before the deadline; wake to hand over to overdue
    # One working second past the crossing, because the rule wants strictly more than the
    # tolerance: a crossing that falls at the end of a working day is not met until the next
    # one begins, and the wake must not be parked outside working hours.
    crossing = cal.after_working_seconds(task.created_at, share * total + 1)
    if crossing > now:
        return crossing
    # Already past it: firing now, it changes only at the deadline (overdue takes over); not
    # firing (a rounding hair short), look again in a moment.
    if check_behind_pace(task, now, policy, cal) is not None:
        return task.due_at
    return now + timedelta(seconds=1)


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
    """Every rule that fires for `task` now, and when to look again if nothing changes."""
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
    return fired, wake
