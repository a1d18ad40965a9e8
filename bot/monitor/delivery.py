"""Delivery: send what the ladder decided, and record what Slack said.

Each notification is read and rendered in one short transaction, sent with no transaction open
(Slack may be slow; the database must not wait on it), and its outcome written in another. It
is marked `sent` only after Slack answered `ok`; a failure leaves it pending for a later sweep
(429: after `Retry-After`; 5xx or a timeout: after a growing back-off), so a message is
delayed, never lost. A person is written to in their working hours, never while their status
says they are away, and never more than `ping_cap` times on a working day; the managers'
channel in the team's working hours.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select, update
from sqlmodel import Session

from bot.db import after_cursor, transaction
from bot.models import LIVE_STATUSES, Case, Notification, SlackUser, State, Task
from bot.monitor import ladder, outbox, people
from bot.monitor.alerts import CaseViews, render
from bot.monitor.gateway import CHANNEL, FATAL, RETRY, USER_GONE, DeliveryError
from bot.monitor.lease import Held
from bot.monitor.monitor import Monitor
from bot.monitor.outbox import MANAGERS, TO_PEOPLE

log = logging.getLogger(__name__)

MANAGER_HEALTH = "health.manager_channel"
HOLD_WHEN_NO_CHANNEL = timedelta(minutes=15)
CHANNEL_PROBLEM_RETRY = timedelta(hours=1)


@dataclass(frozen=True)
class Sent:
    """One message Slack accepted: the transcript the demo prints and the report counts."""

    at: datetime
    kind: str  # dm, reminder, digest, escalation, thread, edit
    to: str  # a user id, or the managers' channel id
    channel: str
    ts: str
    task_ids: tuple[int, ...]
    rules: tuple[str, ...]
    text: str
    ref_kind: str | None = None  # for an edit or a thread reply: the kind of the message it is on


@dataclass
class DeliveryReport:
    sent: list[Sent] = field(default_factory=list)
    failed: int = 0
    cancelled: int = 0
    deferred: int = 0  # waiting for someone's working hours, their return, or tomorrow
    held: int = 0  # waiting for Slack (429, 5xx) or for a usable managers' channel
    left: int = 0  # due, but over this sweep's budget
    problems: list[str] = field(default_factory=list)


def _backoff(attempts: int, retry_after: float | None) -> timedelta:
    base = min(3600.0, 30.0 * 2 ** max(0, attempts - 1))
    return timedelta(seconds=max(base, retry_after or 0.0))


@dataclass(frozen=True)
class _Prepared:
    note_id: int
    kind: str
    to: str
    text: str
    blocks: list[dict]
    task_ids: tuple[int, ...]
    rules: tuple[str, ...]
    ref_kind: str | None
    ref_channel: str | None
    ref_ts: str | None
    attempts: int


_DUE_BATCH = (
    select(Notification)
    .where(
        Notification.status == "pending",
        Notification.not_before <= bindparam("now"),
        after_cursor(Notification.not_before, Notification.id),
    )
    .order_by(Notification.not_before, Notification.id)
    .limit(bindparam("limit"))
)


class Deliverer:
    def __init__(self, monitor: Monitor, held: Held | None = None) -> None:
        self.m = monitor
        self.held = held  # the sweep lease: nothing is sent once another sweep has it
        self._last_post: dict[str, float] = {}

    async def deliver_due(self, now: datetime, budget: int | None = None) -> DeliveryReport:
        report = DeliveryReport()
        budget = self.m.policy.send_budget if budget is None else budget
        if self.m.gateway is None:
            return report
        cursor: tuple = (now - timedelta(days=36500), 0)
        while True:
            room = budget - len(report.sent)
            if room <= 0:
                # Over this sweep's budget: count what waits, without building its messages.
                report.left += self._count_due(now)
                return report
            batch, cursor = self._prepare_batch(now, cursor, report, min(room, self.m.page_size))
            if not batch:
                return report
            for item in batch:
                if self.held is not None and not await self.held.keep():
                    log.warning("the sweep lease ran out and another sweep took it")
                    report.problems.append("the sweep lease ran out: another sweep sends the rest")
                    report.left += self._count_due(now)
                    return report
                if await self._deliver_one(item, now, report) == "stop":
                    # Slack is struggling or limiting us: everything else waits too.
                    report.left += self._count_due(now)
                    return report
                if len(report.sent) >= budget:
                    break

    def _count_due(self, now: datetime) -> int:
        with transaction(self.m.engine) as session:
            return session.execute(
                select(func.count()).where(
                    Notification.status == "pending", Notification.not_before <= now
                )
            ).scalar_one()

    def _prepare_batch(
        self, now: datetime, cursor: tuple, report: DeliveryReport, limit: int
    ) -> tuple[list[_Prepared], tuple]:
        """One short transaction: the next due notifications, each rendered as of `now`; those
        with nothing left to say are cancelled on the way."""
        prepared: list[_Prepared] = []
        m = self.m
        with transaction(m.engine) as session:
            notes = list(
                session.execute(
                    _DUE_BATCH,
                    {"now": now, "after_at": cursor[0], "after_id": cursor[1], "limit": limit},
                ).scalars()
            )
            if not notes:
                return prepared, cursor
            views = CaseViews(session, now, m.policy, m.cal)
            views.read_ahead(notes)  # the cases of the whole batch, a few statements in all
            for note in notes:
                ref = session.get(Notification, note.ref_id) if note.ref_id else None
                if note.kind in ("edit", "thread") and (ref is None or ref.status != "sent"):
                    note.status, note.error = "cancelled", "the message it refers to was never sent"
                    report.cancelled += 1
                    continue
                shown = render(session, note, now, m.policy, m.cal, views)
                if shown.empty:
                    note.status, note.error = "cancelled", "nothing left to say"
                    report.cancelled += 1
                    continue
                prepared.append(
                    _Prepared(
                        note.id,
                        note.kind,
                        note.to,
                        shown.text,
                        shown.blocks,
                        shown.task_ids,
                        shown.rules,
                        ref.kind if ref else None,
                        ref.channel if ref else None,
                        ref.ts if ref else None,
                        note.attempts,
                    )
                )
            last = notes[-1]
        return prepared, (last.not_before, last.id)

    # -- one notification ------------------------------------------------------------------
    async def _deliver_one(self, item: _Prepared, now: datetime, report: DeliveryReport) -> str:
        try:
            wait = await self._wait_for(item, now, report)
            if wait == "skip":
                return "skip"
            channel, ts = await self._send(item)
        except DeliveryError as err:
            return self._failed(item, err, now, report)
        self._mark_sent(item, channel, ts, now)
        recipient = self.m.manager_channel if item.to == MANAGERS else item.to
        report.sent.append(
            Sent(
                now,
                item.kind,
                recipient or "",
                channel,
                ts,
                item.task_ids,
                item.rules,
                item.text,
                ref_kind=item.ref_kind,
            )
        )
        return "sent"

    async def _wait_for(self, item: _Prepared, now: datetime, report: DeliveryReport) -> str | None:
        """Whether this message must wait: for the person's working hours, their return, the
        next working day (they have had enough today), or the managers' channel."""
        if item.kind in TO_PEOPLE:
            person = await self._person(item.to, now)
            away, until = people.away_until(person, now)
            if away:
                self._hold_for_away(item, now, until)
                report.deferred += 1
                return "skip"
            tz = person.tz if person else None
            cal = self.m.cal.in_zone(tz) if tz else self.m.cal
            if not cal.is_working_time(now):
                self._defer(item.note_id, cal.next_working_time(now))
                report.deferred += 1
                return "skip"
            if self._pings_today(item.to, cal, now) >= self.m.policy.ping_cap:
                self._defer(
                    item.note_id,
                    cal.next_working_time(
                        cal.start_of_day(cal.next_working_day(cal.local_date(now)))
                    ),
                )
                report.deferred += 1
                return "skip"
        elif item.to == MANAGERS and item.kind != "edit":
            if not self.m.manager_channel:
                self._hold(item.note_id, now + HOLD_WHEN_NO_CHANNEL, "MANAGER_CHANNEL is not set")
                report.held += 1
                report.problems.append("MANAGER_CHANNEL is not set: escalations are held")
                return "skip"
            if not self.m.cal.is_working_time(now):
                self._defer(item.note_id, self.m.cal.next_working_time(now))
                report.deferred += 1
                return "skip"
        return None

    async def _send(self, item: _Prepared) -> tuple[str, str]:
        gateway = self.m.gateway
        if item.kind == "edit":
            await self._pace(item.ref_channel)
            await gateway.update(item.ref_channel, item.ref_ts, item.text, item.blocks)
            return item.ref_channel, item.ref_ts
        if item.kind in TO_PEOPLE:
            channel = await gateway.open_dm(item.to)
        else:
            channel = item.ref_channel if item.kind == "thread" else self.m.manager_channel
        await self._pace(channel)
        return await gateway.post(
            channel,
            item.text,
            item.blocks,
            thread_ts=item.ref_ts if item.kind == "thread" else None,
            metadata={"event_type": "vigil_notification", "event_payload": {"id": item.note_id}},
        )

    def _mark_sent(self, item: _Prepared, channel: str, ts: str, now: datetime) -> None:
        """Recorded the moment Slack said ok, one notification at a time."""
        with transaction(self.m.engine) as session:
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
                self._told(session, item.note_id, now)
            elif item.kind == "reminder":
                ladder.reminded(session, outbox.cases_of(session, item.note_id), now)
            if item.to == MANAGERS:
                self._set_health(session, None)

    def _told(
        self, session: Session, note_id: int, now: datetime, away_until: datetime | None = None
    ) -> None:
        for case_id in outbox.cases_of(session, note_id):
            case = session.get(Case, case_id)
            if case is not None and case.status == "open":
                ladder.told(session, case, now, self.m.policy, self.m.cal, away_until=away_until)

    # -- outcomes --------------------------------------------------------------------------
    def _failed(
        self, item: _Prepared, err: DeliveryError, now: datetime, report: DeliveryReport
    ) -> str:
        with transaction(self.m.engine) as session:
            note = session.get(Notification, item.note_id)
            note.attempts += 1
            note.error = err.error
            if err.kind == RETRY:
                note.not_before = now + _backoff(note.attempts, err.retry_after)
                report.held += 1
                log.warning(
                    "Slack said %s; notification %s waits until %s",
                    err.error,
                    note.id,
                    note.not_before,
                )
                return "stop"  # Slack is struggling or limiting us: the rest waits too
            if err.kind == CHANNEL and note.to == MANAGERS:
                note.not_before = now + CHANNEL_PROBLEM_RETRY
                problem = f"managers' channel {self.m.manager_channel}: {err.error}"
                self._set_health(session, problem)
                report.held += 1
                report.problems.append(problem)
                log.error(
                    "cannot post to the managers' channel %s: %s", self.m.manager_channel, err.error
                )
                return "skip"
            note.status = "failed"
            report.failed += 1
            if note.kind == "dm":
                self._told(session, note.id, now)  # cannot be told: the managers' window runs
            if err.kind == USER_GONE and note.kind in TO_PEOPLE:
                self._user_left(session, note.to, now)
            elif err.kind == FATAL:
                log.error("Slack refused notification %s (%s): %s", note.id, note.kind, err.error)
        return "skip"

    def _user_left(self, session: Session, user_id: str, now: datetime) -> None:
        """An owner who left turns into `missing_owner` on the next look at their tasks."""
        user = session.get(SlackUser, user_id) or SlackUser(id=user_id, fetched_at=now)
        user.deleted, user.fetched_at = True, now
        session.add(user)
        self.m.users.pop(user_id, None)
        session.execute(
            update(Task)
            .where(Task.owner_id == user_id, Task.status.in_(LIVE_STATUSES))
            .values(next_check_at=now)
        )

    def _hold_for_away(self, item: _Prepared, now: datetime, until: datetime | None) -> None:
        """No DMs while away: this waits for their return (looked at again daily when the
        status has no end), and a first DM's cases go to the managers now, saying until when."""
        back = until or self.m.cal.shift_working_days(now, 1)
        with transaction(self.m.engine) as session:
            session.get(Notification, item.note_id).not_before = back
            if item.kind == "dm":
                self._told(session, item.note_id, now, away_until=until or back)

    def _defer(self, note_id: int, until: datetime) -> None:
        with transaction(self.m.engine) as session:
            session.get(Notification, note_id).not_before = until

    def _hold(self, note_id: int, until: datetime, why: str) -> None:
        with transaction(self.m.engine) as session:
            note = session.get(Notification, note_id)
            note.not_before, note.error = until, why
            self._set_health(session, why)

    @staticmethod
    def _set_health(session: Session, problem: str | None) -> None:
        state = session.get(State, MANAGER_HEALTH) or State(key=MANAGER_HEALTH)
        state.value = problem
        session.add(state)

    # -- people and pacing -----------------------------------------------------------------
    def _pings_today(self, user_id: str, cal, now: datetime) -> int:  # type: ignore[no-untyped-def]
        """Messages (not edits) Vigil sent this person since the start of their day."""
        with transaction(self.m.engine) as session:
            return session.execute(
                select(func.count()).where(
                    Notification.to == user_id,
                    Notification.kind.in_(TO_PEOPLE),
                    Notification.status == "sent",
                    Notification.sent_at >= cal.start_of_day(cal.local_date(now)),
                )
            ).scalar_one()

    async def _person(self, user_id: str, now: datetime) -> SlackUser | None:
        """What Slack says of the person, from users.info, cached for `user_cache_ttl`; raises
        the USER_GONE DeliveryError for someone who left."""
        with transaction(self.m.engine) as session:
            row = session.get(SlackUser, user_id)
        if (
            row is None
            or row.fetched_at <= now - self.m.user_cache_ttl
            or user_id not in self.m.users
        ):
            info = await self.m.gateway.user_info(user_id)  # DeliveryError passes up
            with transaction(self.m.engine) as session:
                people.record(session, info, now)
                row = session.get(SlackUser, user_id)
            self.m.users[user_id] = (row.tz, row.deleted, now)
        if row.deleted:
            raise DeliveryError(USER_GONE, "account_inactive")
        return row

    async def _pace(self, channel: str | None) -> None:
        last = self._last_post.get(channel or "")
        if last is not None:
            wait = 1.0 - (self.m.monotonic() - last)
            if wait > 0:
                await self.m.sleep(wait)
        self._last_post[channel or ""] = self.m.monotonic()
