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
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, exists, func, or_, select, update
from sqlmodel import Session

from bot.db import after_cursor, reading, transaction
from bot.models import LIVE_STATUSES, Case, Finding, Notification, State, Task
from bot.monitor import ladder, lease
from bot.monitor.alerts import render
from bot.monitor.delivery import Deliverer, DeliveryReport, Sent
from bot.monitor.monitor import Monitor
from bot.monitor.outbox import MANAGERS
from bot.monitor.rollup import Subtask
from bot.monitor.rules import evaluate
from bot.monitor.taskview import TASKS, subtasks_of, view_of

log = logging.getLogger(__name__)

FINGERPRINT_KEY = "sweep.fingerprint"
LAST_SWEEP_KEY = "sweep.last"
EPOCH_KEY = (datetime(1970, 1, 1).astimezone(), 0)


@dataclass
class Preview:
    kind: str
    to: str
    tasks: str  # "#12, #14"
    rules: str
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
                f"    {p.kind:<12} to {p.to:<12} {p.tasks} {p.rules}: {p.text}"
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
_TASK_PAGE = (
    TASKS.where(
        Task.next_check_at <= bindparam("now"),
        after_cursor(Task.next_check_at, Task.id),
    )
    .order_by(Task.next_check_at, Task.id)
    .limit(bindparam("page"))
)
_TASKS_BY_ID = TASKS.where(Task.id.in_(bindparam("ids", expanding=True)))
_CASE_PAGE = (
    select(Case)
    .where(
        Case.status == "open",
        Case.next_action_at <= bindparam("now"),
        after_cursor(Case.next_action_at, Case.id),
    )
    .order_by(Case.next_action_at, Case.id)
    .limit(bindparam("page"))
)
_SET_WAKE = (
    update(Task.__table__)
    .where(Task.__table__.c.id == bindparam("tid"))
    .values(next_check_at=bindparam("wake"))
)
_OPEN_FINDINGS = select(Finding.task_id, Finding.rule, Finding.id).where(
    Finding.task_id.in_(bindparam("ids", expanding=True)), Finding.status == "open"
)
_NEXT_CHECK = 9  # the row's place of Task.next_check_at: the page cursor, with the id


def _page_params(now: datetime, after: tuple, m: Monitor) -> dict:
    return {"now": now, "after_at": after[0], "after_id": after[1], "page": m.page_size}


def _judge(row, subtasks: list[Subtask], now: datetime, m: Monitor) -> tuple[dict, datetime | None]:  # type: ignore[no-untyped-def]
    """The rules' verdict on one row: what fires (rule -> facts) and when to look again."""
    if row[1] not in LIVE_STATUSES:
        return {}, None
    return evaluate(view_of(row, subtasks, m.cal), now, m.policy, m.cal)


def _apply(
    session: Session, now: datetime, m: Monitor, verdicts: list, report: SweepReport
) -> None:
    """Open and resolve findings to match each (row, verdict), and set each task's next look."""
    ids = [row[0] for row, _ in verdicts]
    # Which rules are open, as plain rows: most stay open, and only those that resolve are
    # loaded whole.
    open_findings: dict[int, dict[str, int]] = {}
    for task_id, rule, finding_id in session.execute(_OPEN_FINDINGS, {"ids": ids}):
        open_findings.setdefault(task_id, {})[rule] = finding_id
    wakes = []
    for row, (fired, wake) in verdicts:
        tid, owner_id, creator, owner_gone = row[0], row[5], row[6], row[11]
        current = open_findings.get(tid, {})
        opened = [
            Finding(task_id=tid, rule=rule, opened_at=now, facts=facts)
            for rule, facts in fired.items()
            if rule not in current
        ]
        cleared = []
        for rule, finding_id in current.items():
            if rule not in fired:
                finding = session.get(Finding, finding_id)
                finding.status, finding.resolved_at = "resolved", now
                cleared.append(finding)
        if opened or cleared or current:  # current: its case may be someone else's now
            session.add_all(opened)
            session.flush()
            ladder.on_findings(
                session,
                tid,
                opened,
                cleared,
                recipient=owner_id if owner_id and not owner_gone else creator,
                now=now,
                policy=m.policy,
                cal=m.cal,
            )
            report.opened += len(opened)
            report.resolved += len(cleared)
        wakes.append({"tid": tid, "wake": wake})
    if wakes:
        session.execute(_SET_WAKE, wakes)


def _check_page(
    session: Session, now: datetime, m: Monitor, after: tuple, report: SweepReport
) -> tuple | None:
    """One page read, judged and applied in one transaction: for a database no one else
    writes to meanwhile (a dry run, a replay)."""
    rows = session.execute(_TASK_PAGE, _page_params(now, after, m)).all()
    if not rows:
        return None
    subs = subtasks_of(session, [row[0] for row in rows])
    _apply(session, now, m, [(row, _judge(row, subs.get(row[0], []), now, m)) for row in rows], report)
    report.checked += len(rows)
    return (rows[-1][_NEXT_CHECK], rows[-1][0]) if len(rows) == m.page_size else None


def _check_page_beside_others(
    now: datetime, m: Monitor, after: tuple, report: SweepReport
) -> tuple | None:
    """One page, judged with no write lock held: the page is read from a snapshot and judged
    (the CPU work, most of a page's time), and only then does a short write transaction apply
    the verdicts. Held through the judging, SQLite's write lock was free only between pages,
    and a command waiting for it could wait out its whole busy timeout.

    A task changed in between (a command, a parent's new deadline) reads differently when
    applying: it is judged again as it now is, inside the write transaction, or left alone
    when its change made it due after `now`."""
    with reading(m.engine) as session:
        rows = session.execute(_TASK_PAGE, _page_params(now, after, m)).all()
        subs = subtasks_of(session, [row[0] for row in rows])
    if not rows:
        return None
    judged = {row[0]: (row, _judge(row, subs.get(row[0], []), now, m)) for row in rows}
    with transaction(m.engine) as session:
        verdicts = []
        changed: list = []
        for row in session.execute(_TASKS_BY_ID, {"ids": list(judged)}):
            seen, verdict = judged[row[0]]
            if row != seen:
                if row[_NEXT_CHECK] is None or row[_NEXT_CHECK] > now:
                    continue
                changed.append(row)
                continue
            verdicts.append((row, verdict))
        fresh = subtasks_of(session, [row[0] for row in changed])
        for row in changed:
            verdict = _judge(row, fresh.get(row[0], []), now, m)
            verdicts.append((row, verdict))
        # In the page's order, whatever order the database returned them in: cases opening in
        # one sweep join a person's DM in the order of their tasks.
        verdicts.sort(key=lambda v: v[0][0])
        _apply(session, now, m, verdicts, report)
    report.checked += len(rows)
    return (rows[-1][_NEXT_CHECK], rows[-1][0]) if len(rows) == m.page_size else None


def _ladder_page(session: Session, now: datetime, m: Monitor, after: tuple) -> tuple | None:
    cases = list(session.execute(_CASE_PAGE, _page_params(now, after, m)).scalars())
    if not cases:
        return None
    last = (cases[-1].next_action_at, cases[-1].id)
    for case in cases:
        ladder.advance(session, case, now=now, policy=m.policy, cal=m.cal)
    return last if len(cases) == m.page_size else None


def _decide(
    session: Session, now: datetime, m: Monitor, report: SweepReport, *, commit_pages: bool
) -> None:
    """The tasks page by page, then the ladder, all in `session`; each page committed on its
    own with `commit_pages` (a dry run commits nothing)."""

    def page_done() -> None:
        if commit_pages:
            session.commit()
            session.expunge_all()  # keep memory flat: nothing is carried between pages

    after: tuple | None = EPOCH_KEY
    while after is not None:
        after = _check_page(session, now, m, after, report)
        page_done()
    after = EPOCH_KEY
    while after is not None:
        after = _ladder_page(session, now, m, after)
        page_done()


def _decide_beside_others(now: datetime, m: Monitor, report: SweepReport) -> None:
    """The tasks page by page, each judged outside the write lock; then the ladder."""
    after: tuple | None = EPOCH_KEY
    while after is not None:
        after = _check_page_beside_others(now, m, after, report)
    after = EPOCH_KEY
    while after is not None:
        with transaction(m.engine) as session:
            after = _ladder_page(session, now, m, after)


def _ladder_again(now: datetime, m: Monitor) -> None:
    after: tuple | None = EPOCH_KEY
    while after is not None:
        with transaction(m.engine) as session:
            after = _ladder_page(session, now, m, after)


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
        # The common case of a scheduled sweep: one statement on a bare connection.
        with m.engine.begin() as conn:
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
        return "busy" if until is None else lease.Held(m, holder, until)


def _finish(m: Monitor, holder: str, now: datetime) -> None:
    with transaction(m.engine) as session:
        lease.release(session, holder)
        state = session.get(State, LAST_SWEEP_KEY) or State(key=LAST_SWEEP_KEY)
        state.value, state.until = now.isoformat(), m.wall()
        session.add(state)
    m.last_sweep = now


def _decide_and_commit(now: datetime, m: Monitor, report: SweepReport) -> None:
    if not m.exclusive:
        _decide_beside_others(now, m, report)
        return
    with Session(m.engine, expire_on_commit=False) as session:
        session.begin()
        _decide(session, now, m, report, commit_pages=True)
        session.commit()


def _decide_and_roll_back(now: datetime, m: Monitor, report: SweepReport) -> None:
    checked = m.settings_checked
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
                shown = render(session, note, now, m.policy, m.cal)
                if shown.empty:
                    continue
                to = (m.manager_channel or "managers") if note.to == MANAGERS else note.to
                tasks = ", ".join(f"#{t}" for t in shown.task_ids)
                report.preview.append(Preview(note.kind, to, tasks, ", ".join(shown.rules), shown.text))
        finally:
            session.rollback()
            m.settings_checked = checked  # what the dry run saw was rolled back


async def run_sweep(m: Monitor, now: datetime, *, dry_run: bool = False) -> SweepReport:
    report = SweepReport(now=now, dry_run=dry_run)
    if dry_run:
        await m.db(_decide_and_roll_back, now, m, report)
        return report
    holder = uuid.uuid4().hex
    # The database work runs in a thread: the bot's event loop keeps acking Slack meanwhile.
    held = await m.db(_start, m, holder, now, report)
    if held == "idle":
        return report
    if held == "busy":
        report.skipped = "another sweep holds the lease"
        return report
    try:
        if m.worker is not None:
            counts = await held.during(m.worker.decide(now))
            report.checked, report.opened, report.resolved = counts
        else:
            await held.during(m.db(_decide_and_commit, now, m, report))
        deliverer = Deliverer(m, held)
        report.delivery = await deliverer.deliver_due(now)
        first = report.delivery
        if first.left == 0 and any(s.kind == "dm" for s in first.sent):
            # An owner told now starts what is owed at once ("overdue" and "I'm blocked" go to
            # the managers as the owner is told): one more step of the ladder, and its messages,
            # within what is left of the budget (nothing, when the first round had to stop).
            await m.db(_ladder_again, now, m)
            more = await deliverer.deliver_due(now, m.policy.send_budget - len(first.sent))
            report.delivery.sent += more.sent
            report.delivery.deferred += more.deferred
            report.delivery.held += more.held
            report.delivery.left += more.left
            report.delivery.failed += more.failed
            report.delivery.cancelled += more.cancelled
            report.delivery.problems += more.problems  # an archived channel is said, not lost
    finally:
        await m.db(_finish, m, holder, now)
    return report
