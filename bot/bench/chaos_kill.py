"""The kill loop's processes (bot/bench/chaos.py): `python -m bot sweep --now …` and `python -m
bot` (HTTP mode, its clock the instant through CLOCK_FILE, sweeping every second), started in
turn at each instant, SIGKILLed at random moments, until one has left nothing due.

A sweep process is done when it exits. A bot never exits by itself: it is done when, in one
snapshot, nothing is due as of the instant and no sweep holds the lease; it is then stopped
as a process manager stops it (SIGTERM). A kill reaches the process group: the bot and its
judging worker die at once, as in a crash.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

from sqlalchemy import Engine, func, select, update

from bot.bench.chaos_slack import Killing, StandIn, free_port
from bot.db import reading, schema_of_its_own, transaction
from bot.models import Case, Notification, State, Task
from bot.monitor.lease import LEASE_KEY

KINDS = ("sweep", "serve")  # `python -m bot sweep --now …`, and `python -m bot`
QUIET = datetime.fromisoformat("2026-01-05T08:00+00:00")  # before the team's first task is due
RUN_LIMIT = 300.0  # seconds a process may take over one instant before the bench gives up


@dataclass
class Bench:
    """What every start at every instant needs."""

    engine: Engine
    env: dict[str, str]
    standin: StandIn
    folder: Path
    slow: float
    killing: Killing
    rng: random.Random
    kinds: tuple[str, ...] = ("sweep",)

    def __post_init__(self) -> None:
        self.clock_file = self.folder / "clock"
        self.log = self.folder / "processes.log"
        self.startup = {kind: 0.0 for kind in KINDS}


# -- the database ---------------------------------------------------------------------------
@contextmanager
def fresh_database(base_url: str | None, folder: Path, name: str) -> Iterator[str]:
    """A SQLite file in `folder`, or (given a PostgreSQL URL) a schema of its own in that
    database, dropped afterwards."""
    if not base_url:
        yield f"sqlite:///{folder / name}.db"
        return
    with schema_of_its_own(base_url, "vigil_chaos") as url:
        yield url


def left_due(engine: Engine, now: datetime) -> int:
    """What a sweep at `now` would still have to do: tasks to judge, cases to advance,
    messages due."""
    with reading(engine) as s:
        return _left(s, now)


def _left(s, now: datetime) -> int:  # type: ignore[no-untyped-def]
    return sum(
        s.execute(select(func.count()).where(*where)).scalar_one()
        for where in (
            (Task.next_check_at <= now,),
            (Case.status == "open", Case.next_action_at <= now),
            (Notification.status == "pending", Notification.not_before <= now),
        )
    )


def _settled(engine: Engine, now: datetime) -> bool:
    """Nothing due as of `now`, and no sweep holding the lease: a bot has finished the instant."""
    with reading(engine) as s:
        lease = s.get(State, LEASE_KEY)
        return (lease is None or lease.holder is None) and _left(s, now) == 0


def _release_lease(engine: Engine, dead: int) -> None:
    """The lease of a process known dead, let go (its holder names its pid)."""
    with transaction(engine) as s:
        lease = s.get(State, LEASE_KEY, with_for_update=True)
        if lease is not None and lease.holder and lease.holder.split("/")[1] == str(dead):
            s.execute(update(State).where(State.key == LEASE_KEY).values(holder=None, until=None))


def _sent_at(engine: Engine, now: datetime) -> int:
    with reading(engine) as s:
        return s.execute(
            select(func.count()).where(Notification.status == "sent", Notification.sent_at == now)
        ).scalar_one()


# -- starting, stopping, killing ------------------------------------------------------------
def set_clock(file: Path, now: datetime) -> None:
    """The bot's "now" (CLOCK_FILE), written whole: it never reads half of it."""
    part = file.with_suffix(".part")
    part.write_text(now.isoformat())
    part.replace(file)


def start(bench: Bench, kind: str, now: datetime) -> tuple[subprocess.Popen, int]:
    """A process of `kind` sweeping as of `now`, in a process group of its own; its port."""
    command, extra, port = ["sweep", "--now", now.isoformat()], {}, 0
    if kind == "serve":
        set_clock(bench.clock_file, now)
        port = free_port()
        command = []
        extra = {
            "PORT": str(port),
            "CLOCK_FILE": str(bench.clock_file),
            "SWEEP_INTERVAL_SECONDS": "1",
            "SLACK_SIGNING_SECRET": "chaos-bench",
        }
    with bench.log.open("a") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", *command],
            env={**bench.env, **extra},
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
    return proc, port


def kill(proc: subprocess.Popen) -> None:
    """SIGKILL to the process group (the bot and its worker), as in a crash."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM, as a process manager stops the bot; what is left of its group is then killed."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
    kill(proc)


def _done(bench: Bench, kind: str, proc: subprocess.Popen, now: datetime) -> bool:
    if proc.poll() is not None:
        return True
    return kind == "serve" and _settled(bench.engine, now)


def _wait(bench: Bench, kind: str, proc: subprocess.Popen, now: datetime, until: float) -> bool:
    """Wait until the process is done (True) or the monotonic `until` came (False)."""
    while not _done(bench, kind, proc, now):
        if time.monotonic() >= until:
            return False
        time.sleep(min(0.05, max(0.0, until - time.monotonic())))
    return True


def _killed(bench: Bench, kind: str, proc: subprocess.Popen, now: datetime, window: float) -> bool:
    """SIGKILL `proc` at a random moment: a third of the time while it starts and judges
    (before it calls Slack), else while it sends: after its first call to Slack, within
    `window` seconds. False when it was done first."""
    if bench.rng.random() < 1 / 3:
        moment = time.monotonic() + bench.rng.uniform(0.2, bench.startup[kind])
    else:
        calls = bench.standin.calls()
        while bench.standin.calls() == calls:
            if _wait(bench, kind, proc, now, time.monotonic() + 0.02):
                return False
        moment = time.monotonic() + bench.rng.uniform(0.0, window)
    if _wait(bench, kind, proc, now, moment):
        return False
    kill(proc)
    return True


def sweep_until_done(bench: Bench, now: datetime, kills: int, sends: int) -> int:
    """Start a process (the kinds in turn), SIGKILL it at a random moment, up to `kills` times,
    then let one finish; again until nothing is left due. Returns the kills not made (the
    processes were done before their moment came). `sends`: how many this instant makes."""
    while True:
        kind = bench.kinds[bench.killing.runs % len(bench.kinds)]
        proc, _ = start(bench, kind, now)
        bench.killing.runs += 1
        bench.killing.runs_by[kind] += 1
        try:
            if kills > 0:
                # Within the next few sends: a later kill would seldom come, the sweep done.
                left = min(3, max(1, sends - _sent_at(bench.engine, now)))
                if _killed(bench, kind, proc, now, bench.slow * left):
                    bench.killing.kills.append(time.time())
                    bench.killing.kills_by[kind] += 1
                    if kind == "serve":
                        bench.killing.serve_kills.append(bench.killing.kills[-1])
                    _release_lease(bench.engine, proc.pid)
                    kills -= 1
                    continue
            if not _wait(bench, kind, proc, now, time.monotonic() + RUN_LIMIT):
                raise RuntimeError(f"{kind} as of {now.isoformat()} not done in {RUN_LIMIT:g} s")
            failed = proc.poll() is not None and proc.returncode not in (0, 1)
        finally:
            stop(proc)
        if failed:
            raise RuntimeError(f"{kind} as of {now.isoformat()} failed: see {bench.log}")
        if left_due(bench.engine, now) == 0:
            return kills


def startup_seconds(bench: Bench, kind: str) -> float:
    """How long a process takes to sweep with nothing to do: a sweep's whole run, a bot's
    start until its health says it swept."""
    began = time.monotonic()
    proc, port = start(bench, kind, QUIET)
    try:
        while kind == "serve" and proc.poll() is None:
            try:
                with urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
                    if resp.status == 200:
                        break
            except (URLError, OSError):
                pass
            if time.monotonic() - began > 60:
                raise RuntimeError(f"the bot did not start in 60 s: see {bench.log}")
            time.sleep(0.05)
        if kind == "sweep" and proc.wait() != 0:
            raise RuntimeError(f"a sweep as of {QUIET} failed: see {bench.log}")
        return time.monotonic() - began
    finally:
        stop(proc)
