"""One sweep, as of one instant `now`: look at every open task whose answer can have moved,
open and resolve findings, advance the ladder, then deliver what is due.

Every open task is judged at every sweep, but most of them cannot have changed their answer
since the last one: a task carries `next_check_at`, the earliest instant at which a rule's
outcome could change with nothing else changing (set by the rules' `wake_*`), and every edit
sets it to now. So a sweep reads the tasks that changed or whose clock has come, in pages, and
memory stays flat however many tasks there are.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import UTC, datetime

from sqlalchemy import bindparam, exists, func, or_, select, update
from sqlmodel import Session

from bot.db import READ_ONLY, transaction
from bot.models import LIVE_STATUSES, Case, Notification, State, Task
from bot.monitor import lease
from bot.monitor.alerts import render
from bot.monitor.delivery import Deliverer
from bot.monitor.judging import decide, decide_and_commit, ladder_again
from bot.monitor.monitor import Monitor
from bot.monitor.outbox import MANAGERS
from bot.monitor.sweep_report import Preview, SweepReport

__all__ = ["SweepReport", "run_sweep"]

log = logging.getLogger(__name__)

FINGERPRINT_KEY = "sweep.fingerprint"
LAST_SWEEP_KEY = "sweep.last"


# -- the sweep ---------------------------------------------------------------------------
def _fingerprint(m: Monitor) -> str:
    return f"{m.policy.fingerprint()}:{m.cal.timezone}:{m.cal.holiday_country}"


def _prepare(session: Session, now: datetime, m: Monitor, report: SweepReport) -> None:
    """Settings that decide rules changed since the last sweep: look at every open task.
    Settings cannot change while a process runs, so each monitor checks once."""
    if not m.settings_checked:
        state = session.get(State, FINGERPRINT_KEY) or State(key=FINGERPRINT_KEY)
        if state.value != _fingerprint(m):
            session.execute(
                update(Task).where(Task.status.in_(LIVE_STATUSES)).values(next_check_at=now)
            )
            state.value = _fingerprint(m)
            session.add(state)
        m.settings_checked = True
    if m.count_open_tasks:
        report.open_tasks = session.execute(
            select(func.count()).select_from(Task).where(Task.status.in_(LIVE_STATUSES))
        ).scalar_one()


# Built once: a sweep of a quiet team is mostly this one statement.
_DUE = select(
    or_(
        exists().where(Task.next_check_at <= bindparam("now")),
        exists().where(Case.status == "open", Case.next_action_at <= bindparam("now")),
        exists().where(
            Notification.status == "pending", Notification.not_before <= bindparam("now")
        ),
    )
)


def _anything_due(session: Session, now: datetime) -> bool:
    """Whether a sweep at `now` has anything to do: three indexed look-ups in one statement."""
    return bool(session.connection().execute(_DUE, {"now": now}).scalar())


def _start(m: Monitor, holder: str, now: datetime, report: SweepReport) -> str | lease.Held:
    """In one transaction: the lease row locked, the settings check, the count, "anything
    due?", and the lease taken. Returns "idle" (nothing to do), "busy" (another sweep holds the
    lease) or the lease, held."""
    if m.settings_checked and not m.count_open_tasks:
        # The common case of a scheduled sweep: one read on a bare connection, which on SQLite
        # neither takes the write lock nor counts as people writing (`RightOfWay`).
        with m.engine.connect().execution_options(**{READ_ONLY: True}) as conn, conn.begin():
            if not conn.execute(_DUE, {"now": now}).scalar():
                m.last_sweep = now
                return "idle"
    with transaction(m.engine) as session:
        # Locked first: replicas starting at once check and record the settings in turn.
        row = lease.locked(session)
        _prepare(session, now, m, report)
        if not _anything_due(session, now):
            m.last_sweep = now
            return "idle"
        until = lease.take(row, holder, m)
        if until is None:
            report.busy_until = row.until
            return "busy"
        return lease.Held(m, holder, until)


def _finish(m: Monitor, holder: str, now: datetime) -> None:
    with transaction(m.engine) as session:
        lease.release(session, holder)
        state = session.get(State, LAST_SWEEP_KEY) or State(key=LAST_SWEEP_KEY)
        state.value, state.until = now.isoformat(), m.wall()
        session.add(state)
    m.last_sweep = now


def _decide_and_roll_back(now: datetime, m: Monitor, report: SweepReport) -> None:
    checked = m.settings_checked
    with Session(m.engine) as session:
        session.begin()
        try:
            _prepare(session, now, m, report)
            decide(session, now, m, report, commit_pages=False)
            due = session.execute(
                select(Notification)
                .where(Notification.status == "pending", Notification.not_before <= now)
                .order_by(Notification.not_before, Notification.id)
            ).scalars()
            for note in due:
                shown = render(session, note, now, m.policy, m.cal)
                if shown.empty:
                    continue
                to = (m.manager_channel or "managers") if note.to == MANAGERS else note.to
                tasks = ", ".join(f"#{t}" for t in shown.task_ids)
                report.preview.append(
                    Preview(note.kind, to, tasks, ", ".join(shown.rules), shown.text)
                )
        finally:
            session.rollback()
            m.settings_checked = checked  # what the dry run saw was rolled back


async def run_sweep(m: Monitor, now: datetime, *, dry_run: bool = False) -> SweepReport:
    report = SweepReport(now=now, dry_run=dry_run)
    if dry_run:
        await m.db(_decide_and_roll_back, now, m, report)
        return report
    # Which process holds the lease, for whoever reads the `state` table (and the sweep).
    holder = f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:12]}"
    # The database work runs in a thread: the bot's event loop keeps acking Slack meanwhile.
    held = await m.db(_start, m, holder, now, report)
    if held == "idle":
        return report
    if held == "busy":
        report.skipped = "another sweep holds the lease"
        return report
    took = datetime.now(UTC)
    try:
        if m.worker is not None:
            counts = await held.during(m.worker.decide(now))
            report.checked, report.opened, report.resolved = counts
        else:
            await held.during(m.db(decide_and_commit, now, m, report))
        deliverer = Deliverer(m, held)
        report.delivery = await deliverer.deliver_due(now)
        first = report.delivery
        if first.left == 0 and first.owners_told:
            # An owner told now starts what is owed at once ("overdue" and "I'm blocked" go to
            # the managers as the owner is told): one more step of the ladder, and its messages,
            # within what is left of the budget (nothing, when the first round had to stop).
            await m.db(ladder_again, now, m)
            more = await deliverer.deliver_due(now, m.policy.send_budget - len(first.sent))
            report.delivery.sent += more.sent
            report.delivery.deferred += more.deferred
            report.delivery.held += more.held
            report.delivery.left += more.left
            report.delivery.failed += more.failed
            report.delivery.cancelled += more.cancelled
            report.delivery.problems += more.problems  # an archived channel is said, not lost
    finally:
        # When this sweep held the lease, on the wall clock: what operators (and the replicas'
        # test) read to see that one sweep at a time held it.
        log.info(
            "sweep as of %s by %s held the lease %s to %s",
            now.isoformat(),
            holder,
            took.isoformat(),
            datetime.now(UTC).isoformat(),
        )
        await m.db(_finish, m, holder, now)
    return report
