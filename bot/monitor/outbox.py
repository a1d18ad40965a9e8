"""The outbox: Slack calls decided and stored before they are made (product.md §7).

A post makes a message: `dm` and `reminder` to a person (one per person at a time: a case
that needs telling joins the person's pending one), `digest` (one a working day) and
`escalation` (a case's message of its own) to the managers' channel, `thread` (a reply under a
managers' message). An `edit` changes a posted message to show its cases as they are now; one
pending edit per message is enough, since it renders when it is sent. `case_message` says which
cases a message shows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session

from bot.models import Case, CaseMessage, Notification

MANAGERS = "managers"  # the `to` of a notification meant for the managers' channel
POSTS = ("dm", "reminder", "digest", "escalation", "thread")
TO_PEOPLE = ("dm", "reminder")  # the posts that ping a person


def queue(
    session: Session,
    kind: str,
    to: str,
    now: datetime,
    *,
    not_before: datetime | None = None,
    ref_id: int | None = None,
    key: str | None = None,
    task_id: int | None = None,
) -> Notification:
    note = Notification(
        kind=kind,
        to=to,
        key=key,
        ref_id=ref_id,
        task_id=task_id,
        decided_at=now,
        not_before=not_before or now,
    )
    session.add(note)
    session.flush()
    return note


def link(session: Session, note: Notification, case: Case) -> None:
    """`note` shows `case` too (after the cases it already shows)."""
    if session.get(CaseMessage, (note.id, case.id)) is not None:
        return
    last = session.execute(
        select(func.max(CaseMessage.position)).where(CaseMessage.notification_id == note.id)
    ).scalar()
    session.add(CaseMessage(notification_id=note.id, case_id=case.id, position=(last or 0) + 1))
    if note.task_id is None and last is None:
        note.task_id = case.task_id


def unlink(session: Session, note: Notification, case: Case) -> None:
    row = session.get(CaseMessage, (note.id, case.id))
    if row is not None:
        session.delete(row)


def pending_for(session: Session, kind: str, to: str) -> Notification | None:
    """The person's message of this kind not sent yet, which a case to tell joins."""
    return session.execute(
        select(Notification)
        .where(Notification.kind == kind, Notification.to == to, Notification.status == "pending")
        .order_by(Notification.id)
        .limit(1)
    ).scalar_one_or_none()


def by_key(session: Session, key: str) -> Notification | None:
    return session.execute(select(Notification).where(Notification.key == key)).scalar_one_or_none()


def hand_over(session: Session, note: Notification, case: Case, to: str | None) -> None:
    """`note` (a DM) shows `case` as handed over to `to` from now on, whoever it is with later."""
    row = session.get(CaseMessage, (note.id, case.id))
    if row is not None:
        row.handed_to = to
        session.add(row)


def messages_of(
    session: Session, case_id: int, kinds: tuple[str, ...], *, live: bool = False
) -> list[Notification]:
    """The messages of these kinds that show the case, oldest first; `live`: only those still
    following it (not DMs that handed it over to someone else)."""
    query = (
        select(Notification)
        .join(CaseMessage, CaseMessage.notification_id == Notification.id)
        .where(CaseMessage.case_id == case_id, Notification.kind.in_(kinds))
    )
    if live:
        query = query.where(CaseMessage.handed_to.is_(None))
    return list(session.execute(query.order_by(Notification.id)).scalars())


def cases_of(session: Session, note_id: int) -> list[int]:
    return list(
        session.execute(
            select(CaseMessage.case_id)
            .where(CaseMessage.notification_id == note_id)
            .order_by(CaseMessage.position)
        ).scalars()
    )


def edit(session: Session, message: Notification, now: datetime) -> Notification | None:
    """Show `message`'s cases as they are now: one pending edit per message. A message not
    sent yet needs none (it renders when it goes), nor one that failed or was cancelled."""
    if message.status != "sent":
        return None
    waiting = session.execute(
        select(Notification).where(
            Notification.kind == "edit",
            Notification.ref_id == message.id,
            Notification.status == "pending",
        )
    ).scalar_one_or_none()
    if waiting is not None:
        return waiting
    return queue(session, "edit", message.to, now, ref_id=message.id, task_id=message.task_id)


def edit_all(session: Session, case: Case, now: datetime, today: str | None = None) -> None:
    """Every message that shows the case, edited to show it as it is now; of the digests, only
    today's (`digest:<today>`): those of earlier days are the record of those days; of the DMs,
    not those that handed it over (one says so once, then is left alone)."""
    kinds = ("dm", "reminder", "digest", "escalation")
    for message in messages_of(session, case.id, kinds, live=True):
        if message.kind == "digest" and message.key != f"digest:{today}":
            continue
        edit(session, message, now)
