"""Three `python -m bot` processes (HTTP mode, a port each) on one PostgreSQL database, Slack
failing a fifth of all calls, 10,000 tasks over thirty simulated days. Counted at the stand-in
against the outbox: every message Vigil decided went out exactly once, in order per task; one
sweep held the lease at a time; a leader killed mid-sweep was replaced; after a crash of the
only process, its restart swept within a minute.

Simulated time: the processes read "now" from CLOCK_FILE, which this test moves (a step is
done when nothing is due as of it); the lease and Retry-After run on the real clock, as in
production. The counts are printed."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
from sqlalchemy import exists, select, update

from bot import tasks as service
from bot.db import make_engine, transaction
from bot.models import Case, CaseMessage, Notification, State, Task
from bot.monitor.lease import LEASE_KEY, lease_for
from tests.app.test_stop import _free_port
from tests.conftest import MANAGERS, TOKEN, london, needs_postgres, postgres_database

pytestmark = needs_postgres

START = london("2026-03-02T09:00")  # a Monday
DAYS = 30
TASKS = 10_000
PROBLEM_EVERY = 50  # one task in fifty is left to go late, and finished four days later
PEOPLE = [f"U{n:03d}" for n in range(40)]
BOSS = "UBOSS"
INTERVAL = 1  # SWEEP_INTERVAL_SECONDS
LEASE = lease_for(INTERVAL)
STEP_HOURS = (9, 15)  # the moments of each working day the clock stops at


class Replicas:
    """The bot processes, each in a process group of its own (it and its judging worker)."""

    def __init__(self, url: str, standin, clock_file: Path, interval: int = INTERVAL) -> None:  # type: ignore[no-untyped-def]
        self.url, self.standin, self.clock_file = url, standin, clock_file
        self.interval = interval
        self.procs: dict[int, asyncio.subprocess.Process] = {}
        self.ports: dict[int, int] = {}

    async def start(self) -> int:
        port = _free_port()
        env = {
            "PATH": os.environ.get("PATH", ""),
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": "s3cret",
            "SLACK_API_URL": self.standin.url,
            "DATABASE_URL": self.url,
            "PORT": str(port),
            "MANAGER_CHANNEL": MANAGERS,
            "TEAM_TIMEZONE": "Europe/London",
            "SWEEP_INTERVAL_SECONDS": str(self.interval),
            "CLOCK_FILE": str(self.clock_file),
        }
        if os.environ.get("PYTHONPATH"):
            env["PYTHONPATH"] = os.environ["PYTHONPATH"]
        log = (self.clock_file.parent / f"replica-{port}.log").open("ab")
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=log,  # its log: when each of its sweeps held the lease
            start_new_session=True,
        )
        log.close()
        self.procs[proc.pid], self.ports[proc.pid] = proc, port
        return proc.pid

    async def healthy(self, pid: int, limit: float = 60.0) -> None:
        deadline = time.monotonic() + limit
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                assert self.procs[pid].returncode is None, "a replica stopped at start"
                try:
                    async with http.get(f"http://127.0.0.1:{self.ports[pid]}/healthz") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"replica {pid} not healthy within {limit:g} s")

    async def kill(self, pid: int) -> None:
        """SIGKILL to the process group: the bot and its worker die at once, as in a crash."""
        proc = self.procs.pop(pid)
        os.killpg(pid, signal.SIGKILL)
        await proc.wait()

    async def stop_all(self) -> None:
        for proc in list(self.procs.values()):
            if proc.returncode is None:
                proc.terminate()
        for pid, proc in list(self.procs.items()):
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                os.killpg(pid, signal.SIGKILL)
                await proc.wait()
        self.procs.clear()


class Lease:
    """The lease row as seen from outside, polled: who held it, and when it changed hands."""

    def __init__(self, engine) -> None:  # type: ignore[no-untyped-def]
        self.engine = engine
        self.takes = 0  # sweeps seen holding it
        self.holders: set[int] = set()  # the processes whose sweeps held it
        self._last: str | None = None

    def read(self) -> tuple[str | None, datetime | None]:
        with transaction(self.engine) as s:
            row = s.get(State, LEASE_KEY)
            return (row.holder, row.until) if row is not None else (None, None)

    def look(self) -> tuple[str | None, datetime | None]:
        holder, until = self.read()
        if holder and holder != self._last:
            self.holders.add(pid_of(holder))
            self.takes += 1
        self._last = holder
        return holder, until

    async def watch(self) -> None:
        while True:
            await asyncio.to_thread(self.look)
            await asyncio.sleep(0.1)


HELD = re.compile(r"sweep as of \S+ by (\S+) held the lease (\S+) to (\S+)")


def overlapping_sweeps(folder: Path) -> tuple[int, list[tuple[str, str]]]:
    """From every replica's log, when each sweep held the lease (on the wall clock, which the
    processes share): how many sweeps, and every pair of different sweeps whose times overlap."""
    spans = sorted(
        (datetime.fromisoformat(a), datetime.fromisoformat(b), who)
        for log in folder.glob("replica-*.log")
        for who, a, b in HELD.findall(log.read_text(errors="replace"))
    )
    overlaps, latest = [], None  # latest: the sweep that held it longest so far
    for span in spans:
        if latest is not None and span[0] < latest[1]:
            overlaps.append((latest[2], span[2]))
        if latest is None or span[1] > latest[1]:
            latest = span
    return len(spans), overlaps


def set_clock(file: Path, now: datetime) -> None:
    """Every replica's "now" (CLOCK_FILE), written whole: a reader never sees half of it."""
    part = file.with_suffix(".part")
    part.write_text(now.isoformat())
    part.replace(file)


def pid_of(holder: str) -> int:
    return int(holder.split("/")[1])


def due(engine, now: datetime) -> bool:  # type: ignore[no-untyped-def]
    """Whether a sweep as of `now` has anything left to do."""
    with transaction(engine) as s:
        return bool(
            s.execute(
                select(
                    exists().where(Task.next_check_at <= now)
                    | exists().where(Case.status == "open", Case.next_action_at <= now)
                    | exists().where(
                        Notification.status == "pending", Notification.not_before <= now
                    )
                )
            ).scalar()
        )


class Month:
    """The thirty days: the tasks made each working morning (one in PROBLEM_EVERY left to go
    late), yesterday's healthy ones finished, the late ones finished four days on."""

    def __init__(self, engine) -> None:  # type: ignore[no-untyped-def]
        self.engine = engine
        days = [START + timedelta(days=d) for d in range(DAYS)]
        self.working = [d for d in days if d.weekday() < 5]
        self.per_day = -(-TASKS // len(self.working))
        self.made = 0
        self.healthy: list[int] = []
        self.late: list[tuple[datetime, int]] = []

    def morning(self, now: datetime) -> None:
        with transaction(self.engine) as s:
            # Yesterday's healthy tasks done, in one statement (as a bulk edit would).
            s.execute(
                update(Task)
                .where(Task.id.in_(self.healthy))
                .values(
                    status="done", progress=100, closed_at=now, updated_at=now, next_check_at=now
                )
            )
            self.healthy = []
            while self.late and self.late[0][0] <= now - timedelta(days=4):
                service.complete(s, self.late.pop(0)[1], by=BOSS, now=now)
            for _ in range(min(self.per_day, TASKS - self.made)):
                late = self.made % PROBLEM_EVERY == 0
                task = service.create_task(
                    s,
                    title=f"Filing {self.made}",
                    creator=BOSS,
                    owner=PEOPLE[self.made % len(PEOPLE)],
                    due_at=now + timedelta(days=1 if late else 14),
                    now=now,
                )
                s.flush()
                if late:
                    self.late.append((now, task.id))
                else:
                    self.healthy.append(task.id)
                self.made += 1

    def finish_all(self, now: datetime) -> None:
        with transaction(self.engine) as s:
            for tid in self.healthy + [tid for _, tid in self.late]:
                service.complete(s, tid, by=BOSS, now=now)
        self.healthy, self.late = [], []


async def until_done(engine, now: datetime, limit: float = 90.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + limit
    while await asyncio.to_thread(due, engine, now):
        assert time.monotonic() < deadline, f"still due as of {now} after {limit:g} s"
        await asyncio.sleep(0.2)


async def held_by_one(lease: Lease, procs: dict, limit: float = 30.0) -> int | None:
    """The pid of a replica holding the lease, as soon as one does."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        holder, _ = await asyncio.to_thread(lease.look)
        if holder and pid_of(holder) in procs:
            return pid_of(holder)
        await asyncio.sleep(0.02)
    return None


async def taken_over(lease: Lease, dead: int, limit: float) -> float | None:
    """Seconds until a sweep of another process held the lease."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        holder, _ = await asyncio.to_thread(lease.look)
        if holder and pid_of(holder) != dead:
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    return None


def outcome(engine, standin) -> dict:  # type: ignore[no-untyped-def]
    """Slack's side against the outbox's."""
    with transaction(engine) as s:
        notes = {n.id: n for n in s.execute(select(Notification)).scalars()}
        tasks_of: dict[int, list[int]] = {}
        for note_id, task_id in s.execute(
            select(CaseMessage.notification_id, Case.task_id).join(
                Case, Case.id == CaseMessage.case_id
            )
        ):
            tasks_of.setdefault(task_id, []).append(note_id)
    posts = [c for c in standin.calls_to("chat.postMessage") if c.applied]
    ids = [((c.params.get("metadata") or {}).get("event_payload") or {}).get("id") for c in posts]
    posted = Counter(ids)
    sent_posts = {i for i, n in notes.items() if n.status == "sent" and n.kind != "edit"}
    sent_edits = {i for i, n in notes.items() if n.status == "sent" and n.kind == "edit"}
    edited = Counter(c.params.get("ts") for c in standin.calls_to("chat.update") if c.applied)
    place = {i: n for n, i in enumerate(ids)}
    out_of_order = across = 0
    for note_ids in tasks_of.values():
        shown = sorted(i for i in note_ids if i in sent_posts)
        # In one conversation, a task's messages read in the order they were decided.
        for channel in {notes[i].channel for i in shown}:
            here = [place.get(i, -1) for i in shown if notes[i].channel == channel]
            out_of_order += here != sorted(here)
        # Across conversations a message held back by a fault can come after a later one.
        across += [place.get(i, -1) for i in shown] != sorted(place.get(i, -1) for i in shown)
    return {
        "notifications": len(notes),
        "posts expected": len(sent_posts),
        "posts at Slack": len(posts),
        "edits expected": len(sent_edits),
        "edits at Slack": sum(edited.values()),
        "lost": len(sent_posts - set(posted))
        + sum(1 for n in notes.values() if n.status == "pending"),
        "doubled": sum(k - 1 for i, k in posted.items() if i in sent_posts),
        "unaccounted": sum(k for i, k in posted.items() if i not in sent_posts),
        # What the outbox says of those: posted, then the process died or the answer was lost,
        # and by the next attempt there was nothing left to say.
        "unaccounted by status": dict(
            Counter(
                notes[i].status if i in notes else "none" for i in posted if i not in sent_posts
            )
        ),
        "unaccounted shown twice": sum(
            1 for i, k in posted.items() if i not in sent_posts and k > 1
        ),
        "tasks out of order in a conversation": out_of_order,
        "tasks whose messages crossed between conversations": across,
        "failed": sum(1 for n in notes.values() if n.status == "failed"),
    }


async def test_three_replicas_on_postgres_through_thirty_days_of_slack_failing(standin, tmp_path):
    for user in [*PEOPLE, BOSS]:
        standin.add_user(user, name=user.lower(), tz="Europe/London")
    clock_file = tmp_path / "now"
    clock_file.write_text(START.isoformat())
    began = time.monotonic()
    with postgres_database() as url:
        replicas = Replicas(url, standin, clock_file)
        engine = make_engine(url)
        watching = None
        try:
            # Started at once on an empty database: all three migrate it in turn and start.
            pids = [await replicas.start() for _ in range(3)]
            for pid in pids:
                await replicas.healthy(pid)
            lease = Lease(engine)
            watching = asyncio.ensure_future(lease.watch())
            standin.fail_randomly(0.2, seed=12, after_effect=0.5)
            month, figures = Month(engine), {}
            for n, day in enumerate(month.working):
                for hour in STEP_HOURS:
                    now = day.replace(hour=day.hour + hour - 9)
                    if hour == 9:
                        await asyncio.to_thread(month.morning, now)
                    set_clock(clock_file, now)
                    if n == 6 and hour == 9:  # a leader killed in the middle of a sweep
                        figures["replaced after"] = await kill_the_leader(replicas, lease)
                    await until_done(engine, now)
            # The last day: everything finished, then on until every message has gone.
            now = month.working[-1] + timedelta(days=3)
            await asyncio.to_thread(month.finish_all, now)
            now = await drain(engine, clock_file, now)
            figures["restart swept after"] = await crash_the_only_one(replicas, lease, engine, now)
            await drain(engine, clock_file, now + timedelta(days=2))
            figures |= outcome(engine, standin)
        finally:
            if watching is not None:
                watching.cancel()
            await replicas.stop_all()
            engine.dispose()
    faults = standin.fault_counts
    sweeps_logged, overlaps = overlapping_sweeps(tmp_path)
    figures |= {
        "tasks": month.made,
        "Slack calls": faults["calls"],
        "faults": {k: faults[k] for k in ("429", "500", "503", "timeout", "reset")},
        "answers lost after Slack applied the call": faults["lost_after_effect"],
        "calls inside a Retry-After": standin.calls_inside_retry_after,
        "sweeps seen holding the lease": lease.takes,
        "processes that led": len(lease.holders),
        "sweeps logged holding the lease": sweeps_logged,
        "sweeps overlapping another": len(overlaps),
        "seconds": round(time.monotonic() - began),
    }
    print(figures)
    assert month.made == TASKS
    assert figures["posts expected"] > 100 and figures["edits expected"] > 50
    assert figures["lost"] == 0 and figures["doubled"] == 0
    assert figures["unaccounted shown twice"] == 0
    assert figures["edits at Slack"] >= figures["edits expected"]
    assert figures["tasks out of order in a conversation"] == 0
    assert figures["calls inside a Retry-After"] == 0
    assert len(lease.holders) >= 2
    # One leader at a time, seen from the replicas themselves: no two sweeps held the lease
    # at once (a sweep killed mid-way logs nothing; its successor waited out its lease).
    assert sweeps_logged > 40 and overlaps == []
    assert figures["replaced after"] <= LEASE + 2 * INTERVAL + 2
    assert figures["restart swept after"] < 60


async def drain(engine, clock_file: Path, now: datetime) -> datetime:  # type: ignore[no-untyped-def]
    """On an hour at a time until nothing is left to send."""
    for _ in range(48):
        set_clock(clock_file, now)
        await until_done(engine, now)
        if not await asyncio.to_thread(pending, engine):
            return now
        now += timedelta(hours=1)
    raise AssertionError("notifications still pending after two days")


def pending(engine) -> bool:  # type: ignore[no-untyped-def]
    with transaction(engine) as s:
        return bool(s.execute(select(exists().where(Notification.status == "pending"))).scalar())


async def kill_the_leader(replicas: Replicas, lease: Lease) -> float:
    """SIGKILL the replica holding the lease as soon as one does; start a new one. Seconds
    until a sweep of another replica held the lease."""
    leader = await held_by_one(lease, replicas.procs)
    assert leader is not None, "no sweep took the lease"
    await replicas.kill(leader)
    replaced = await taken_over(lease, leader, limit=LEASE + 30)
    assert replaced is not None, "no replica took over"
    await replicas.healthy(await replicas.start())
    return round(replaced, 1)


async def crash_the_only_one(replicas: Replicas, lease: Lease, engine, now: datetime) -> float:  # type: ignore[no-untyped-def]
    """Stop two replicas, give the third a day's work, SIGKILL it mid-sweep, start it again:
    seconds from the restart until its sweep held the lease."""
    survivors = list(replicas.procs)
    for pid in survivors[1:]:
        proc = replicas.procs.pop(pid)
        proc.terminate()
        await proc.wait()
    with transaction(engine) as s:
        for n in range(20):
            service.create_task(
                s, title=f"Late {n}", creator=BOSS, owner=PEOPLE[n % 4], due_at=now, now=now
            )
    now += timedelta(days=2)
    set_clock(replicas.clock_file, now)
    only = await held_by_one(lease, replicas.procs)
    assert only is not None, "the only replica never swept"
    await replicas.kill(only)
    restarted = time.monotonic()
    new = await replicas.start()
    while True:
        holder, _ = await asyncio.to_thread(lease.look)
        if holder and pid_of(holder) == new:
            return round(time.monotonic() - restarted, 1)
        assert time.monotonic() - restarted < 90, "the restart never swept"
        await asyncio.sleep(0.1)


async def test_at_a_thirteen_second_interval_a_killed_leader_is_replaced_within_two(
    standin, tmp_path
):
    """The promise at the shortest interval it is made for: the lease, 24 s at the shortest
    (it must outlast a Slack call), runs out, and the other replica tries a second after, 25 s
    at most, within two intervals from 13 s up. Two replicas sweeping every 13 s, the one
    holding the lease SIGKILLed in the middle of a sweep."""
    interval = 13
    for user in [*PEOPLE[:4], BOSS]:
        standin.add_user(user, name=user.lower(), tz="Europe/London")
    clock_file = tmp_path / "now"
    clock_file.write_text(START.isoformat())
    with postgres_database() as url:
        replicas = Replicas(url, standin, clock_file, interval=interval)
        engine = make_engine(url)
        try:
            for pid in [await replicas.start() for _ in range(2)]:
                await replicas.healthy(pid)
            await asyncio.to_thread(make_work, engine, 5000)  # a sweep long enough to kill in
            lease = Lease(engine)
            leader = await held_by_one(lease, replicas.procs, limit=3 * interval)
            assert leader is not None, "no sweep took the lease"
            await replicas.kill(leader)
            await asyncio.to_thread(make_work, engine, 50)  # due whatever the sweep had done
            replaced = await taken_over(lease, leader, limit=4 * interval)
        finally:
            await replicas.stop_all()
            engine.dispose()
    print({"interval": interval, "replaced after": replaced})
    assert replaced is not None and replaced <= 2 * interval


def make_work(engine, n: int) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as s:
        for k in range(n):
            service.create_task(
                s,
                title=f"Work {k}",
                creator=BOSS,
                owner=PEOPLE[k % 4],
                due_at=START + timedelta(days=10),
                now=START,
            )
