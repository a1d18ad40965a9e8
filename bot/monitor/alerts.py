"""From rows to what a message says: the task as the rules see it, the finding's fresh facts,
and the forecast from the task's history. Shared by delivery and the dry-run preview."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.calendar import WorkCalendar
from bot.models import Finding, Notification, Task
from bot.monitor import messages
from bot.monitor.forecast import forecast_for
from bot.monitor.ladder import MANAGERS
from bot.monitor.policy import Policy
from bot.monitor.rules import RULES_BY_ID, TaskView, time_used
from bot.monitor.taskview import load_view


def task_view(session: Session, task: Task, cal: WorkCalendar) -> TaskView:
    """What the rules see of `task` now: its parent's deadline, its owner's state, its
    progress rolled up from its subtasks."""
    session.flush()  # a task just created or changed in this transaction reads as it now is
    view = load_view(session, task.id, cal)
    assert view is not None, f"task {task.id} is gone"
    return view


def alert_for(
    session: Session, task: Task, finding: Finding, now: datetime, policy: Policy, cal: WorkCalendar
) -> messages.Alert:
    view = task_view(session, task, cal)
    facts = (
        RULES_BY_ID[finding.rule].check(view, now, policy, cal)
        if finding.status == "open"
        else None
    )
    return messages.Alert(
        task_id=task.id,
        title=task.title,
        rule=finding.rule,
        finding_id=finding.id,
        facts=facts or finding.facts,
        progress=view.progress,
        status=task.status,
        owner_id=task.owner_id,
        creator_id=task.creator_id,
        due_at=task.due_at,
        opened_at=finding.opened_at,
        now=now,
        cal=cal,
        used=time_used(view, now, cal),
        forecast=forecast_for(view, now, cal),
        block_reason=task.block_reason,
        parent_id=task.parent_id,
        reminders=finding.reminders,
        reminder_cap=policy.reminder_cap,
        snoozed_until=finding.snoozed_until,
        snooze_max_days=policy.snooze_max_days,
        recipient=finding.recipient,
        activity_at=view.activity_at,
    )


def render(
    alert: messages.Alert, note: Notification, ref: Notification | None
) -> tuple[str, list[dict]]:
    """The text and blocks of one notification."""
    reason = messages.resolution_reason(alert)
    if note.kind == "dm":
        return messages.build_owner_alert(alert)
    if note.kind == "reminder":
        return messages.build_owner_alert(alert, reminder=True)
    if note.kind in ("escalation", "update"):
        return messages.build_manager_alert(alert)
    if note.kind == "resolve_edit":
        return messages.build_resolved(alert, reason, for_managers=note.to == MANAGERS)
    if note.kind == "resolution":
        return messages.build_resolution_reply(alert, reason)
    raise ValueError(f"unknown notification kind {note.kind!r}")
