"""`python -m bot.bench.chaos`: kill Vigil's processes at random moments, over and over, and
count at Slack what arrived.

A team's tasks are built through the task service (people, their tasks, progress, blocks,
deadlines) and swept at five instants of a week, with changes in between (progress reported,
tasks done) so that the sweeps send DMs batched per person, the managers' digest and
messages, edits and resolutions. The stand-in runs as a process of its own, with every post
and edit answered `slow` seconds after it took effect: the window between Slack's `ok` and
Vigil's record of it, widened so that kills land in it. At each instant a process is started
and SIGKILLed at a random moment, again and again, until one has left nothing due: in turn
`python -m bot sweep --now …`, and `python -m bot` itself (HTTP mode, its clock the instant
through CLOCK_FILE, sweeping every second; done when nothing is due and no sweep holds the
lease, then stopped with SIGTERM). The kills are spread over the instants by how much each
sends.

The same week swept once with no kill is the expectation. Then, at the stand-in, every
message carrying a notification id is counted: delivered once, doubled (and whether the first
copy's answer was in flight when a kill came), lost (expected and never arrived), and messages
whose final text differs from the expectation's (an edit lost). Run with the reconcile on and
off (`--reconcile both`, the default) to see what it saves. On SQLite files by default, or on
a PostgreSQL database (`--database-url`), each week in a schema of its own.

A killed process's lease is released by the bench before the next start (the process is known
dead): otherwise each restart would wait out the lease (24 s for a bot sweeping every second,
a minute at most), which is a promise of its own (tests/app/test_replicas_postgres.py).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.bench.chaos_kill import KINDS, Bench, fresh_database, startup_seconds, sweep_until_done
from bot.bench.chaos_slack import SENDS, Count, Killing, StandIn, at_slack, count
from bot.bench.chaos_week import MANAGER, build_team, people, week
from bot.config import ConfigError, check_database_url
from bot.db import create_schema, make_engine

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
        # Not from the caller's environment or a .env (which never overrides what is set).
        SLACK_APP_TOKEN="",
        CLOCK_FILE="",
        HOLIDAY_COUNTRY="",
    )
    return env


# -- one run --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Setting:
    """How a week is run: the stand-in's slowness, the reconcile, the database (None: SQLite
    files), and the kinds of process started in turn (the expectation: sweeps alone)."""

    reconcile: bool = True
    slow: float = 0.4
    database_url: str | None = None
    kinds: tuple[str, ...] = KINDS


def run(
    folder: Path,
    n: int,
    kills: int,
    setting: Setting,
    *,
    seed: int,
    per_phase: list[int] | None = None,
    expected: dict[tuple, list[str]] | None = None,
    instants: int | None = None,
) -> tuple[Count | None, dict[tuple, list[str]], list[int]]:
    """The week swept with `kills` kills spread by `per_phase` (the sends of each instant in
    the unkilled week), counted against `expected`; or with none (kills 0: the expectation,
    swept by `python -m bot sweep` alone). Returns the count (None without kills), the
    messages by signature, and the sends made at each instant (measured without kills).
    `instants`: only the week's first few."""
    name = f"chaos-{'on' if setting.reconcile else 'off'}-{kills}"
    with fresh_database(setting.database_url, folder, name) as url:
        engine = make_engine(url)
        create_schema(engine)
        build_team(engine, n)
        standin = StandIn([*people(n), MANAGER])
        try:
            bench = Bench(
                engine,
                _env(url, standin, setting.reconcile),
                standin,
                folder,
                setting.slow,
                Killing(),
                random.Random(seed),
                setting.kinds if kills else ("sweep",),
            )
            sends = _week(bench, n, kills, per_phase, instants)
            got, _, _ = at_slack(standin, engine)
            result = count(expected or {}, standin, engine, bench.killing, setting.slow)
            return (result if kills else None), got, sends
        finally:
            standin.stop()
            engine.dispose()


def _week(
    bench: Bench, n: int, kills: int, per_phase: list[int] | None, instants: int | None
) -> list[int]:
    """The instants swept, killed `kills` times; the sends of each (measured without kills)."""
    if kills:
        for kind in bench.kinds:
            bench.startup[kind] = startup_seconds(bench, kind)
        bench.standin.post("/_standin/slow", {"methods": list(SENDS), "seconds": bench.slow})
    instants_swept = week(n)[:instants]
    per_phase = per_phase or [1] * len(instants_swept)
    plan = _spread(kills, per_phase)
    began = time.monotonic()
    spare = 0
    sends: list[int] = []
    for (now, change), quota, expect in zip(instants_swept, plan, per_phase, strict=True):
        if change is not None:
            change(bench.engine)
        before = 0 if kills else len(bench.standin.get("/_standin/calls"))  # type: ignore[arg-type]
        spare = sweep_until_done(bench, now, quota + spare, expect)
        if not kills:
            calls = bench.standin.get("/_standin/calls")[before:]  # type: ignore[index]
            sends.append(sum(1 for c in calls if c["method"] in SENDS and c["applied"]))
    bench.killing.seconds = time.monotonic() - began
    return sends


def _spread(kills: int, weights: list[int]) -> list[int]:
    total = sum(weights) or 1
    plan = [kills * w // total for w in weights]
    for i in sorted(range(len(weights)), key=lambda i: -weights[i])[: kills - sum(plan)]:
        plan[i] += 1
    return plan


def chaos(
    folder: Path, n: int, kills: int, setting: Setting, *, seed: int, instants: int | None = None
) -> Count:
    """The expectation (the week with no kill), then the killed week, counted against it;
    the week again, from the start, until the kills asked for are made (a kill is made only
    while a process sweeps, and a week with the reconcile on runs out of sends sooner)."""
    _, expected, per_phase = run(folder, n, 0, setting, seed=seed, instants=instants)
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
            setting,
            seed=seed + week_number,
            per_phase=per_phase,
            expected=expected,
            instants=instants,
        )
        assert result is not None
        total = result if total is None else total.plus(result)
    assert total is not None
    return total


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot.bench.chaos", description=__doc__)
    parser.add_argument("--people", type=int, default=30)
    parser.add_argument("--kills", type=int, default=110)
    parser.add_argument("--slow", type=float, default=0.4, help="seconds each post's answer waits")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reconcile", choices=("on", "off", "both"), default="both")
    parser.add_argument(
        "--processes",
        choices=("both", "sweep"),
        default="both",
        help="kill `python -m bot sweep` and `python -m bot` in turn (both), or sweeps only",
    )
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="a PostgreSQL database to run on, each week in a schema of its own (dropped "
        "after); default: SQLite files in a temporary folder",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        url = args.database_url and check_database_url(args.database_url)
    except ConfigError as exc:
        parser.error(str(exc).replace("DATABASE_URL", "--database-url"))
    if url and not url.startswith("postgresql"):
        parser.error("--database-url takes a PostgreSQL URL (SQLite is the default)")
    # Stopped, it stops its stand-in and processes on the way out (the `finally`s).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    modes = {"on": [True], "off": [False], "both": [False, True]}[args.reconcile]
    kinds = KINDS if args.processes == "both" else ("sweep",)
    print(
        f"kill loop: {args.people} people, {args.kills} kills of {' and '.join(kinds)}, answers "
        f"{args.slow:g} s slow, seed {args.seed}, {'PostgreSQL' if url else 'SQLite'}; "
        f"{platform.machine()}, {os.cpu_count()} cores, "
        f"{datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        flush=True,
    )
    worst = 0
    with tempfile.TemporaryDirectory() as tmp:
        for reconcile in modes:
            folder = Path(tmp) / ("on" if reconcile else "off")
            folder.mkdir()
            setting = Setting(reconcile, args.slow, url or None, kinds)
            result = chaos(folder, args.people, args.kills, setting, seed=args.seed)
            print(f"reconcile {'on ' if reconcile else 'off'}: {result.line()}", flush=True)
            for what, times in result.unexpected_what.items():
                print(f"  unexpected: {what}" + (f" ({times} times)" if times > 1 else ""))
            if reconcile:
                worst = max(worst, result.lost + result.doubled + result.pending)
            else:
                worst = max(worst, result.lost + result.pending)
    return 1 if worst else 0


if __name__ == "__main__":
    sys.exit(main())
