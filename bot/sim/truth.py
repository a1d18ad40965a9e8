"""What really happened to a generated task, worked out from its plan alone (never from the
bot): late or not, healthy or not (product.md §6), and the earliest moment a perfect watcher
could have known it would be late.

A person's working days exclude the days they are away, as the calendar excludes holidays: a
task whose owner is on holiday for a week and whose deadline moved by that week is on pace if
its owner keeps their pace either side of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.calendar import WorkCalendar

STALL_DAYS = 3  # a healthy task is reported on at least every 3 working days


@dataclass
class Plan:
    """One task as the generator decided it: who, when, and everything done to it."""

    key: str
    pattern: str
    title: str
    creator: str
    created: datetime  # UTC
    due: datetime  # UTC: the end of the due day in the team's zone
    owner: str | None
    parent: str | None = None
    reports: list[tuple[datetime, int, str]] = field(default_factory=list)  # at, progress, by
    changes: list[tuple[datetime, str, dict]] = field(default_factory=list)  # at, by, change
    conflict: bool = False
    done_at: datetime | None = None  # closed with `status: done` (a parent, after its subtasks)

    def due_timeline(self) -> list[tuple[datetime, datetime]]:
        moves = [
            (at, c["due_end"])
            for at, _, c in sorted(self.changes, key=lambda x: x[0])
            if "due_end" in c
        ]
        return [(self.created, self.due), *moves]

    def final_due(self) -> datetime:
        return self.due_timeline()[-1][1]

    def owners(self) -> list[tuple[datetime, str | None]]:
        moves = [
            (at, c["owner"])
            for at, _, c in sorted(self.changes, key=lambda x: x[0])
            if "owner" in c
        ]
        return [(self.created, self.owner), *moves]

    def blocked(self) -> bool:
        return any(c.get("status") == "blocked" for _, _, c in self.changes)


class Watcher:
    """Working time on the team's calendar, minus the days a task's owner is away."""

    def __init__(self, cal: WorkCalendar, away: dict[str, list[tuple[datetime, datetime]]]):
        self.cal = cal
        self.away = away
        self.day = cal.day_seconds()

    def off(self, plan: Plan) -> list[tuple[datetime, datetime]]:
        """The spans in which the task's owner of the moment was away."""
        spans, owners = [], plan.owners()
        for i, (since, who) in enumerate(owners):
            until = (
                owners[i + 1][0]
                if i + 1 < len(owners)
                else datetime.max.replace(tzinfo=since.tzinfo)
            )
            for a, b in self.away.get(who or "", []):
                lo, hi = max(a, since), min(b, until)
                if lo < hi:
                    spans.append((lo, hi))
        return spans

    def used(self, a: datetime, b: datetime, off: list[tuple[datetime, datetime]]) -> float:
        """Working seconds in [a, b] that the owner was there for."""
        total = self.cal.working_seconds(a, b)
        for lo, hi in off:
            total -= self.cal.working_seconds(max(a, lo), min(b, hi))
        return total

    def share(self, plan: Plan, at: datetime, due: datetime, off) -> float:
        whole = self.used(plan.created, due, off)
        return 1.0 if whole <= 0 else min(1.0, self.used(plan.created, at, off) / whole)

    def gap_days(self, a: datetime, b: datetime, off) -> int:
        """Working days begun after `a`'s day up to `b`'s day, away days not counted."""
        first, last = self.cal.local_date(a), self.cal.local_date(b)
        n = self.cal.working_days_between(first, last)
        day = first + timedelta(days=1)
        while off and day <= last:
            if self.cal.is_working_day(day) and any(
                _covers(lo, hi, day, self.cal) for lo, hi in off
            ):
                n -= 1
            day += timedelta(days=1)
        return n


def _covers(lo: datetime, hi: datetime, day: date, cal: WorkCalendar) -> bool:
    return lo <= cal.start_of_day(day) and cal.end_of_day(day) <= hi


def progress_stream(plan: Plan, subtasks: list[Plan], w: Watcher) -> list[tuple[datetime, int]]:
    """The progress a task shows over time: its own reports, or, for a parent, its subtasks'
    progress weighted by their working duration (product.md §2)."""
    if not subtasks:
        return [(at, p) for at, p, _ in sorted(plan.reports, key=lambda r: r[0])]
    weights = [max(1.0, w.cal.working_seconds(s.created, s.due)) for s in subtasks]
    events = sorted((at, i, p) for i, s in enumerate(subtasks) for at, p, _ in s.reports)
    latest = [0] * len(subtasks)
    stream: list[tuple[datetime, int]] = []
    for at, i, p in events:
        latest[i] = p
        value = math.floor(
            sum(x * wt for x, wt in zip(latest, weights, strict=True)) / sum(weights)
        )
        if not stream or value > stream[-1][1]:
            stream.append((at, value))
    return stream


def finished_at(plan: Plan, stream: list[tuple[datetime, int]]) -> datetime | None:
    if plan.done_at is not None:
        return plan.done_at
    return next((at for at, p in stream if p >= 100), None)


def judge_plan(
    plan: Plan, subtasks: list[Plan], w: Watcher, end: datetime, *, parent_conflict: bool = False
) -> dict:
    """The truth of one task, as `truth.json` holds it. A parent's work is done in its
    subtasks (product.md §2), so it is healthy only when each of them is: a subtask silent for
    a week, or finished after its own deadline, is a part of the parent's plan that slipped,
    even when the parent still makes its own deadline."""
    stream = progress_stream(plan, subtasks, w)
    finish = finished_at(plan, stream)
    due = plan.final_due()
    late = (finish is None and due <= end) or (finish is not None and finish > due)
    off = w.off(plan)
    why = _troubles(plan, stream, finish, off, w, late, own_pace=not subtasks)
    unwell = [s.key for s in subtasks if judge_plan(s, [], w, end)["troubled"]]
    if unwell:
        why.append(f"subtasks not healthy: {', '.join(unwell)}")
    if parent_conflict:
        why.append("a subtask is due after it")
    duration = w.cal.working_seconds(plan.created, due) / w.day
    return {
        "pattern": plan.pattern,
        "created": plan.created.isoformat(),
        "due": due.isoformat(),
        "finished": finish.isoformat() if finish else None,
        "late": late,
        "healthy": not why,
        "troubled": bool(why),
        "why": why,
        "knowable_at": _knowable(plan, stream, finish, due, end, w).isoformat() if late else None,
        "conflict": plan.conflict,
        "unowned": plan.owner is None,
        "parent": plan.parent,
        "duration_working_days": round(duration, 2),
    }


def _troubles(  # type: ignore[no-untyped-def]
    plan, stream, finish, off, w: Watcher, late: bool, *, own_pace: bool = True
) -> list[str]:
    """Why a task is not healthy (empty: it is): on pace at every report, a report at least
    every 3 working days, finished on time; no owner, a block or a conflict are trouble too.
    A parent's pace is not judged from its own progress (`own_pace` off), their weighted sum,
    which lags whichever subtask has not reported yet: `judge_plan` judges each subtask."""
    why = []
    if late:
        why.append("late" if finish else "never finished")
    elif finish is None:
        why.append("not finished")
    if plan.owner is None:
        why.append("created without an owner")
    if plan.blocked():
        why.append("blocked")
    if plan.conflict:
        why.append("due after its parent")
    if own_pace and (behind := _pace_trouble(plan, stream, off, w)):
        why.append(behind)
    times = [plan.created, *(at for at, _ in stream)]
    if finish is not None and finish not in times:
        times.append(finish)
    for a, b in zip(times, times[1:], strict=False):
        if w.gap_days(a, b, off) > STALL_DAYS:
            why.append(f"no report for {w.gap_days(a, b, off)} working days from {a:%Y-%m-%d}")
            break
    return why


def _pace_trouble(plan: Plan, stream, off, w: Watcher) -> str | None:  # type: ignore[no-untyped-def]
    """Behind pace at a report (against the deadline of the moment), or when the deadline
    moved (the latest report, as of its own time, against the new deadline)."""
    dues = plan.due_timeline()
    for at, p in stream:
        if p < 100 and p < 100 * w.share(plan, at, _due_at(dues, at), off) - 1e-6:
            return f"behind pace at {at:%Y-%m-%d %H:%M} ({p}%)"
    for at, new_due in dues[1:]:
        last = [(t, p) for t, p in stream if t <= at]
        if last and last[-1][1] < 100:
            t, p = last[-1]  # pace is judged as of the latest report
            if p < 100 * w.share(plan, t, new_due, off) - 1e-6:
                return f"behind pace once its deadline moved at {at:%Y-%m-%d %H:%M}"
    return None


def _due_at(dues: list[tuple[datetime, datetime]], at: datetime) -> datetime:
    return [d for since, d in dues if since <= at][-1]


def _knowable(plan, stream, finish, due, end, w: Watcher) -> datetime:  # type: ignore[no-untyped-def]
    """The earliest a perfect watcher could know the task would be late: the first report
    whose pace cannot make the deadline, the start of a stall (more than 3 working days,
    away days included: the work pauses), or the deadline itself."""
    candidates = [due]
    for at, p in stream:
        if at < due and p < 100 and p < 100 * w.share(plan, at, due, []) - 1e-6:
            candidates.append(at)
            break
    times = [plan.created, *(at for at, _ in stream if finish is None or at <= finish)]
    times.append(finish if finish is not None else end)
    for a, b in zip(times, times[1:], strict=False):
        if a < due and w.gap_days(a, b, []) > STALL_DAYS:
            candidates.append(a)
            break
    known = min(candidates)
    dues = plan.due_timeline()
    for (_, before), (at, after) in zip(dues, dues[1:], strict=False):
        if after < before and at > known:
            known = at  # moved earlier: nobody could know before it moved
    return min(known, due)
