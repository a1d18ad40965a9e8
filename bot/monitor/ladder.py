"""The escalation ladder of a case: one conversation per task, as quiet as it can be
(product.md §4). Decided from the case's record of what was actually sent; nothing here talks
to Slack or reads a clock.

1. A case opens: its owner (no owner: the creator) is to be told, in the person's pending DM
   if one is waiting (every case due in the same sweep, or waiting for the same start of their
   working day, goes in one DM). A problem joining or clearing edits the messages that show it.
2. Still open an escalation window after the owner was told (`overdue` and "I'm blocked" at
   once; an owner who is away at once too): the managers hear of it, in the day's digest (or
   a message of its own: "I'm blocked", or with `digest=off`).
3. Still open: at most `reminder_cap` reminders, `reminder_every_days` apart, all of one
   person's due the same day in one DM. Snoozing holds them, never the managers.
4. Its last finding clears: resolved, and every message that shows it edited to say why; a
   message of its own gets one reply in its thread.
5. A case that opens again within `regress_days` of resolving is the same case, "back": the
   same messages edited, one short reminder (one of its cap), its escalation where it was.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from bot.calendar import WorkCalendar
from bot.errors import UserError
from bot.models import Case, Event, Finding
from bot.monitor import outbox
from bot.monitor.outbox import MANAGERS
from bot.monitor.policy import Policy
from bot.monitor.rulebook import RULEBOOK


def open_rules(session: Session, case_id: int) -> list[str]:
    return list(
        session.execute(
            select(Finding.rule).where(Finding.case_id == case_id, Finding.status == "open")
        ).scalars()
    )


def open_case(session: Session, task_id: int) -> Case | None:
    return session.execute(
        select(Case).where(Case.task_id == task_id, Case.status == "open")
    ).scalar_one_or_none()


# -- when ------------------------------------------------------------------------------------
def escalation_due(
    case: Case, rules: list[str], policy: Policy, cal: WorkCalendar
) -> datetime | None:
    if case.told_at is None or case.escalated_at is not None:
        return None
    at_once = case.owner_away_until is not None or any(
        RULEBOOK[r].managers_at_once for r in rules if r in RULEBOOK
    )
    window = policy.overdue_escalation_days if at_once else policy.escalation_days
    return cal.shift_working_days(case.told_at, window)


def reminder_due(
    case: Case, rules: list[str], policy: Policy, cal: WorkCalendar
) -> datetime | None:
    if case.told_at is None or case.reminders >= policy.reminder_cap:
        return None
    if not any(RULEBOOK[r].dm_owner for r in rules if r in RULEBOOK):
        return None  # blocked alone: the owner asked for help, it is the managers' now
    due = cal.shift_working_days(case.last_reminder_at or case.told_at, policy.reminder_every_days)
    if case.snoozed_until:
        due = max(due, case.snoozed_until)
    return due


def digest_time(day: date, policy: Policy, cal: WorkCalendar) -> datetime:
    return datetime.combine(day, policy.digest_at, cal.tz).astimezone(UTC)


def next_digest(now: datetime, policy: Policy, cal: WorkCalendar) -> tuple[date, datetime]:
    """The working day whose digest a case escalating at `now` is in, and when it is posted:
    today's if it is a working day (posted at `digest_at`, or now if later, while the day's
    hours last), else the next working day's."""
    today = cal.local_date(now)
    end_of_hours = datetime.combine(today, policy.day_end, cal.tz).astimezone(UTC)
    if cal.is_working_day(today) and now < end_of_hours:
        return today, max(now, digest_time(today, policy, cal))
    day = cal.next_working_day(today)
    return day, digest_time(day, policy, cal)


def next_action(
    case: Case, rules: list[str], now: datetime, policy: Policy, cal: WorkCalendar
) -> datetime | None:
    if case.status != "open":
        return None
    times = [escalation_due(case, rules, policy, cal), reminder_due(case, rules, policy, cal)]
    if case.escalated_at is not None and policy.digest:
        times.append(next_digest(now + timedelta(seconds=1), policy, cal)[1])
    times = [t for t in times if t is not None]
    return min(times) if times else None


def _plan(
    session: Session,
    case: Case,
    now: datetime,
    policy: Policy,
    cal: WorkCalendar,
    rules: list[str] | None = None,
) -> None:
    rules = open_rules(session, case.id) if rules is None else rules
    case.next_action_at = next_action(case, rules, now, policy, cal)
    session.add(case)


# -- opening, joining, clearing ----------------------------------------------------------------
def on_findings(
    session: Session,
    task_id: int,
    opened: list[Finding],
    cleared: list[Finding],
    *,
    recipient: str,
    now: datetime,
    policy: Policy,
    cal: WorkCalendar,
) -> None:
    """The task's findings changed: open (or bring back) its case, show what joined or cleared
    on the messages that show it, resolve it when nothing is left."""
    case = open_case(session, task_id)
    if not opened and not cleared and (case is None or case.recipient == recipient):
        return  # looked at again, nothing changed
    if (
        case is not None
        and case.recipient != recipient
        and (opened or open_rules(session, case.id))
    ):
        # Someone else's now, and still wrong (one that resolves now tells the old owner why).
        hand_over(session, case, recipient, now)
    if opened:
        if case is None:
            case = _reopen(session, task_id, recipient, now, policy, cal) or _new(
                session, task_id, recipient, [f.rule for f in opened], now
            )
        for finding in opened:
            finding.case_id = case.id
            session.add(finding)
        session.flush()
    if case is None:
        return
    if cleared and not open_rules(session, case.id):
        resolve(session, case, now, cal)
        return
    outbox.edit_all(session, case, now, cal.local_date(now).isoformat())
    _plan(session, case, now, policy, cal)


def hand_over(session: Session, case: Case, recipient: str, now: datetime) -> None:
    """The case is someone else's now (reassigned, or the creator's, the owner gone): the old
    recipient's DMs are edited once to say whose it is, then left alone (`outbox.edit_all`
    skips them); what was waiting to go to them is not sent; the new one is told afresh, with
    reminders afresh. A DM handed over stays so if the case comes back to its reader (told in
    a fresh DM), so one person never has two DMs showing the case open."""
    for note in outbox.messages_of(session, case.id, outbox.TO_PEOPLE, live=True):
        if note.status == "pending" and note.sending_at is None:
            outbox.unlink(session, note, case)
        elif note.status == "pending":  # it may be in Slack: found, it is redrawn saying so
            outbox.hand_over(session, note, case, recipient)
        else:
            outbox.hand_over(session, note, case, recipient)
            outbox.edit(session, note, now)
    case.recipient, case.told_at, case.reminders, case.last_reminder_at = recipient, None, 0, None
    _tell(session, case, "dm", now)


def _new(session: Session, task_id: int, recipient: str, rules: list[str], now: datetime) -> Case:
    case = Case(task_id=task_id, opened_at=now, recipient=recipient)
    session.add(case)
    session.flush()
    if any(RULEBOOK[r].dm_owner for r in rules if r in RULEBOOK):
        _tell(session, case, "dm", now)
    else:
        case.told_at = now  # "I'm blocked": the owner asked; it is the managers' at once
    return case


def _tell(session: Session, case: Case, kind: str, now: datetime) -> None:
    """Into the person's pending DM (or reminder) of this kind, or a new one."""
    to = case.recipient or ""
    note = outbox.pending_for(session, kind, to) or outbox.queue(session, kind, to, now)
    outbox.link(session, note, case)


def _reopen(
    session: Session, task_id: int, recipient: str, now: datetime, policy: Policy, cal: WorkCalendar
) -> Case | None:
    """The task's case resolved within `regress_days`, opened again: "back"."""
    last = session.execute(
        select(Case)
        .where(Case.task_id == task_id, Case.status == "resolved")
        .order_by(Case.resolved_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    if last is None or last.resolved_at is None:
        return None
    if cal.shift_working_days(last.resolved_at, policy.regress_days) < now:
        return None
    last.status, last.resolved_at = "open", None
    last.back += 1
    session.add(last)
    session.flush()
    if last.recipient != recipient:  # someone else's now: they are told afresh
        hand_over(session, last, recipient, now)
    elif last.told_at is not None and last.reminders < policy.reminder_cap:
        last.reminders += 1  # one short reminder pointing at it, one of its cap
        last.last_reminder_at = now
        _tell(session, last, "reminder", now)
    elif last.told_at is None:
        _tell(session, last, "dm", now)
    return last


def resolve(session: Session, case: Case, now: datetime, cal: WorkCalendar) -> None:
    """Nothing wrong any more: every message that shows it says so and why; what was never
    sent about it is not sent; a message of its own gets one reply in its thread."""
    case.status, case.resolved_at, case.next_action_at = "resolved", now, None
    session.add(case)
    for note in outbox.messages_of(session, case.id, outbox.POSTS):
        if note.status == "pending" and note.kind in outbox.TO_PEOPLE + ("thread",):
            if note.sending_at is None:  # else it may be in Slack: found, it is redrawn
                outbox.unlink(session, note, case)
        elif note.kind == "escalation" and note.status == "sent":
            reply = outbox.queue(
                session, "thread", MANAGERS, now, ref_id=note.id, task_id=case.task_id
            )
            outbox.link(session, reply, case)
    outbox.edit_all(session, case, now, cal.local_date(now).isoformat())


# -- the steps of an open case -------------------------------------------------------------------
def advance(
    session: Session, case: Case, *, now: datetime, policy: Policy, cal: WorkCalendar
) -> None:
    """Whatever the case is owed at `now`: the managers, a reminder, today's digest."""
    rules = open_rules(session, case.id)
    due = escalation_due(case, rules, policy, cal)
    if due is not None and now >= due:
        escalate(session, case, rules, now, policy, cal)
    due = reminder_due(case, rules, policy, cal)
    if due is not None and now >= due:
        case.reminders += 1
        case.last_reminder_at = now
        _tell(session, case, "reminder", now)
    if case.escalated_at is not None and policy.digest:
        daily_digest(session, now, policy, cal)
    _plan(session, case, now, policy, cal, rules)  # neither step changes its findings


def reminded(session: Session, case_ids: list[int], now: datetime) -> None:
    """A reminder went out: a case's message of its own in the managers' channel (`digest=off`,
    "I'm blocked") is edited to say the owner was reminded; the digest says so when next drawn."""
    for case_id in case_ids:
        for message in outbox.messages_of(session, case_id, ("escalation",)):
            outbox.edit(session, message, now)


def escalate(
    session: Session, case: Case, rules: list[str], now: datetime, policy: Policy, cal: WorkCalendar
) -> None:
    case.escalated_at = now
    session.add(case)
    own = not policy.digest or "blocked" in rules
    if own and not outbox.messages_of(session, case.id, ("escalation",)):
        note = outbox.queue(session, "escalation", MANAGERS, now, task_id=case.task_id)
        outbox.link(session, note, case)
    if policy.digest:
        join_digest(session, case, now, policy, cal)


def join_digest(
    session: Session, case: Case, now: datetime, policy: Policy, cal: WorkCalendar
) -> None:
    """Into the digest of the day: waiting to be posted, it shows the case when it goes;
    posted already, it is edited to add the case, with one reply in its thread naming it."""
    day, at = next_digest(now, policy, cal)
    digest = outbox.by_key(session, f"digest:{day.isoformat()}")
    if digest is None:
        _new_digest(session, day, at, now)
        return
    if session.get(outbox.CaseMessage, (digest.id, case.id)) is not None:
        return
    outbox.link(session, digest, case)
    if digest.status == "sent":
        outbox.edit(session, digest, now)
        if not outbox.messages_of(session, case.id, ("escalation",)):
            # One reply naming it; a case with a message of its own has been named already.
            reply = outbox.queue(
                session, "thread", MANAGERS, now, ref_id=digest.id, task_id=case.task_id
            )
            outbox.link(session, reply, case)


def daily_digest(session: Session, now: datetime, policy: Policy, cal: WorkCalendar) -> None:
    """Today's digest, once it is time, if there is anything in it: every escalated open case."""
    day = cal.local_date(now)
    if not cal.is_working_day(day) or now < digest_time(day, policy, cal):
        return
    key = f"digest:{day.isoformat()}"
    # Every escalated case of a sweep asks; once the day's digest is known to exist (it is
    # never deleted), the sweep's session need not read it again.
    known = session.info.setdefault("digests", set())
    if key in known:
        return
    if outbox.by_key(session, key) is not None or _new_digest(session, day, now, now):
        known.add(key)


def _new_digest(session: Session, day: date, at: datetime, now: datetime) -> bool:
    escalated = session.execute(
        select(Case).where(Case.status == "open", Case.escalated_at.is_not(None)).order_by(Case.id)
    ).scalars()
    cases = list(escalated)
    if not cases:
        return False
    digest = outbox.queue(
        session, "digest", MANAGERS, now, not_before=at, key=f"digest:{day.isoformat()}"
    )
    for case in cases:
        outbox.link(session, digest, case)
    return True


def told(
    session: Session,
    case: Case,
    at: datetime,
    policy: Policy,
    cal: WorkCalendar,
    *,
    away_until: datetime | None = None,
) -> None:
    """The owner was told (or cannot be: away, or gone): the escalation window runs from here.
    An owner who is away sends the case to the managers at once, saying until when."""
    if away_until is not None:
        case.owner_away_until = away_until
    if case.told_at is None:
        case.told_at = at
    _plan(session, case, at, policy, cal)


# -- the owner's snooze --------------------------------------------------------------------------
def snooze(
    session: Session,
    case: Case,
    days: int,
    *,
    by: str,
    now: datetime,
    policy: Policy,
    cal: WorkCalendar,
) -> datetime:
    """Hold the owner's reminders for working days; never the managers. Snoozing to the same
    day again changes nothing."""
    if case.status != "open":
        raise UserError("That alert has already cleared; there is nothing to snooze.")
    if not 1 <= days <= policy.snooze_max_days:
        raise UserError(f"Snooze for 1 to {policy.snooze_max_days} working days.")
    until = cal.shift_working_days(now, days)
    if case.snoozed_until is not None and cal.local_date(case.snoozed_until) == cal.local_date(
        until
    ):
        return case.snoozed_until
    case.snoozed_until = until
    _plan(session, case, now, policy, cal)
    # History, not progress: a snooze never restarts the stall clock.
    session.add(
        Event(
            task_id=case.task_id,
            at=now,
            actor=by,
            kind="snooze",
            new=until.isoformat(),
            note=f"reminders for {days} working day(s)",
        )
    )
    # The managers' entry says it is snoozed, until when.
    outbox.edit_all(session, case, now, cal.local_date(now).isoformat())
    return until
