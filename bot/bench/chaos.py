"""`python -m bot.bench.chaos`: kill `python -m bot sweep` at random moments, over and over,
and count at Slack what arrived.

A team's tasks are built through the task service (people, their tasks, progress, blocks,
deadlines) and swept at five instants of a week, with changes in between (progress reported,
tasks done) so that the sweeps send DMs batched per person, the managers' digest and
messages, edits and resolutions. The stand-in runs as a process of its own, with every post
and edit answered `slow` seconds after it took effect: the window between Slack's `ok` and
Vigil's record of it, widened so that kills land in it. At each instant a sweep process is
started and SIGKILLed at a random moment, again and again, until one finishes with nothing
left due; the kills are spread over the instants by how much each sends.

The same week swept once with no kill is the expectation. Then, at the stand-in, every
message carrying a notification id is counted: delivered once, doubled (and whether the first
copy's answer was in flight when a kill came), lost (expected and never arrived), and messages
whose final text differs from the expectation's (an edit lost). Run with the reconcile on and
off (`--reconcile both`, the default) to see what it saves.

A killed sweep's lease is released by the bench before the next start (the process is known
dead): otherwise each restart would wait out the lease, a minute, which is its own promise.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, func, select, update

from bot.bench.chaos_slack import SENDS, Count, Killing, StandIn, at_slack, count
from bot.bench.chaos_week import MANAGER, build_team, people, week
from bot.db import create_schema, make_engine, transaction
from bot.models import Case, Notification, State, Task
from bot.monitor.lease import LEASE_KEY

MANAGERS = "CMANAGERS"
TOKEN = "xoxb-standin"


# -- sweeping, and killing ------------------------------------------------------------------
def _env(db_url: str, standin: StandIn, reconcile: bool) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_API_URL=standin.url + "/api/",
        DATABASE_URL=db_url,
        MANAGER_CHANNEL=MANAGERS,
        MANAGER_USER_IDS=MANAGER,
        TEAM_TIMEZONE="Europe/London",
        VIGIL_POLICY="reconcile=on" if reconcile else "reconcile=off",
    )
    return env


def _left(engine: Engine, now: datetime) -> int:
    """What a sweep at `now` would still have to do: tasks to judge, cases to advance,
    messages due."""
    with transaction(engine) as s:
        return sum(
            s.execute(select(func.count()).where(*where)).scalar_one()
            for where in (
                (Task.next_check_at <= now,),
                (Case.status == "open", Case.next_action_at <= now),
                (Notification.status == "pending", Notification.not_before <= now),
            )
        )


def _release_lease(engine: Engine) -> None:
    with transaction(engine) as s:
        s.execute(update(State).where(State.key == LEASE_KEY).values(holder=None, until=None))


def _sent_at(engine: Engine, now: datetime) -> int:
    with transaction(engine) as s:
        return s.execute(
            select(func.count()).where(Notification.status == "sent", Notification.sent_at == now)
        ).scalar_one()


def _killed(
    proc: subprocess.Popen, standin: StandIn, rng: random.Random, startup: float, window: float
) -> bool:
    """SIGKILL `proc` at a random moment: a third of the time while it starts and judges
    (before it calls Slack), else while it sends: after its first call to Slack, within
    `window` seconds. False when it finished first."""
    if rng.random() < 1 / 3:
        moment = time.monotonic() + rng.uniform(0.2, startup)
    else:
        calls = standin.calls()
        while proc.poll() is None and standin.calls() == calls:
            time.sleep(0.02)
        moment = time.monotonic() + rng.uniform(0.0, window)
    try:
        proc.wait(timeout=max(0.0, moment - time.monotonic()))
        return False
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return True


def sweep_until_done(
    engine: Engine,
    env: dict[str, str],
    now: datetime,
    kills: int,
    rng: random.Random,
    timing: tuple[StandIn, float, float, int],
    killing: Killing,
) -> int:
    """Start `python -m bot sweep --now`, SIGKILL it at a random moment, up to `kills` times,
    then let one finish; again until nothing is left due. Returns the kills not made (the
    sweeps finished before their moment came). `timing`: the stand-in, a sweep process's
    start-up, the stand-in's slowness, and how many sends this instant makes."""
    command = [sys.executable, "-m", "bot", "sweep", "--now", now.isoformat()]
    while True:
        proc = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        killing.runs += 1
        try:
            done = _run_once(proc, engine, now, kills, rng, timing, killing)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if done == "killed":
            kills -= 1
            continue
        if proc.returncode == 0 and _left(engine, now) == 0:
            return kills
        if proc.returncode not in (0, 1):
            raise RuntimeError(
                f"python -m bot sweep --now {now.isoformat()} failed ({proc.returncode})"
            )


def _run_once(
    proc: subprocess.Popen,
    engine: Engine,
    now: datetime,
    kills: int,
    rng: random.Random,
    timing: tuple[StandIn, float, float, int],
    killing: Killing,
) -> str:
    standin, startup, slow, sends = timing
    if kills > 0:
        # Within the next few sends: a kill that came later would seldom come at all, the
        # sweep being done by then.
        left = min(3, max(1, sends - _sent_at(engine, now)))
        if _killed(proc, standin, rng, startup, slow * left):
            killing.kills.append(time.time())
            _release_lease(engine)
            return "killed"
    proc.wait()
    return "finished"


# -- one run --------------------------------------------------------------------------------
def _startup_seconds(env: dict[str, str]) -> float:
    """How long a sweep process takes with nothing to do: its start-up."""
    began = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "bot", "sweep", "--now", "2026-01-05T08:00"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.monotonic() - began


def run(
    folder: Path,
    n: int,
    kills: int,
    *,
    reconcile: bool,
    slow: float,
    seed: int,
    per_phase: list[int] | None = None,
    expected: dict[tuple, list[str]] | None = None,
    instants: int | None = None,
) -> tuple[Count | None, dict[tuple, list[str]], list[int]]:
    """The week swept with `kills` kills spread by `per_phase` (the sends of each instant in
    the unkilled week), counted against `expected`; or with none (kills 0: the expectation).
    Returns the count (None without kills), the messages by signature, and the sends made at
    each instant (measured without kills). `instants`: only the week's first few."""
    db = folder / f"chaos-{'on' if reconcile else 'off'}-{kills}.db"
    engine = make_engine(f"sqlite:///{db}")
    create_schema(engine)
    build_team(engine, n)
    standin = StandIn([*people(n), MANAGER])
    killing = Killing()
    sends: list[int] = []
    try:
        env = _env(f"sqlite:///{db}", standin, reconcile)
        startup = _startup_seconds(env) if kills else 0.0
        if kills:
            standin.post("/_standin/slow", {"methods": list(SENDS), "seconds": slow})
        rng = random.Random(seed)
        instants_swept = week(n)[:instants]
        per_phase = per_phase or [1] * len(instants_swept)
        plan = _spread(kills, per_phase)
        began = time.monotonic()
        spare = 0
        for (now, change), quota, expect in zip(instants_swept, plan, per_phase, strict=True):
            if change is not None:
                change(engine)
            before = 0 if kills else len(standin.get("/_standin/calls"))  # type: ignore[arg-type]
            timing = (standin, startup, slow, expect)
            spare = sweep_until_done(engine, env, now, quota + spare, rng, timing, killing)
            if not kills:
                calls = standin.get("/_standin/calls")[before:]  # type: ignore[index]
                sends.append(sum(1 for c in calls if c["method"] in SENDS and c["applied"]))
        killing.seconds = time.monotonic() - began
        got, _, _ = at_slack(standin, engine)
        result = count(expected or {}, standin, engine, killing, slow) if kills else None
        return result, got, sends
    finally:
        standin.stop()
        engine.dispose()


def _spread(kills: int, weights: list[int]) -> list[int]:
    total = sum(weights) or 1
    plan = [kills * w // total for w in weights]
    for i in sorted(range(len(weights)), key=lambda i: -weights[i])[: kills - sum(plan)]:
        plan[i] += 1
    return plan


def chaos(
    folder: Path,
    n: int,
    kills: int,
    *,
    reconcile: bool,
    slow: float,
    seed: int,
    instants: int | None = None,
) -> Count:
    """The expectation (the week with no kill), then the killed week, counted against it;
    the week again, from the start, until the kills asked for are made (a kill is made only
    while a sweep runs, and a week with the reconcile on runs out of sends sooner)."""
    _, expected, per_phase = run(
        folder, n, 0, reconcile=reconcile, slow=slow, seed=seed, instants=instants
    )
    total: Count | None = None
    for week_number in range(1, 6):
        left = kills - (total.kills if total else 0)
        if left <= 0:
            break
        again = folder / f"week{week_number}"
        again.mkdir()
        result, _, _ = run(
            again,
            n,
            left,
            reconcile=reconcile,
            slow=slow,
            seed=seed + week_number,
            per_phase=per_phase,
            expected=expected,
            instants=instants,
        )
        assert result is not None
        total = result if total is None else total.plus(result)
    assert total is not None
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.bench.chaos", description=__doc__)
    parser.add_argument("--people", type=int, default=30)
    parser.add_argument("--kills", type=int, default=110)
    parser.add_argument("--slow", type=float, default=0.4, help="seconds each post's answer waits")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reconcile", choices=("on", "off", "both"), default="both")
    args = parser.parse_args(argv)
    # Stopped, it stops its stand-in and sweep on the way out (the `finally`s).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    modes = {"on": [True], "off": [False], "both": [False, True]}[args.reconcile]
    print(
        f"kill loop: {args.people} people, {args.kills} kills, answers {args.slow:g} s slow, "
        f"seed {args.seed}; {platform.machine()}, {os.cpu_count()} cores, "
        f"{datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        flush=True,
    )
    worst = 0
    with tempfile.TemporaryDirectory() as tmp:
        for reconcile in modes:
            result = chaos(
                Path(tmp),
                args.people,
                args.kills,
                reconcile=reconcile,
                slow=args.slow,
                seed=args.seed,
            )
            print(f"reconcile {'on ' if reconcile else 'off'}: {result.line()}", flush=True)
            if reconcile:
                worst = max(worst, result.lost + result.doubled + result.pending)
            else:
                worst = max(worst, result.lost + result.pending)
    return 1 if worst else 0


if __name__ == "__main__":
    sys.exit(main())
