"""The judging half of a sweep: the tasks whose answer can have moved, read page by page and
judged by the rules; findings opened and resolved to match; the ladder advanced.

Pages are keyed on (next_check_at, id), so memory stays flat however many tasks there are.
A page is judged outside the write lock when others may write meanwhile (the bot, replicas),
inside it when no one else can (a replay's own file, a dry run).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session

from bot.db import IdsIn, after_cursor, others_writing, reading, transaction
from bot.models import LIVE_STATUSES, Case, Finding, Task, UTCDateTime
from bot.monitor import ladder
from bot.monitor.monitor import Monitor
from bot.monitor.rollup import Subtask
from bot.monitor.rules import evaluate
from bot.monitor.sweep_report import SweepReport
from bot.monitor.taskview import TASKS, subtasks_of, view_of

EPOCH_KEY = (datetime(1970, 1, 1).astimezone(), 0)

_TASK_PAGE = (
    TASKS.where(
        Task.next_check_at <= bindparam("now"),
        after_cursor(Task.next_check_at, Task.id),
    )
    .order_by(Task.next_check_at, Task.id)
    .limit(bindparam("page"))
)
_TASKS_BY_ID = IdsIn(lambda ids_in: TASKS.where(ids_in(Task.id)))
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
# On PostgreSQL a page's wake-up times are one statement, the ids and the times as two arrays,
# rather than a round trip per task: `UPDATE task SET ... FROM unnest(...)`.
_WAKES = select(
    func.unnest(bindparam("tids", type_=ARRAY(Integer))).label("tid"),
    func.unnest(bindparam("wakes", type_=ARRAY(UTCDateTime()))).label("wake"),
).subquery()
_SET_WAKES = (
    update(Task.__table__)
    .where(Task.__table__.c.id == _WAKES.c.tid)
    .values(next_check_at=_WAKES.c.wake)
)


def _set_wakes(session: Session, wakes: list[dict]) -> None:
    if session.get_bind().dialect.name == "postgresql":
        tids, times = [w["tid"] for w in wakes], [w["wake"] for w in wakes]
        session.execute(_SET_WAKES, {"tids": tids, "wakes": times})
    else:
        session.execute(_SET_WAKE, wakes)  # SQLite's executemany: one statement, in C


_OPEN_FINDINGS = IdsIn(
    lambda ids_in: select(Finding.task_id, Finding.rule, Finding.id).where(
        ids_in(Finding.task_id), Finding.status == "open"
    )
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
    for task_id, rule, finding_id in session.execute(_OPEN_FINDINGS.on(session), {"ids": ids}):
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
        _set_wakes(session, wakes)


def _check_page(
    session: Session, now: datetime, m: Monitor, after: tuple, report: SweepReport
) -> tuple | None:
    """One page read, judged and applied in one transaction: for a database no one else
    writes to meanwhile (a dry run, a replay)."""
    rows = session.execute(_TASK_PAGE, _page_params(now, after, m)).all()
    if not rows:
        return None
    subs = subtasks_of(session, [row[0] for row in rows])
    _apply(
        session, now, m, [(row, _judge(row, subs.get(row[0], []), now, m)) for row in rows], report
    )
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
    ids = list(judged)
    start = 0
    while start < len(ids):
        size = WRITE_CHUNK if others_writing(m.engine) else len(ids)
        with transaction(m.engine) as session:
            _apply_judged(session, now, m, judged, ids[start : start + size], report)
        start += size
    report.checked += len(rows)
    return (rows[-1][_NEXT_CHECK], rows[-1][0]) if len(rows) == m.page_size else None


# While people use the bot (SQLite), verdicts are written ten tasks to a transaction: the
# write lock is held for milliseconds at a time, and their writes get it between two of them.
# Otherwise a page is one transaction, which costs fewer statements.
WRITE_CHUNK = 10


def _apply_judged(
    session: Session, now: datetime, m: Monitor, judged: dict, ids: list, report: SweepReport
) -> None:
    """Apply the verdicts of `ids`, judged outside the write lock, re-judging any task whose
    row changed meanwhile."""
    verdicts = []
    changed: list = []
    for row in session.execute(_TASKS_BY_ID.on(session), {"ids": ids}):
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


def _ladder_page(session: Session, now: datetime, m: Monitor, after: tuple) -> tuple | None:
    cases = list(session.execute(_CASE_PAGE, _page_params(now, after, m)).scalars())
    if not cases:
        return None
    last = (cases[-1].next_action_at, cases[-1].id)
    for case in cases:
        ladder.advance(session, case, now=now, policy=m.policy, cal=m.cal)
    return last if len(cases) == m.page_size else None


def decide(
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


def ladder_again(now: datetime, m: Monitor) -> None:
    after: tuple | None = EPOCH_KEY
    while after is not None:
        with transaction(m.engine) as session:
            after = _ladder_page(session, now, m, after)


def decide_and_commit(now: datetime, m: Monitor, report: SweepReport) -> None:
    if not m.exclusive:
        _decide_beside_others(now, m, report)
        return
    with Session(m.engine, expire_on_commit=False) as session:
        session.begin()
        decide(session, now, m, report, commit_pages=True)
        session.commit()
