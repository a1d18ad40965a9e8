"""What Slack said about a message, written down: sent (the moment Slack said ok), or failed,
and what follows from either (the ladder told, the managers' channel's health, an owner who
left)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session

from bot.db import transaction
from bot.models import LIVE_STATUSES, Case, Notification, SlackUser, State, Task
from bot.monitor import ladder, outbox
from bot.monitor.gateway import CHANNEL, FATAL, RETRY, USER_GONE, DeliveryError
from bot.monitor.monitor import Monitor
from bot.monitor.outbox import MANAGERS, TO_PEOPLE
from bot.monitor.sendable import DeliveryReport, Prepared

log = logging.getLogger(__name__)

MANAGER_HEALTH = "health.manager_channel"
CHANNEL_PROBLEM_RETRY = timedelta(hours=1)


def backoff(attempts: int, retry_after: float | None) -> timedelta:
    base = min(3600.0, 30.0 * 2 ** max(0, attempts - 1))
    return timedelta(seconds=max(base, retry_after or 0.0))


def mark_sent(m: Monitor, item: Prepared, channel: str, ts: str, now: datetime) -> None:
    """Recorded the moment Slack said ok (or the message was found in Slack after a crash),
    one notification at a time."""
    with transaction(m.engine) as session:
        session.execute(
            update(Notification)
            .where(Notification.id == item.note_id)
            .values(
                status="sent",
                sent_at=now,
                channel=channel,
                ts=ts,
                text=item.text,
                attempts=item.attempts + 1,
                error=None,
            )
        )
        if item.kind == "dm":
            told(m, session, item.note_id, now)
        elif item.kind == "reminder":
            ladder.reminded(session, outbox.cases_of(session, item.note_id), now)
        if item.to == MANAGERS:
            set_health(session, None)


def cancel(m: Monitor, item: Prepared, why: str) -> None:
    with transaction(m.engine) as session:
        note = session.get(Notification, item.note_id)
        note.status, note.error = "cancelled", why


def redraw_cases(m: Monitor, item: Prepared, now: datetime) -> None:
    """Every message of the cases `item` shows, edited to show them as they are now, and
    `item` itself: a DM whose case was handed over while it was being sent is no longer one
    of the case's own messages, and says once whose the case is now."""
    today = m.cal.local_date(now).isoformat()
    with transaction(m.engine) as session:
        for case_id in outbox.cases_of(session, item.note_id):
            outbox.edit_all(session, session.get(Case, case_id), now, today)
        note = session.get(Notification, item.note_id)
        if note is not None:
            outbox.edit(session, note, now)


def told(
    m: Monitor, session: Session, note_id: int, now: datetime, away_until: datetime | None = None
) -> None:
    for case_id in outbox.cases_of(session, note_id):
        case = session.get(Case, case_id)
        if case is not None and case.status == "open":
            ladder.told(session, case, now, m.policy, m.cal, away_until=away_until)


def failed(
    m: Monitor, item: Prepared, err: DeliveryError, now: datetime, report: DeliveryReport
) -> str:
    """ "stop" when Slack is struggling or limiting us (the rest waits too), else "skip"."""
    with transaction(m.engine) as session:
        note = session.get(Notification, item.note_id)
        note.attempts += 1
        note.error = err.error
        if err.kind == RETRY:
            note.not_before = now + backoff(note.attempts, err.retry_after)
            report.held += 1
            log.warning(
                "Slack said %s; notification %s waits until %s", err.error, note.id, note.not_before
            )
            return "stop"
        if err.kind == CHANNEL and note.to == MANAGERS:
            note.not_before = now + CHANNEL_PROBLEM_RETRY
            problem = f"managers' channel {m.manager_channel}: {err.error}"
            set_health(session, problem)
            report.held += 1
            report.problems.append(problem)
            log.error("cannot post to the managers' channel %s: %s", m.manager_channel, err.error)
            return "skip"
        note.status = "failed"
        report.failed += 1
        if note.kind == "dm":
            told(m, session, note.id, now)  # cannot be told: the managers' window runs
        if err.kind == USER_GONE and note.kind in TO_PEOPLE:
            user_left(m, session, note.to, now)
        elif err.kind == FATAL:
            log.error("Slack refused notification %s (%s): %s", note.id, note.kind, err.error)
    return "skip"


def user_left(m: Monitor, session: Session, user_id: str, now: datetime) -> None:
    """An owner who left turns into `missing_owner` on the next look at their tasks."""
    user = session.get(SlackUser, user_id) or SlackUser(id=user_id, fetched_at=now)
    user.deleted, user.fetched_at = True, now
    session.add(user)
    m.users.pop(user_id, None)
    session.execute(
        update(Task)
        .where(Task.owner_id == user_id, Task.status.in_(LIVE_STATUSES))
        .values(next_check_at=now)
    )


def set_health(session: Session, problem: str | None) -> None:
    state = session.get(State, MANAGER_HEALTH) or State(key=MANAGER_HEALTH)
    state.value = problem
    session.add(state)
