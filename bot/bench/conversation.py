"""`python -m bot.bench.conversation`: what building the owners' batched DMs and the managers'
digest costs, over databases of different sizes holding the same cases (SQLite).

Each database holds N open tasks, all healthy but K that are overdue, owned by 12 people. A
first sweep opens the K cases and puts them in the 12 owners' pending DMs (not measured: it
judges every task). Then, measured:

- **DMs built**: the 12 batched DMs rendered as delivery renders a batch, with the cases of the
  whole batch read ahead; beside it, in the same run, the same DMs with each case read on its
  own (how every message was built before: the baseline).
- **digest decided**: the owners marked told, a sweep a minute later escalates the K cases
  (`overdue` goes to the managers at once) and puts them in the day's digest.
- **digest built**: the digest rendered, read ahead, and the same with each case on its own.

Each figure is the best of three; the statements each made are counted. Building costs what is
in the messages: the times at N = 100,000 should be those at N = 1,000.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event, select, update
from sqlalchemy.engine import make_url

from bot.bench.sweep import COLUMNS, FMT, START, header
from bot.calendar import WorkCalendar
from bot.db import create_schema, make_engine, transaction
from bot.models import Case, Notification
from bot.monitor import conversation, ladder, outbox
from bot.monitor.alerts import CaseViews, case_view, render
from bot.monitor.monitor import Monitor
from bot.monitor.sweep import run_sweep

OWNERS = 12


def rows(n: int, k: int):  # type: ignore[no-untyped-def]
    """`n` tasks as rows (naive UTC): the last `k` overdue since last week, the rest healthy."""
    naive = START.replace(tzinfo=None)
    for i in range(1, n + 1):
        late = i > n - k
        created = naive - timedelta(days=20 if late else 2)
        due = naive - timedelta(days=3) if late else naive + timedelta(days=40)
        activity = naive - timedelta(hours=5)
        yield (i, f"task {i}", f"U{i % OWNERS:03d}", "UBOSS", due, 50, "open",
               created, created, activity, created, False)  # fmt: skip


def load(path: Path, n: int, k: int) -> str:
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    create_schema(engine)
    engine.dispose()
    con = sqlite3.connect(make_url(url).database)
    con.execute("PRAGMA synchronous=OFF")
    con.executemany(
        f"INSERT INTO task ({COLUMNS}) VALUES ({','.join('?' * 12)})",
        (tuple(v.strftime(FMT) if hasattr(v, "strftime") else v for v in r) for r in rows(n, k)),
    )
    con.commit()
    con.close()
    return url


class Statements:
    """Counts the statements an engine runs."""

    def __init__(self, engine) -> None:  # type: ignore[no-untyped-def]
        self.n = 0
        event.listen(engine, "before_cursor_execute", self._one)

    def _one(self, *_args) -> None:  # type: ignore[no-untyped-def]
        self.n += 1


def _render_all(m: Monitor, kind: str, now, ahead: bool) -> int:  # type: ignore[no-untyped-def]
    """Render every pending notification of `kind`; how many cases they showed."""
    shown = 0
    with transaction(m.engine) as session:
        notes = list(
            session.execute(
                select(Notification).where(
                    Notification.kind == kind, Notification.status == "pending"
                )
            ).scalars()
        )
        if ahead:
            views = CaseViews(session, now, m.policy, m.cal)
            views.read_ahead(notes)
            for note in notes:
                shown += len(render(session, note, now, m.policy, m.cal, views).task_ids)
            return shown
        for note in notes:  # each case read on its own, as before
            cases = [session.get(Case, c) for c in outbox.cases_of(session, note.id)]
            views_ = [case_view(session, c, now, m.policy, m.cal) for c in cases]
            if kind == "digest":
                conversation.build_digest(views_, m.cal.local_date(now))
            else:
                conversation.build_owner_message(views_)
            shown += len(views_)
    return shown


def timed(m: Monitor, counter: Statements, fn) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    best, statements = float("inf"), 0
    for _ in range(3):
        before = counter.n
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
        statements = counter.n - before
    return best, statements


def _tell_owners(m: Monitor, now) -> None:  # type: ignore[no-untyped-def]
    """As delivery records DMs Slack accepted: sent, and their cases' owners told."""
    with transaction(m.engine) as session:
        for note in session.execute(
            select(Notification).where(Notification.kind == "dm", Notification.status == "pending")
        ).scalars():
            note.status, note.sent_at, note.channel, note.ts = "sent", now, "D0", str(note.id)
            for case_id in outbox.cases_of(session, note.id):
                ladder.told(session, session.get(Case, case_id), now, m.policy, m.cal)
        session.execute(update(Case).values(next_action_at=now))


def bench(n: int, k: int, workdir: Path) -> dict:
    url = load(workdir / f"conversation-{n}.db", n, k)
    m = Monitor(engine=make_engine(url), cal=WorkCalendar("Europe/London", "GB"))
    m.count_open_tasks = False
    counter = Statements(m.engine)
    now = START + timedelta(hours=1)  # Monday 10:00
    t0 = time.perf_counter()
    asyncio.run(run_sweep(m, now))
    cold = time.perf_counter() - t0
    dms_each = timed(m, counter, lambda: _render_all(m, "dm", now, ahead=False))
    dms_ahead = timed(m, counter, lambda: _render_all(m, "dm", now, ahead=True))
    _tell_owners(m, now)
    later = now + timedelta(minutes=1)
    before = counter.n
    t0 = time.perf_counter()
    asyncio.run(run_sweep(m, later))
    decided = (time.perf_counter() - t0, counter.n - before)
    digest_each = timed(m, counter, lambda: _render_all(m, "digest", later, ahead=False))
    digest_ahead = timed(m, counter, lambda: _render_all(m, "digest", later, ahead=True))
    with transaction(m.engine) as session:
        digest = session.execute(
            select(Notification).where(Notification.kind == "digest")
        ).scalar_one()
        in_digest = len(outbox.cases_of(session, digest.id))
    m.engine.dispose()
    return {
        "n": n, "k": k, "cold": cold, "in_digest": in_digest,
        "dms_each": dms_each, "dms_ahead": dms_ahead, "decided": decided,
        "digest_each": digest_each, "digest_ahead": digest_ahead,
    }  # fmt: skip


def _cell(figure: tuple[float, int]) -> str:
    return f"{figure[0] * 1000:.1f} ms ({figure[1]:,})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--cases", type=int, default=100)
    args = parser.parse_args()
    print(header())
    print(
        "| open tasks | cases | first sweep (judges all) | DMs built, each case alone (baseline) "
        "| DMs built, read ahead | ahead / alone | digest decided (sweep) "
        "| digest built, each case alone | digest built, read ahead | ahead / alone |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="vigil-bench-") as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            r = bench(n, args.cases, Path(tmp))
            print(
                f"| {n:,} | {r['k']} ({r['in_digest']} in the digest) | {r['cold']:.2f} s "
                f"| {_cell(r['dms_each'])} | {_cell(r['dms_ahead'])} "
                f"| {r['dms_ahead'][0] / r['dms_each'][0]:.2f} | {_cell(r['decided'])} "
                f"| {_cell(r['digest_each'])} | {_cell(r['digest_ahead'])} "
                f"| {r['digest_ahead'][0] / r['digest_each'][0]:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
