"""Delivery: send what the ladder decided, and record what Slack said.

Each notification is read in one short transaction, sent with no transaction open (Slack may
be slow; the database must not wait on it), and its outcome written in another. A notification
is marked `sent` only after Slack answered `ok`; a failure leaves it pending for a later sweep
(429: after `Retry-After`; 5xx or a timeout: after a growing back-off), so a message is
delayed, never lost, and never sent twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select, update
from sqlmodel import Session

from bot.db import after_cursor, transaction
from bot.models import LIVE_STATUSES, Finding, Notification, SlackUser, State, Task
from bot.monitor import ladder, people
from bot.monitor.alerts import alert_for, render
from bot.monitor.gateway import CHANNEL, FATAL, RETRY, USER_GONE, DeliveryError
from bot.monitor.ladder import MANAGERS
from bot.monitor.lease import Held
from bot.monitor.monitor import Monitor

log = logging.getLogger(__name__)

MANAGER_HEALTH = "health.manager_channel"
HOLD_WHEN_NO_CHANNEL = timedelta(minutes=15)
CHANNEL_PROBLEM_RETRY = timedelta(hours=1)


@dataclass(frozen=True)
class Sent:
    """One message Slack accepted: the transcript the demo prints and the report counts."""

    at: datetime
    kind: str
    to: str  # a user id, or the managers' channel id
    channel: str
    ts: str
    task_id: int
    rule: str
    text: str


@dataclass
class DeliveryReport:
    sent: list[Sent] = field(default_factory=list)
    failed: int = 0
    cancelled: int = 0
    deferred: int = 0  # waiting for someone's working hours
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
    task_id: int
    finding_id: int
    rule: str
    text: str
    blocks: list[dict]
    ref_channel: str | None
    ref_ts: str | None
    attempts: int


_DUE_BATCH = (
    select(Notification, Finding, Task)
    .join(Finding, Finding.id == Notification.finding_id)
    .join(Task, Task.id == Notification.task_id)
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
            batch, cursor = self._prepare_batch(
                now, cursor, report, limit=min(room, self.m.page_size)
            )
            if not batch:
                return report
            for item in batch:
                if self.held is not None and not await self.held.keep():
                    log.warning(
                        "the sweep lease ran out and another sweep took it; it sends the rest"
                    )
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
        self, now: datetime, cursor: tuple, report: DeliveryReport, limit: int = 200
    ) -> tuple[list[_Prepared], tuple]:
        """One short transaction: the next due notifications, each with its text and blocks
        built as of `now`; those that are no longer owed are cancelled on the way."""
        prepared: list[_Prepared] = []
        with transaction(self.m.engine) as session:
            rows = session.execute(
                _DUE_BATCH,
                {"now": now, "after_at": cursor[0], "after_id": cursor[1], "limit": limit},
            ).all()
            if not rows:
                return prepared, cursor
            ref_ids = [n.ref_id for n, _, _ in rows if n.ref_id]
            refs = (
                {
                    r.id: r
                    for r in session.execute(
                        select(Notification).where(Notification.id.in_(ref_ids))
                    ).scalars()
                }
                if ref_ids
                else {}
            )
            alerts: dict[int, object] = {}
            for note, finding, task in rows:
                ref = refs.get(note.ref_id) if note.ref_id else None
                skip = self._why_not(note, finding, ref)
                if skip:
                    note.status, note.error = "cancelled", skip
                    report.cancelled += 1
                    continue
                if finding.id not in alerts:
                    alerts[finding.id] = alert_for(
                        session, task, finding, now, self.m.policy, self.m.cal
                    )
                text, blocks = render(alerts[finding.id], note, ref)
                prepared.append(
                    _Prepared(
                        note.id,
                        note.kind,
                        note.to,
                        note.task_id,
                        finding.id,
                        finding.rule,
                        text,
                        blocks,
                        ref.channel if ref else None,
                        ref.ts if ref else None,
                        note.attempts,
                    )
                )
            last = rows[-1][0]
        return prepared, (last.not_before, last.id)

    # -- one notification ------------------------------------------------------------------
    async def _deliver_one(self, item: _Prepared, now: datetime, report: DeliveryReport) -> str:
        kind, to, text, blocks = item.kind, item.to, item.text, item.blocks
        try:
            if kind in ("dm", "reminder"):
                wait_until = await self._owner_hours(to, now)
                if wait_until is not None:
                    self._defer(item.note_id, wait_until)
                    report.deferred += 1
                    return "skip"
                channel = await self.m.gateway.open_dm(to)
                await self._pace(channel)
                channel, ts = await self.m.gateway.post(channel, text, blocks)
            elif kind == "escalation":
                if not self.m.manager_channel:
                    self._hold(
                        item.note_id, now + HOLD_WHEN_NO_CHANNEL, "MANAGER_CHANNEL is not set"
                    )
                    report.held += 1
                    report.problems.append("MANAGER_CHANNEL is not set: escalations are held")
                    return "skip"
                if not self.m.cal.is_working_time(now):
                    self._defer(item.note_id, self.m.cal.next_working_time(now))
                    report.deferred += 1
                    return "skip"
                await self._pace(self.m.manager_channel)
                channel, ts = await self.m.gateway.post(self.m.manager_channel, text, blocks)
            elif kind == "resolution":
                await self._pace(item.ref_channel)
                channel, ts = await self.m.gateway.post(
                    item.ref_channel, text, blocks, thread_ts=item.ref_ts
                )
            else:  # update, resolve_edit: the message already in Slack changes in place
                await self._pace(item.ref_channel)
                await self.m.gateway.update(item.ref_channel, item.ref_ts, text, blocks)
                channel, ts = item.ref_channel, item.ref_ts
        except DeliveryError as err:
            return self._failed(item.note_id, to, err, now, report)
        self._mark_sent(item, channel, ts, now)
        recipient = self.m.manager_channel if to == MANAGERS else to
        report.sent.append(
            Sent(now, kind, recipient or "", channel, ts, item.task_id, item.rule, text)
        )
        return "sent"

    def _mark_sent(self, item: _Prepared, channel: str, ts: str, now: datetime) -> None:
        """Recorded the moment Slack said ok, one notification at a time: a crash after this
        line cannot send it again, and one before it loses at most this one's record."""
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
                ladder.settle_dm(
                    session.get(Finding, item.finding_id), now, self.m.policy, self.m.cal
                )
            if item.kind == "escalation":
                self._set_health(session, None)

    @staticmethod
    def _why_not(note: Notification, finding: Finding, ref: Notification | None) -> str | None:
        if note.kind in (*ladder.POSTS, "update") and finding.status != "open":
            return "finding resolved before it was sent"
        if note.kind in ("update", "resolve_edit", "resolution") and (
            ref is None or ref.status != "sent"
        ):
            return "the message it refers to was never sent"
        return None

    # -- outcomes --------------------------------------------------------------------------
    def _failed(
        self, note_id: int, to: str, err: DeliveryError, now: datetime, report: DeliveryReport
    ) -> str:
        with transaction(self.m.engine) as session:
            note = session.get(Notification, note_id)
            note.attempts += 1
            note.error = err.error
            if err.kind == RETRY:
                note.not_before = now + _backoff(note.attempts, err.retry_after)
                report.held += 1
                log.warning(
                    "Slack said %s; notification %s waits until %s",
                    err.error,
                    note_id,
                    note.not_before,
                )
                return "stop"  # Slack is struggling or limiting us: the rest waits too
            if err.kind == CHANNEL and to == MANAGERS:
                note.not_before = now + CHANNEL_PROBLEM_RETRY
                self._set_health(
                    session, f"managers' channel {self.m.manager_channel}: {err.error}"
                )
                report.held += 1
                report.problems.append(f"managers' channel {self.m.manager_channel}: {err.error}")
                log.error(
                    "cannot post to the managers' channel %s: %s", self.m.manager_channel, err.error
                )
                return "skip"
            note.status = "failed"
            report.failed += 1
            finding = session.get(Finding, note.finding_id)
            if note.kind == "dm":
                ladder.settle_dm(finding, now, self.m.policy, self.m.cal)
            if err.kind == USER_GONE:
                self._user_left(session, to, now)
            elif err.kind == FATAL:
                log.error("Slack refused notification %s (%s): %s", note_id, note.kind, err.error)
        return "skip"

    def _user_left(self, session: Session, user_id: str, now: datetime) -> None:
        """An owner who left turns into `missing_owner` on the next look at their tasks."""
        user = session.get(SlackUser, user_id) or SlackUser(id=user_id, fetched_at=now)
        user.deleted, user.fetched_at = True, now
        session.add(user)
        self.m.users[user_id] = (user.tz, True, now)
        session.execute(
            update(Task)
            .where(Task.owner_id == user_id, Task.status.in_(LIVE_STATUSES))
            .values(next_check_at=now)
        )

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
    async def _owner_hours(self, user_id: str, now: datetime) -> datetime | None:
        """None when it is working time for this person now, else when it next will be."""
        tz = await self._user_tz(user_id, now)
        cal = self.m.cal.in_zone(tz) if tz else self.m.cal
        return None if cal.is_working_time(now) else cal.next_working_time(now)

    async def _user_tz(self, user_id: str, now: datetime) -> str | None:
        """The person's time zone from users.info, cached in memory and in `slack_user`."""
        cached = self.m.users.get(user_id)
        if cached is None:
            with transaction(self.m.engine) as session:
                row = session.get(SlackUser, user_id)
                if row:
                    cached = (row.tz, row.deleted, row.fetched_at)
        if cached is None or cached[2] <= now - self.m.user_cache_ttl:
            info = await self.m.gateway.user_info(user_id)  # DeliveryError passes up
            with transaction(self.m.engine) as session:
                people.record(session, info, now)
            cached = (info.tz, info.deleted, now)
        self.m.users[user_id] = cached
        if cached[1]:
            raise DeliveryError(USER_GONE, "account_inactive")
        return cached[0]

    async def _pace(self, channel: str) -> None:
        last = self._last_post.get(channel)
        if last is not None:
            wait = 1.0 - (self.m.monotonic() - last)
            if wait > 0:
                await self.m.sleep(wait)
        self._last_post[channel] = self.m.monotonic()
