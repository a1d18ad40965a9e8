"""Delivery: send what the ladder decided, and record what Slack said.

Each notification is read and rendered in one short transaction, sent with no transaction open
(Slack may be slow; the database must not wait on it), and its outcome written in another. A
post's attempt is recorded before Slack is asked, and one that an earlier attempt may have left
in Slack is looked for there first (bot/monitor/reconcile.py), so a crash between Slack's `ok`
and the record of it sends nothing twice. It is marked `sent` only after Slack answered `ok`; a
failure leaves it pending for a later sweep (429: after `Retry-After`; 5xx or a timeout: after a
growing back-off), so a message is delayed, never lost. When a message may go is
bot/monitor/waiting.py; what Slack's answer changes, bot/monitor/outcomes.py.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select

from bot.db import after_cursor, transaction
from bot.models import Notification
from bot.monitor import outcomes, reconcile, waiting
from bot.monitor.alerts import CaseViews, render
from bot.monitor.gateway import DeliveryError
from bot.monitor.lease import Held
from bot.monitor.monitor import Monitor
from bot.monitor.outbox import MANAGERS, TO_PEOPLE
from bot.monitor.outcomes import MANAGER_HEALTH
from bot.monitor.sendable import DeliveryReport, Prepared, Sent

__all__ = ["MANAGER_HEALTH", "Deliverer", "DeliveryReport", "Sent"]

log = logging.getLogger(__name__)

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
    ) -> tuple[list[Prepared], tuple]:
        """One short transaction: the next due notifications, each rendered as of `now`; those
        with nothing left to say are cancelled on the way."""
        prepared: list[Prepared] = []
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
                maybe_posted = note.sending_at is not None and m.policy.reconcile
                if shown.empty and not (maybe_posted and note.kind != "edit"):
                    note.status, note.error = "cancelled", "nothing left to say"
                    report.cancelled += 1
                    continue
                prepared.append(
                    Prepared(
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
                        sending_at=note.sending_at,
                        channel=note.channel,
                        left_in_slack=shown.empty,
                    )
                )
            last = notes[-1]
        return prepared, (last.not_before, last.id)

    # -- one notification ------------------------------------------------------------------
    async def _deliver_one(self, item: Prepared, now: datetime, report: DeliveryReport) -> str:
        if item.left_in_slack:
            return await self._settle_left_in_slack(item, now, report)
        try:
            if await waiting.must_wait(self.m, item, now, report):
                return "skip"
            if item.kind == "edit":
                channel, ts = await self._edit(item)
            else:
                channel = await self._channel_for(item)
                found = await reconcile.find_posted(self.m, item, channel)
                if found is not None:
                    outcomes.mark_sent(self.m, item, item.channel or channel, found, now)
                    report.reconciled += 1
                    report.owners_told |= item.kind == "dm"
                    log.info("notification %s was already in Slack (%s)", item.note_id, found)
                    return "sent"
                reconcile.mark_attempt(self.m, item.note_id, channel)
                channel, ts = await self._post(item, channel)
        except DeliveryError as err:
            return outcomes.failed(self.m, item, err, now, report)
        outcomes.mark_sent(self.m, item, channel, ts, now)
        report.owners_told |= item.kind == "dm"
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

    async def _settle_left_in_slack(
        self, item: Prepared, now: datetime, report: DeliveryReport
    ) -> str:
        """A post whose cases resolved before its record could follow it: if Slack has it, it
        is recorded and redrawn (it says why it cleared), or it would show a problem forever;
        if not, there is nothing to send."""
        try:
            channel = item.channel or await self._channel_for(item)
            found = await reconcile.find_posted(self.m, item, channel)
        except DeliveryError as err:
            return outcomes.failed(self.m, item, err, now, report)
        if found is None:
            outcomes.cancel(self.m, item, "nothing left to say")
            report.cancelled += 1
            return "skip"
        outcomes.mark_sent(self.m, item, channel, found, now)
        outcomes.redraw_cases(self.m, item, now)
        report.reconciled += 1
        log.info("notification %s was already in Slack (%s): redrawn", item.note_id, found)
        return "sent"

    async def _edit(self, item: Prepared) -> tuple[str, str]:
        """Edits go again after a crash: sending one twice shows the same thing."""
        await self._pace(item.ref_channel)
        await self.m.gateway.update(item.ref_channel, item.ref_ts, item.text, item.blocks)
        return item.ref_channel, item.ref_ts

    async def _channel_for(self, item: Prepared) -> str:
        if item.kind in TO_PEOPLE:
            return await self.m.gateway.open_dm(item.to)
        return item.ref_channel if item.kind == "thread" else self.m.manager_channel

    async def _post(self, item: Prepared, channel: str) -> tuple[str, str]:
        await self._pace(channel)
        return await self.m.gateway.post(
            channel,
            item.text,
            item.blocks,
            thread_ts=item.ref_ts if item.kind == "thread" else None,
            metadata=reconcile.metadata(item.note_id),
        )

    async def _pace(self, channel: str | None) -> None:
        """At most one message a second per channel."""
        last = self._last_post.get(channel or "")
        if last is not None:
            wait = 1.0 - (self.m.monotonic() - last)
            if wait > 0:
                await self.m.sleep(wait)
        self._last_post[channel or ""] = self.m.monotonic()
