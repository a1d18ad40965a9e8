"""One sweep, as of one instant `now`: look at every open task whose answer can have moved,
open and resolve findings, advance the ladder, then deliver what is due.

Every open task is judged at every sweep, but most of them cannot have changed their answer
since the last one: a task carries `next_check_at`, the earliest instant at which a rule's
outcome could change with nothing else changing (set by the rules' `wake_*`), and every edit
sets it to now. So a sweep reads the tasks that changed or whose clock has come, in pages, and
memory stays flat however many tasks there are.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select, tuple_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session

from bot.db import transaction
from bot.models import LIVE_STATUSES, Finding, Notification, SlackUser, State, Task
from bot.monitor import ladder
from bot.monitor.alerts import alert_for, render
from bot.monitor.delivery import Deliverer, DeliveryReport, Sent
from bot.monitor.ladder import MANAGERS
from bot.monitor.monitor import Monitor
from bot.monitor.rules import TaskView, evaluate

log = logging.getLogger(__name__)

LEASE_KEY = "sweep.lease"
FINGERPRINT_KEY = "sweep.fingerprint"
LAST_SWEEP_KEY = "sweep.last"
EPOCH_KEY = (datetime(1970, 1, 1).astimezone(), 0)


@dataclass
class Preview:
    kind: str
    to: str
    task_id: int
    rule: str
    text: str


@dataclass
class SweepReport:
    now: datetime
    dry_run: bool = False
    skipped: str | None = None
    open_tasks: int = 0
    checked: int = 0
    opened: int = 0
    resolved: int = 0
    decided: int = 0
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    preview: list[Preview] = field(default_factory=list)

    @property
    def sent(self) -> list[Sent]:
        return self.delivery.sent

    def summary(self) -> str:
        if self.skipped:
            return f"sweep as of {self.now.isoformat()}: skipped, {self.skipped}"
        d = self.delivery
        lines = [
            f"sweep as of {self.now.isoformat()}{' (dry run: nothing stored or sent)' if self.dry_run else ''}",
            f"  open tasks       {self.open_tasks}  (looked at {self.checked} whose state or clock moved)",
            f"  findings opened  {self.opened}",
            f"  findings resolved {self.resolved}",
        ]
        if self.dry_run:
            lines.append(f"  would send       {len(self.preview)}")
            lines += [
                f"    {p.kind:<12} to {p.to:<12} #{p.task_id} {p.rule}: {p.text}"
                for p in self.preview
            ]
        else:
            lines.append(f"  messages sent    {len(d.sent)}")
            left = d.deferred + d.held + d.left
            lines.append(
                f"  left for later   {left}  ({d.deferred} outside working hours, "
                f"{d.held} waiting on Slack or the channel, {d.left} over the budget)"
            )
            if d.failed:
                lines.append(f"  undeliverable    {d.failed}  (see the log)")
        lines += [f"  problem: {p}" for p in dict.fromkeys(self.delivery.problems)]
        return "\n".join(lines)


# -- evaluation --------------------------------------------------------------------------
def _check_page(
    session: Session, now: datetime, m: Monitor, after: tuple, report: SweepReport
) -> tuple | None:
    parent, owner = aliased(Task), aliased(SlackUser)
    rows = session.execute(
        select(
            Task.id,
            Task.status,
            Task.progress,
            Task.created_at,
            Task.activity_at,
            Task.owner_id,
            Task.creator_id,
            Task.due_at,
            Task.parent_id,
            Task.next_check_at,
            parent.due_at,
            owner.deleted,
        )
        .outerjoin(parent, parent.id == Task.parent_id)
        .outerjoin(owner, owner.id == Task.owner_id)
        .where(Task.next_check_at <= now, tuple_(Task.next_check_at, Task.id) > tuple_(*after))
        .order_by(Task.next_check_at, Task.id)
        .limit(m.page_size)
    ).all()
    if not rows:
        return None
    ids = [r[0] for r in rows]
    open_findings: dict[int, dict[str, Finding]] = {}
    for f in session.execute(
        select(Finding).where(Finding.task_id.in_(ids), Finding.status == "open")
    ).scalars():
        open_findings.setdefault(f.task_id, {})[f.rule] = f
    wakes = []
    for (
        tid,
        status,
        progress,
        created,
        activity,
        owner_id,
        creator,
        due,
        parent_id,
        _nc,
        parent_due,
        owner_gone,
    ) in rows:
        if status in LIVE_STATUSES:
            view = TaskView(
                id=tid,
                status=status,
                progress=progress,
                created_at=created,
                activity_at=activity,
                owner_id=owner_id,
                owner_active=not owner_gone,
                due_at=due,
                parent_id=parent_id,
                parent_due_at=parent_due,
            )
            fired, wake = evaluate(view, now, m.policy, m.cal)
        else:
            fired, wake = {}, None
        current = open_findings.get(tid, {})
        for rule, facts in fired.items():
            if rule not in current:
                recipient = owner_id if owner_id and not owner_gone else creator
                ladder.open_finding(
                    session,
                    task_id=tid,
                    rule=rule,
                    facts=facts,
                    recipient=recipient,
                    now=now,
                    policy=m.policy,
                )
                report.opened += 1
        for rule, finding in current.items():
            if rule not in fired:
                ladder.resolve(session, finding, now)
                report.resolved += 1
        wakes.append({"tid": tid, "wake": wake})
    table = Task.__table__
    session.execute(
        update(table).where(table.c.id == bindparam("tid")).values(next_check_at=bindparam("wake")),
        wakes,
    )
    report.checked += len(rows)
    return rows[-1][9], rows[-1][0]


def _ladder_page(session: Session, now: datetime, m: Monitor, after: tuple) -> tuple | None:
    owner = aliased(SlackUser)
    rows = session.execute(
        select(Finding, Task.owner_id, Task.creator_id, owner.deleted)
        .join(Task, Task.id == Finding.task_id)
        .outerjoin(owner, owner.id == Task.owner_id)
        .where(
            Finding.status == "open",
            Finding.next_action_at <= now,
            tuple_(Finding.next_action_at, Finding.id) > tuple_(*after),
        )
        .order_by(Finding.next_action_at, Finding.id)
        .limit(m.page_size)
    ).all()
    if not rows:
        return None
    last = (rows[-1][0].next_action_at, rows[-1][0].id)
    for finding, owner_id, creator, owner_gone in rows:
        recipient = owner_id if owner_id and not owner_gone else creator
        ladder.advance(session, finding, recipient=recipient, now=now, policy=m.policy, cal=m.cal)
    return last


def _decide(
    session: Session, now: datetime, m: Monitor, report: SweepReport, *, commit_pages: bool
) -> None:
    for step in (_check_page, _ladder_page):
        after: tuple | None = EPOCH_KEY
        while after is not None:
            after = (
                step(session, now, m, after, report)
                if step is _check_page
                else step(session, now, m, after)
            )
            if commit_pages:
                session.commit()
                session.expunge_all()  # keep memory flat: nothing is carried between pages


# -- the sweep ---------------------------------------------------------------------------
def _fingerprint(m: Monitor) -> str:
    return f"{m.policy.fingerprint()}:{m.cal.timezone}:{m.cal.holiday_country}"


def _prepare(session: Session, now: datetime, m: Monitor, report: SweepReport) -> None:
    """Settings that decide rules changed since the last sweep: look at every open task."""
    state = session.get(State, FINGERPRINT_KEY) or State(key=FINGERPRINT_KEY)
    if state.value != _fingerprint(m):
        session.execute(
            update(Task).where(Task.status.in_(LIVE_STATUSES)).values(next_check_at=now)
        )
        state.value = _fingerprint(m)
        session.add(state)
    report.open_tasks = session.execute(
        select(func.count()).select_from(Task).where(Task.status.in_(LIVE_STATUSES))
    ).scalar_one()


def _anything_due(session: Session, now: datetime) -> bool:
    """Whether a sweep at `now` has anything to do: three indexed look-ups. Most sweeps of
    a quiet team stop here."""
    checks = (
        select(Task.id).where(Task.next_check_at <= now),
        select(Finding.id).where(Finding.status == "open", Finding.next_action_at <= now),
        select(Notification.id).where(
            Notification.status == "pending", Notification.not_before <= now
        ),
    )
    return any(session.execute(q.limit(1)).first() is not None for q in checks)


def _mark_swept(session: Session, now: datetime, m: Monitor) -> None:
    state = session.get(State, LAST_SWEEP_KEY) or State(key=LAST_SWEEP_KEY)
    state.value, state.until = now.isoformat(), m.wall()
    session.add(state)


def _start(m: Monitor, holder: str, now: datetime, report: SweepReport) -> str:
    """In one transaction: settings check, the count, "anything due?", and the lease.
    Returns "idle" (nothing to do), "busy" (another sweep holds the lease) or "work"."""
    with transaction(m.engine) as session:
        _prepare(session, now, m, report)
        if not _anything_due(session, now):
            _mark_swept(session, now, m)
            return "idle"
        # One sweep at a time, across processes and replicas: a row lease with an expiry.
        wall = m.wall()
        lease = session.get(State, LEASE_KEY, with_for_update=True)
        if lease and lease.holder not in (None, holder) and lease.until and lease.until > wall:
            return "busy"
        lease = lease or State(key=LEASE_KEY)
        lease.holder, lease.until = holder, wall + timedelta(seconds=m.lease_seconds)
        session.add(lease)
        return "work"


def _finish(m: Monitor, holder: str, now: datetime) -> None:
    with transaction(m.engine) as session:
        lease = session.get(State, LEASE_KEY)
        if lease and lease.holder == holder:
            lease.holder, lease.until = None, None
        _mark_swept(session, now, m)


def _decide_and_commit(now: datetime, m: Monitor, report: SweepReport) -> None:
    with Session(m.engine, expire_on_commit=False) as session:
        session.begin()
        _decide(session, now, m, report, commit_pages=True)
        session.commit()


def _decide_and_roll_back(now: datetime, m: Monitor, report: SweepReport) -> None:
    with Session(m.engine) as session:
        session.begin()
        try:
            _prepare(session, now, m, report)
            _decide(session, now, m, report, commit_pages=False)
            due = session.execute(
                select(Notification)
                .where(Notification.status == "pending", Notification.not_before <= now)
                .order_by(Notification.not_before, Notification.id)
            ).scalars()
            for note in due:
                task, finding = (
                    session.get(Task, note.task_id),
                    session.get(Finding, note.finding_id),
                )
                ref = session.get(Notification, note.ref_id) if note.ref_id else None
                text, _ = render(alert_for(session, task, finding, now, m.policy, m.cal), note, ref)
                to = (m.manager_channel or "managers") if note.to == MANAGERS else note.to
                report.preview.append(Preview(note.kind, to, note.task_id, finding.rule, text))
        finally:
            session.rollback()


async def run_sweep(m: Monitor, now: datetime, *, dry_run: bool = False) -> SweepReport:
    report = SweepReport(now=now, dry_run=dry_run)
    if dry_run:
        await asyncio.to_thread(_decide_and_roll_back, now, m, report)
        return report
    holder = uuid.uuid4().hex
    # The database work runs in a thread: the bot's event loop keeps acking Slack meanwhile.
    status = await asyncio.to_thread(_start, m, holder, now, report)
    if status == "idle":
        return report
    if status == "busy":
        report.skipped = "another sweep holds the lease"
        return report
    try:
        await asyncio.to_thread(_decide_and_commit, now, m, report)
        report.delivery = await Deliverer(m).deliver_due(now)
    finally:
        await asyncio.to_thread(_finish, m, holder, now)
    return report
