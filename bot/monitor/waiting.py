"""Whether a message may go now: a person is written to in their working hours, never while
their status says they are away, and never more than `ping_cap` times on a working day; the
managers' channel in the team's working hours, once it is set. A message that must wait gets
the instant it may go."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.calendar import WorkCalendar
from bot.db import transaction
from bot.models import Notification, SlackUser
from bot.monitor import people
from bot.monitor.gateway import USER_GONE, DeliveryError
from bot.monitor.monitor import Monitor
from bot.monitor.outbox import MANAGERS, TO_PEOPLE
from bot.monitor.outcomes import set_health, told
from bot.monitor.sendable import DeliveryReport, Prepared

HOLD_WHEN_NO_CHANNEL = timedelta(minutes=15)


async def must_wait(m: Monitor, item: Prepared, now: datetime, report: DeliveryReport) -> bool:
    """Whether this message must wait: for the person's working hours, their return, the
    next working day (they have had enough today), or the managers' channel. Raises the
    USER_GONE DeliveryError for someone who left."""
    if item.kind in TO_PEOPLE:
        return await _person_must_wait(m, item, now, report)
    if item.to == MANAGERS and item.kind != "edit":
        if not m.manager_channel:
            _hold(m, item.note_id, now + HOLD_WHEN_NO_CHANNEL, "MANAGER_CHANNEL is not set")
            report.held += 1
            report.problems.append("MANAGER_CHANNEL is not set: escalations are held")
            return True
        if not m.cal.is_working_time(now):
            _defer(m, item.note_id, m.cal.next_working_time(now))
            report.deferred += 1
            return True
    return False


async def _person_must_wait(
    m: Monitor, item: Prepared, now: datetime, report: DeliveryReport
) -> bool:
    person = await _person(m, item.to, now)
    away, until = people.away_until(person, now)
    if away:
        _hold_for_away(m, item, now, until)
        report.deferred += 1
        return True
    tz = person.tz if person else None
    cal = m.cal.in_zone(tz) if tz else m.cal
    if not cal.is_working_time(now):
        _defer(m, item.note_id, cal.next_working_time(now))
        report.deferred += 1
        return True
    if _pings_today(m, item.to, cal, now) >= m.policy.ping_cap:
        tomorrow = cal.start_of_day(cal.next_working_day(cal.local_date(now)))
        _defer(m, item.note_id, cal.next_working_time(tomorrow))
        report.deferred += 1
        return True
    return False


def _hold_for_away(m: Monitor, item: Prepared, now: datetime, until: datetime | None) -> None:
    """No DMs while away: this waits for their return (looked at again daily when the
    status has no end), and a first DM's cases go to the managers now, saying until when."""
    back = until or m.cal.shift_working_days(now, 1)
    with transaction(m.engine) as session:
        session.get(Notification, item.note_id).not_before = back
        if item.kind == "dm":
            told(m, session, item.note_id, now, away_until=until or back)


def _defer(m: Monitor, note_id: int, until: datetime) -> None:
    with transaction(m.engine) as session:
        session.get(Notification, note_id).not_before = until


def _hold(m: Monitor, note_id: int, until: datetime, why: str) -> None:
    with transaction(m.engine) as session:
        note = session.get(Notification, note_id)
        note.not_before, note.error = until, why
        set_health(session, why)


def _pings_today(m: Monitor, user_id: str, cal: WorkCalendar, now: datetime) -> int:
    """Messages (not edits) Vigil sent this person since the start of their day."""
    with transaction(m.engine) as session:
        return session.execute(
            select(func.count()).where(
                Notification.to == user_id,
                Notification.kind.in_(TO_PEOPLE),
                Notification.status == "sent",
                Notification.sent_at >= cal.start_of_day(cal.local_date(now)),
            )
        ).scalar_one()


async def _person(m: Monitor, user_id: str, now: datetime) -> SlackUser | None:
    """What Slack says of the person, from users.info, cached for `user_cache_ttl`; raises
    the USER_GONE DeliveryError for someone who left."""
    with transaction(m.engine) as session:
        row = session.get(SlackUser, user_id)
    if row is None or row.fetched_at <= now - m.user_cache_ttl or user_id not in m.users:
        info = await m.gateway.user_info(user_id)  # DeliveryError passes up
        with transaction(m.engine) as session:
            people.record(session, info, now)
            row = session.get(SlackUser, user_id)
        m.users[user_id] = (row.tz, row.deleted, now)
    if row.deleted:
        raise DeliveryError(USER_GONE, "account_inactive")
    return row
