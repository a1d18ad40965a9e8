"""The escalation ladder: what each open finding is owed, decided from the log of what was
actually sent.

1. a finding opens: the owner (no owner: the creator) is owed a DM; `overdue` and `blocked`
   also go to the managers at once;
2. the escalation window after the DM was settled, still open: one managers' message;
3. once a working day, at most `reminder_cap` times: a reminder to the owner, and the
   managers' message edited in place;
4. resolved: pending messages are cancelled, sent ones edited, and the managers' thread gets
   one reply.

Decisions are rows in `notification`, written in the same transaction as the finding. Delivery
sends them later and records what Slack said; nothing here talks to Slack or reads a clock.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from bot.calendar import WorkCalendar
from bot.models import Event, Finding, Notification
from bot.monitor.policy import Policy
from bot.monitor.rules import RULES_BY_ID

MANAGERS = "managers"  # the `to` of a notification meant for the managers' channel
POSTS = ("dm", "reminder", "escalation")  # kinds that ping someone


def _queue(
    session: Session, finding: Finding, kind: str, to: str, now: datetime, ref_id: int | None = None
) -> Notification:
    note = Notification(
        finding_id=finding.id,
        task_id=finding.task_id,
        kind=kind,
        to=to,
        ref_id=ref_id,
        decided_at=now,
        not_before=now,
    )
    session.add(note)
    return note


def escalation_due(finding: Finding, policy: Policy, cal: WorkCalendar) -> datetime | None:
    window = policy.escalation_window(finding.rule)
    if finding.dm_at is None:
        return None
    due = cal.shift_working_days(finding.dm_at, window)
    if finding.snoozed_until and finding.rule not in ("overdue", "blocked"):
        due = max(due, finding.snoozed_until)
    return due


def reminder_due(finding: Finding, policy: Policy, cal: WorkCalendar) -> datetime | None:
    if finding.dm_at is None or finding.reminders >= policy.reminder_cap:
        return None
    if not RULES_BY_ID[finding.rule].dm_owner:
        return None
    due = cal.shift_working_days(finding.last_reminder_at or finding.dm_at, 1)
    if finding.snoozed_until:
        due = max(due, finding.snoozed_until)
    return due


def next_action(finding: Finding, policy: Policy, cal: WorkCalendar) -> datetime | None:
    if finding.status != "open":
        return None
    times = [reminder_due(finding, policy, cal)]
    if finding.escalated_at is None:
        times.append(escalation_due(finding, policy, cal))
    times = [t for t in times if t is not None]
    return min(times) if times else None


def open_finding(
    session: Session,
    *,
    task_id: int,
    rule: str,
    facts: dict,
    recipient: str,
    now: datetime,
    policy: Policy,
) -> Finding:
    finding = Finding(task_id=task_id, rule=rule, opened_at=now, facts=facts, recipient=recipient)
    session.add(finding)
    session.flush()
    if RULES_BY_ID[rule].dm_owner:
        _queue(session, finding, "dm", recipient, now)
    else:
        finding.dm_at = now  # nobody to DM first: the ladder starts from here
    if policy.escalation_window(rule) == 0 or not RULES_BY_ID[rule].dm_owner:
        _queue(session, finding, "escalation", MANAGERS, now)
        finding.escalated_at = now
    return finding


def settle_dm(finding: Finding, at: datetime, policy: Policy, cal: WorkCalendar) -> None:
    """The first DM was sent (or cannot be): the escalation window runs from here."""
    if finding.dm_at is None:
        finding.dm_at = at
        finding.next_action_at = next_action(finding, policy, cal)


def advance(
    session: Session,
    finding: Finding,
    *,
    recipient: str,
    now: datetime,
    policy: Policy,
    cal: WorkCalendar,
) -> list[Notification]:
    """Whatever the finding is owed at `now`: an escalation, a reminder, an edit."""
    queued: list[Notification] = []
    escalated_before = finding.escalated_at is not None
    due = escalation_due(finding, policy, cal)
    if not escalated_before and due is not None and now >= due:
        queued.append(_queue(session, finding, "escalation", MANAGERS, now))
        finding.escalated_at = now
    due = reminder_due(finding, policy, cal)
    if due is not None and now >= due:
        finding.reminders += 1
        finding.last_reminder_at = now
        queued.append(_queue(session, finding, "reminder", recipient, now))
        # The managers' message shows the reminder count: refresh it in place. One posted in
        # this same step is built fresh already.
        escalation = _escalation_of(session, finding) if escalated_before else None
        if escalation is not None and escalation.status in ("sent", "pending"):
            queued.append(_queue(session, finding, "update", MANAGERS, now, ref_id=escalation.id))
    finding.next_action_at = next_action(finding, policy, cal)
    session.add(finding)
    return queued


def _escalation_of(session: Session, finding: Finding) -> Notification | None:
    return session.execute(
        select(Notification).where(
            Notification.finding_id == finding.id, Notification.kind == "escalation"
        )
    ).scalar_one_or_none()


def resolve(session: Session, finding: Finding, now: datetime) -> list[Notification]:
    """Close the episode: cancel what was never sent, edit what was, reply once in the thread."""
    finding.status, finding.resolved_at, finding.next_action_at = "resolved", now, None
    session.add(finding)
    queued: list[Notification] = []
    sent_notes = session.execute(
        select(Notification).where(Notification.finding_id == finding.id).order_by(Notification.id)
    ).scalars()
    for note in sent_notes:
        if note.status == "pending" and note.kind in (*POSTS, "update"):
            note.status, note.error = "cancelled", "finding resolved before it was sent"
            session.add(note)
        elif note.status == "sent" and note.kind in POSTS:
            queued.append(_queue(session, finding, "resolve_edit", note.to, now, ref_id=note.id))
            if note.kind == "escalation":
                queued.append(_queue(session, finding, "resolution", MANAGERS, now, ref_id=note.id))
    return queued


class SnoozeError(ValueError):
    pass


def snooze(
    session: Session,
    finding: Finding,
    days: int,
    *,
    by: str,
    now: datetime,
    policy: Policy,
    cal: WorkCalendar,
) -> datetime:
    """Hold the owner's reminders (and, but for `overdue`, the escalation) for working days."""
    if finding.status != "open":
        raise SnoozeError("That alert has already cleared; there is nothing to snooze.")
    if not 1 <= days <= policy.snooze_max_days:
        raise SnoozeError(f"Snooze for 1 to {policy.snooze_max_days} working days.")
    until = cal.shift_working_days(now, days)
    held = finding.snoozed_until
    if held is not None and cal.local_date(held) == cal.local_date(until):
        return held  # the same snooze clicked again: it stands as it was, recorded once
    finding.snoozed_until = until
    finding.next_action_at = next_action(finding, policy, cal)
    session.add(finding)
    # History, not progress: a snooze never restarts the stall clock.
    session.add(
        Event(
            task_id=finding.task_id,
            at=now,
            actor=by,
            kind="snooze",
            new=until.isoformat(),
            note=f"{finding.rule} for {days} working day(s)",
        )
    )
    return until
