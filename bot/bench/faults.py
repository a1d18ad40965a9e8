"""`python -m bot.bench.faults`: a working week of a team's alerts with Slack failing a share
of calls at random, counted at the stand-in.

A database of `--tasks` open tasks in trouble (stalled, late, without an owner, blocked) spread
over `--people` owners; sweeps every ten simulated minutes through a working week, half the
tasks finished on Wednesday and the rest on Friday evening (so edits and resolutions go out
too), then sweeps until nothing is left to send. The stand-in fails `--rate` of all calls:
429 with Retry-After, 500, 503, a read timeout and a dropped connection, and half of the
timeouts and drops come after Slack applied the call (the post is in the channel; the answer
never came). The same week without faults is the baseline.

Counted at the stand-in, against what the database says was sent:
- lost: a notification marked sent that Slack never showed, or one never sent at all;
- doubled: a notification posted more than once (by the id in its metadata);
- calls inside a Retry-After: a method called again before its Retry-After had passed;
- the longest Slack call, timed at the client, against the configured timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import aiohttp
from sqlalchemy import func, select

from bot import tasks as service
from bot.calendar import WorkCalendar
from bot.db import create_schema, make_engine, transaction
from bot.models import Notification, Task
from bot.monitor.gateway import SlackGateway, make_client, slack_session
from bot.monitor.monitor import Monitor
from bot.monitor.sweep import run_sweep
from bot.standin import SlackStandIn

TOKEN = "xoxb-bench"
MANAGERS = "CMANAGERS"
CAL = WorkCalendar("Europe/London", "GB")
MONDAY = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)  # 09:00 in London in January
STEP = timedelta(minutes=10)
BOSS = "UBOSS"


@dataclass
class Counts:
    tasks: int
    rate: float
    timeout: float
    sweeps: int = 0
    calls: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    lost_after_effect: int = 0  # calls Slack applied whose answer never came
    sent: int = 0  # notifications the database says went out (posts and edits)
    posts_expected: int = 0
    posts_at_slack: int = 0
    edits_expected: int = 0
    edits_at_slack: int = 0  # chat.update calls applied (one lost answer: applied again)
    lost: int = 0
    doubled: int = 0
    unaccounted: int = 0  # posts at Slack that match no notification
    inside_retry_after: int = 0
    longest_call: float = 0.0
    looked_up: int = 0  # conversations.history/replies calls after a lost answer
    seconds: float = 0.0
    doubles: list[str] = field(default_factory=list)  # how each double came about

    def lines(self) -> list[str]:
        kinds = ", ".join(
            f"{k} {self.faults[k]}" for k in ("429", "500", "503", "timeout", "reset")
        )
        return [
            f"  sweeps {self.sweeps}, Slack calls {self.calls}, faults: {kinds}",
            f"  answers lost after Slack applied the call: {self.lost_after_effect}",
            f"  notifications sent {self.sent}: posts expected {self.posts_expected}, "
            f"at Slack {self.posts_at_slack}; edits expected {self.edits_expected}, "
            f"at Slack {self.edits_at_slack}",
            f"  lost {self.lost}, doubled {self.doubled}, unaccounted {self.unaccounted}, "
            f"looked for a lost answer {self.looked_up} times",
            f"  calls inside a Retry-After {self.inside_retry_after}; longest call "
            f"{self.longest_call:.3f} s (timeout {self.timeout:g} s); {self.seconds:.1f} s",
            *(f"  doubled: {d}" for d in self.doubles),
        ]


def populate(engine, tasks: int, people: list[str]) -> list[int]:  # type: ignore[no-untyped-def]
    """Open tasks, each in trouble one way: stalled, late, without an owner, or blocked."""
    made = MONDAY - timedelta(days=7)
    ids = []
    with transaction(engine) as s:
        for n in range(tasks):
            kind, owner = n % 4, people[n % len(people)]
            task = service.create_task(
                s,
                title=f"Filing {n}",
                creator=BOSS,
                owner=None if kind == 2 else owner,
                due_at=MONDAY + (timedelta(days=2) if kind == 1 else timedelta(days=21)),
                now=made,
            )
            if kind != 2:
                service.set_progress(s, task.id, 30, by=owner, now=made + timedelta(hours=1))
            if kind == 3:
                service.block(s, task.id, "waiting on the auditors", by=owner, now=made)
            ids.append(task.id)
    return ids


def finish(engine, ids: list[int], now: datetime) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as s:
        for tid in ids:
            if s.get(Task, tid).status != "done":
                service.complete(s, tid, by=BOSS, now=now)


def _pending(engine) -> int:  # type: ignore[no-untyped-def]
    with transaction(engine) as s:
        return s.execute(select(func.count()).where(Notification.status == "pending")).scalar_one()


def _timer() -> tuple[aiohttp.TraceConfig, list[float]]:
    """Every Slack request's duration, from sending to its answer or its failure."""
    durations: list[float] = []
    trace = aiohttp.TraceConfig()

    async def start(_session, ctx: SimpleNamespace, _params) -> None:  # type: ignore[no-untyped-def]
        ctx.started = time.monotonic()

    async def end(_session, ctx: SimpleNamespace, _params) -> None:  # type: ignore[no-untyped-def]
        durations.append(time.monotonic() - ctx.started)

    trace.on_request_start.append(start)
    trace.on_request_end.append(end)
    trace.on_request_exception.append(end)
    return trace, durations


async def _no_sleep(_seconds: float) -> None:
    await asyncio.sleep(0)


async def run(
    tasks: int = 300,
    people: int = 60,
    rate: float = 0.2,
    seed: int = 1,
    slack_timeout: float = 0.3,
    database_url: str | None = None,
    max_sweeps: int = 5000,
) -> Counts:
    started = time.monotonic()
    counts = Counts(tasks=tasks, rate=rate, timeout=slack_timeout)
    users = [f"U{n:04d}" for n in range(people)]
    standin = SlackStandIn(token=TOKEN)
    for user in [*users, BOSS]:
        standin.add_user(user, name=user.lower(), tz="Europe/London")
    standin.add_channel(MANAGERS, name="managers")
    await standin.start()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(database_url or f"sqlite:///{Path(tmp) / 'vigil.db'}")
        create_schema(engine)
        ids = populate(engine, tasks, users)
        trace, durations = _timer()
        try:
            async with slack_session(slack_timeout, trace_configs=[trace]) as http:
                monitor = Monitor(
                    engine=engine,
                    cal=CAL,
                    gateway=SlackGateway(
                        make_client(TOKEN, standin.url, slack_timeout, session=http)
                    ),
                    manager_channel=MANAGERS,
                    sleep=_no_sleep,
                )
                if rate:
                    # The timeouts hold their answer well past the client's timeout.
                    standin.fail_randomly(rate, seed, hold=slack_timeout * 4, after_effect=0.5)
                await _week(monitor, engine, ids, counts, max_sweeps)
                standin.stop_failing_randomly()
            _count(standin, engine, counts, durations)
        finally:
            engine.dispose()
            await standin.stop()
    counts.seconds = time.monotonic() - started
    return counts


async def _week(monitor: Monitor, engine, ids: list[int], counts: Counts, max_sweeps: int) -> None:  # type: ignore[no-untyped-def]
    """Sweeps every STEP through the week; half the tasks done on Wednesday, the rest on
    Friday evening; then on until nothing is left to send."""
    wednesday, friday = MONDAY + timedelta(days=2, hours=3), MONDAY + timedelta(days=4, hours=8)
    now = MONDAY
    halves = [(wednesday, ids[::2]), (friday, ids)]
    while counts.sweeps < max_sweeps:
        while halves and now >= halves[0][0]:
            finish(engine, halves.pop(0)[1], now)
        await run_sweep(monitor, now)
        counts.sweeps += 1
        if not halves and _pending(engine) == 0:
            return
        now += STEP
        if not CAL.is_working_time(now):  # nothing goes out at night: on to the morning
            now = min([CAL.next_working_time(now), *(h[0] for h in halves[:1] if h[0] > now)])
    raise RuntimeError(f"{_pending(engine)} notifications still pending after {max_sweeps} sweeps")


def _count(standin: SlackStandIn, engine, counts: Counts, durations: list[float]) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as s:
        notes = s.execute(select(Notification.id, Notification.kind, Notification.status)).all()
    sent_posts = {nid for nid, kind, status in notes if status == "sent" and kind != "edit"}
    sent_edits = {nid for nid, kind, status in notes if status == "sent" and kind == "edit"}
    never_sent = sum(1 for _, _, status in notes if status == "pending")
    posted: Counter[int] = Counter()
    for call in standin.calls_to("chat.postMessage"):
        if call.applied:
            payload = (call.params.get("metadata") or {}).get("event_payload") or {}
            posted[payload.get("id", -1)] += 1
    counts.calls = standin.fault_counts["calls"]
    counts.faults = Counter(
        {k: standin.fault_counts[k] for k in ("429", "500", "503", "timeout", "reset")}
    )
    counts.lost_after_effect = standin.fault_counts["lost_after_effect"]
    counts.sent = len(sent_posts) + len(sent_edits)
    counts.posts_expected = len(sent_posts)
    counts.posts_at_slack = sum(posted.values())
    counts.edits_expected = len(sent_edits)
    counts.edits_at_slack = sum(1 for c in standin.calls_to("chat.update") if c.applied)
    counts.lost = len(sent_posts - set(posted)) + never_sent
    counts.doubled = sum(n - 1 for nid, n in posted.items() if nid in sent_posts)
    for nid in (nid for nid, n in posted.items() if n > 1):
        tried = [
            f"{c.at:.2f} {c.fault or 'ok'}{' applied' if c.applied else ''} {c.status}"
            for c in standin.calls_to("chat.postMessage")
            if ((c.params.get("metadata") or {}).get("event_payload") or {}).get("id") == nid
        ]
        counts.doubles.append(f"notification {nid}: " + "; ".join(tried))
    counts.unaccounted = sum(n for nid, n in posted.items() if nid not in sent_posts)
    counts.inside_retry_after = standin.calls_inside_retry_after
    counts.longest_call = max(durations, default=0.0)
    counts.looked_up = len(standin.calls_to("conversations.history")) + len(
        standin.calls_to("conversations.replies")
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.bench.faults", description=__doc__)
    parser.add_argument("--tasks", type=int, default=300)
    parser.add_argument("--people", type=int, default=60)
    parser.add_argument("--rate", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=0.3, help="the Slack client's, seconds")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    args = parser.parse_args()
    print(f"{platform.machine()}, {datetime.now(UTC):%Y-%m-%d}, {args.tasks} tasks")
    for rate in (0.0, args.rate):
        counts = asyncio.run(
            run(args.tasks, args.people, rate, args.seed, args.timeout, args.database_url)
        )
        print(f"Slack failing {rate:.0%} of calls" + (" (the baseline)" if not rate else ""))
        print("\n".join(counts.lines()))


if __name__ == "__main__":
    main()
