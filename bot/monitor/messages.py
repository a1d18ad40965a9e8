"""What Vigil says about a finding: to the owner, to the managers, and when it resolves.

Builders are pure: an `Alert` in, `(text, blocks)` out. The text is the notification and
screen-reader fallback; the blocks say what is wrong in numbers, why, and what clears it, and
carry the buttons that fix it in one click.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.calendar import WorkCalendar
from bot.monitor.forecast import Forecast
from bot.monitor.rulebook import RULEBOOK
from bot.slack import ids
from bot.slack.blocks import (
    Block,
    actions,
    bars,
    button,
    context,
    datepicker,
    day_label,
    escape,
    mention,
    option,
    static_select,
    users_select,
)


@dataclass(frozen=True)
class Alert:
    task_id: int
    title: str
    rule: str
    facts: dict[str, Any]
    progress: int
    status: str
    owner_id: str | None
    creator_id: str
    due_at: datetime | None
    opened_at: datetime
    now: datetime
    cal: WorkCalendar
    used: float | None = None
    forecast: Forecast | None = None
    block_reason: str | None = None
    parent_id: int | None = None
    reminders: int = 0
    reminder_cap: int = 5
    snoozed_until: datetime | None = None
    snooze_max_days: int = 3
    recipient: str | None = None  # who the owner's DMs went to when the finding opened
    activity_at: datetime | None = None  # when the stall clock last restarted

    def due_day(self) -> date | None:
        if self.due_at is None:
            return None
        return self.cal.due_day(self.due_at)

    def open_for(self) -> str:
        days = self.cal.working_days_between(
            self.cal.local_date(self.opened_at), self.cal.local_date(self.now)
        )
        if days == 0:
            hours = max(0, int((self.now - self.opened_at).total_seconds() // 3600))
            return "under an hour" if hours == 0 else f"{hours} h"
        return f"{days} working day{'s' if days != 1 else ''}"


def _days(n: object) -> str:
    return f"{n} working day{'s' if n != 1 else ''}"


def _iso_day(value: object, cal: WorkCalendar) -> str:
    instant = datetime.fromisoformat(str(value))
    return day_label(cal.due_day(instant))


def problem(alert: Alert) -> tuple[str, str, str]:
    """(what is wrong, why it matters, what clears it), in words and numbers; the last two
    from the rulebook."""
    facts = RULEBOOK.get(alert.rule)
    why = facts.why.format(stall_days=alert.facts.get("stall_days", 3)) if facts else ""
    clears = facts.clears if facts else ""
    if alert.rule == "deadline_conflict":
        clears = (
            f"Move this deadline to {_iso_day(alert.facts['parent_due_at'], alert.cal)} or earlier."
        )
    return _what(alert), why, clears


def _what(alert: Alert) -> str:
    f, cal = alert.facts, alert.cal
    if alert.rule == "missing_owner":
        if f.get("why") == "owner left":
            return f"has an owner who has left Slack ({mention(str(f.get('owner')))})"
        return "has no owner"
    if alert.rule == "missing_deadline":
        return "has no deadline"
    if alert.rule == "overdue":
        late = int(f.get("working_days_late", 0))
        due = day_label(alert.due_day()) if alert.due_at else "?"
        when = "today" if late == 0 else f"{_days(late)} ago"
        return f"is overdue: it was due {due} ({when}) and is at {alert.progress}%"
    if alert.rule == "stalled":
        since = day_label(cal.local_date(datetime.fromisoformat(str(f["since"]))))
        n = int(f.get("working_days", 0))
        return (
            f"has had no progress since {since}: this is working day {n} without any, "
            f"at {alert.progress}%"
        )
    if alert.rule == "behind_pace":
        late = int(f.get("working_days_late", 0))
        finish = f.get("finish_day")
        when = f" it finishes {day_label(date.fromisoformat(str(finish)))}," if finish else ""
        if f.get("subtask") is not None:
            return _parent_behind(f, when, late)
        return (
            f"is behind pace: at the pace of its reports ({f.get('pace_per_day')} points a "
            f"working day, {f.get('progress')}% reported){when} {_days(late)} late"
        )
    if alert.rule == "deadline_conflict":
        return (
            f"is due {_iso_day(f['due_at'], cal)}, {_days(f.get('working_days_after'))} after "
            f"its parent #{f.get('parent')} (due {_iso_day(f['parent_due_at'], cal)})"
        )
    if alert.rule == "blocked":
        return f"is blocked: {escape(alert.block_reason or 'no reason given')}"
    return f"has a finding {alert.rule}"


def _parent_behind(f: dict, when: str, late: int) -> str:
    """A parent finishes with its last subtask: which one, and at what pace."""
    sub = f"#{f['subtask']}"
    if not f.get("started"):
        return (
            f"is behind pace: its subtask {sub} has not started; begun when it was due to, at "
            f"the pace its plan needs ({f.get('pace_per_day')} points a working day),{when} "
            f"{_days(late)} late"
        )
    return (
        f"is behind pace: its subtask {sub}, at the pace of its reports "
        f"({f.get('pace_per_day')} points a working day, {f.get('subtask_progress')}% "
        f"reported),{when} {_days(late)} late"
    )


def forecast_line(alert: Alert) -> str:
    fc = alert.forecast
    if fc is None:
        return "Forecast: none yet, no progress has been recorded."
    pace = f"{fc.pace_per_day:.1f}".rstrip("0").rstrip(".")
    line = f"Forecast: at {pace} points a working day it finishes {day_label(fc.finish_day)}"
    if alert.due_at is None:
        return line + "."
    if fc.working_days_late > 0:
        return line + f", {_days(fc.working_days_late)} late."
    return line + ", on time."


def numbers(alert: Alert) -> Block:
    parts = [bars(alert.progress, alert.used), f"owner {mention(alert.owner_id)}"]
    if alert.due_at:
        parts.append(f"due {day_label(alert.due_day())}")
    return context("  ·  ".join(parts))


def _block(alert: Alert, part: str) -> str:
    # The task is enough: a click acts on the task, and a snooze on its open case.
    return ids.context_block_id(alert.task_id, None, part)


def _act(action_id: str, alert: Alert) -> str:
    """Unique within a message that shows several tasks (a batched DM, the digest); the
    handlers match the action id with its suffix."""
    return ids.unique(action_id, str(alert.task_id))


def _progress_options(current: int) -> list[Block]:
    return [option(f"{p}%", str(p)) for p in range(0, 101, 10) if p != current] or [
        option("100%", "100")
    ]


def owner_buttons(alert: Alert, rules: frozenset[str] = frozenset()) -> list[Block]:
    """set progress, done, I'm blocked, snooze; move the deadline; assign where it helps
    (`rules`: every problem the task has now; `alert`, the one whose day the picker offers)."""
    first: list[Block] = [
        static_select(
            "Set progress",
            _act(ids.ACTION_PROGRESS_SELECT, alert),
            _progress_options(alert.progress),
        ),
        button("Other progress…", _act(ids.ACTION_PROGRESS_OTHER, alert), "other"),
        button("Done", _act(ids.ACTION_DONE, alert), "done", style="primary"),
    ]
    if alert.status != "blocked":
        first.append(
            button("I'm blocked", _act(ids.ACTION_BLOCKED, alert), "blocked", style="danger")
        )
    snooze = [
        option(f"Snooze {n} working day{'s' if n > 1 else ''}", str(n))
        for n in range(1, alert.snooze_max_days + 1)
    ]
    first.append(static_select("Snooze", _act(ids.ACTION_SNOOZE, alert), snooze))
    second: list[Block] = [
        datepicker("Move the deadline", _act(ids.ACTION_MOVE_DEADLINE, alert), offered_day(alert))
    ]
    if "missing_owner" in rules or alert.rule == "missing_owner":
        second.append(users_select("Assign an owner", _act(ids.ACTION_ASSIGN, alert)))
    return [actions(_block(alert, "fix"), first), actions(_block(alert, "plan"), second)]


def offered_day(alert: Alert) -> date | None:
    """The forecast finish day when there is one; for a conflict, the parent's deadline."""
    if alert.rule == "deadline_conflict":
        return alert.cal.due_day(datetime.fromisoformat(str(alert.facts["parent_due_at"])))
    if alert.forecast is not None:
        # Never a day already past: the picker would refuse it.
        return max(alert.forecast.finish_day, alert.cal.local_date(alert.now))
    return None


def resolution_reason(alert: Alert) -> str:
    """Why a finding cleared, from the task as it is now and the facts it opened with (mrkdwn,
    safe to show as is). It must be true: a finding can clear because the task got better, or
    because another finding took over (a missed deadline, a block)."""
    rule, f, progress = alert.rule, alert.facts, alert.progress
    if alert.status == "done":
        return "marked done"
    if alert.status == "cancelled":
        return "the task was cancelled"
    if alert.status == "blocked" and rule != "blocked":
        return "it is blocked now, which the managers' channel hears about"
    if rule == "behind_pace" and alert.due_at is not None and alert.now >= alert.due_at:
        return f"its deadline has passed at {progress}%, so it is overdue now"
    if rule == "stalled":
        if progress != f.get("progress"):
            return f"progress recorded ({progress}%)"
        if alert.owner_id and alert.owner_id != alert.recipient:
            return f"{mention(alert.owner_id)} owns it now, with a fresh start"
        if alert.activity_at and str(f.get("since")) != alert.activity_at.isoformat():
            return "unblocked, so its stall clock starts again"
        return "the stall threshold was raised"
    if rule == "behind_pace" and alert.used is not None:
        return f"back on pace, {progress}% done with {round(alert.used * 100)}% of the time used"
    if rule == "overdue" and alert.due_day() is not None:
        return f"the deadline was moved to {day_label(alert.due_day())}"
    return {
        "missing_owner": f"{mention(alert.owner_id)} now owns it",
        "missing_deadline": "a deadline was set",
        "overdue": "the deadline was removed",
        "deadline_conflict": "the deadlines agree now",
        "blocked": "unblocked",
    }.get(rule, "cleared")
