"""`python -m bot.bench`: sweep cost over 10k, 100k and 1M synthetic open tasks on SQLite.

For each size: load the tasks (about 1% with a problem), run a cold sweep (every task judged:
this is also what a monitor that re-reads every task each time would pay, the baseline), then
the steady state: 1% of tasks change, the clock moves five minutes, and a sweep runs (twice;
the better is kept). Loading and sweeping run in separate processes, so the peak resident
memory shown is the sweeping process's: at start (interpreter and imports) and at its peak.
Delivery is left out (no Slack): this measures deciding, which is what grows with tasks.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.calendar import WorkCalendar
from bot.db import create_schema, make_engine
from bot.monitor.monitor import Monitor
from bot.monitor.sweep import run_sweep

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
FMT = "%Y-%m-%d %H:%M:%S.%f"


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).strftime(FMT)


def load(path: Path, n: int, seed: int = 7) -> None:
    """Insert `n` open tasks straight through sqlite3: the bench is about sweeping, not
    loading. Most are healthy (owner, deadline weeks away, recent progress); about 1% lack an
    owner or a deadline."""
    rng = random.Random(seed)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    rows = []
    for i in range(1, n + 1):
        created = START - timedelta(days=rng.randint(0, 3))
        activity = START - timedelta(hours=rng.randint(0, 20))
        due = START + timedelta(days=rng.randint(20, 60))
        odd = rng.random()
        owner = None if odd < 0.005 else f"U{i % 12:03d}"
        due_s = None if 0.005 <= odd < 0.01 else _ts(due)
        rows.append(
            (
                i,
                f"task {i}",
                owner,
                "UBOSS",
                due_s,
                rng.randint(40, 60),
                "open",
                _ts(created),
                _ts(created),
                _ts(activity),
                _ts(created),
            )
        )
        if len(rows) == 50_000:
            _insert(con, rows)
            rows = []
    _insert(con, rows)
    con.commit()
    con.close()


def _insert(con: sqlite3.Connection, rows: list[tuple]) -> None:
    con.executemany(
        "INSERT INTO task (id, title, owner_id, creator_id, due_at, progress, status, created_at,"
        " updated_at, activity_at, next_check_at, due_has_time) VALUES (?,?,?,?,?,?,?,?,?,?,?,0)",
        rows,
    )


def touch(path: Path, n: int, now: datetime, share: float = 0.01, seed: int = 11) -> None:
    """About 1% of tasks report progress, as between two sweeps five minutes apart."""
    rng = random.Random(seed)
    ids = rng.sample(range(1, n + 1), max(1, int(n * share)))
    con = sqlite3.connect(path)
    con.executemany(
        "UPDATE task SET progress = min(100, progress + 5), activity_at = ?, updated_at = ?,"
        " next_check_at = ? WHERE id = ?",
        [(_ts(now), _ts(now), _ts(now), i) for i in ids],
    )
    con.commit()
    con.close()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def measure(fn) -> float:
    gc.collect()
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _again(path: Path, n: int, monitor: Monitor, now: datetime, reports: list) -> float:
    touch(path, n, now - timedelta(minutes=1), seed=13)
    return measure(lambda: reports.append(asyncio.run(run_sweep(monitor, now))))


def prepare(n: int, workdir: Path) -> float:
    path = workdir / f"bench-{n}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    create_schema(engine)
    engine.dispose()
    t0 = time.perf_counter()
    load(path, n)
    return time.perf_counter() - t0


def bench(n: int, workdir: Path) -> dict:
    path = workdir / f"bench-{n}.db"
    engine = make_engine(f"sqlite:///{path}")
    monitor = Monitor(engine=engine, cal=WorkCalendar("Europe/London", "GB"))
    cold_now = START + timedelta(hours=1)
    reports = []
    rss_start = peak_rss_mib()
    cold = measure(lambda: reports.append(asyncio.run(run_sweep(monitor, cold_now))))
    rss_cold = peak_rss_mib()
    steady_now = cold_now + timedelta(minutes=5)
    touch(path, n, steady_now - timedelta(minutes=1))
    steady = min(
        measure(lambda: reports.append(asyncio.run(run_sweep(monitor, steady_now)))),
        # A second steady sweep five minutes on, with another 1% changed: the figure is the
        # better of the two, as a sweep every five minutes would see.
        _again(path, n, monitor, steady_now + timedelta(minutes=5), reports),
    )
    engine.dispose()
    return {
        "n": n,
        "cold_s": cold,
        "steady_s": steady,
        "rss_start_mib": rss_start,
        "rss_peak_mib": max(rss_cold, peak_rss_mib()),
        "cold_checked": reports[0].checked,
        "steady_checked": reports[1].checked,
        "opened": reports[0].opened,
    }


def bench_replay(people: int, tasks: int, seed: int) -> dict:
    """A quarter (October to December) of a synthetic firm, 30-minute sweeps, 5% of tasks
    stalling at 40%; and, as the baseline, the same history applied with no monitor at all."""
    from bot.replay import replay
    from bot.scenario import parse_scenario

    scenario = parse_scenario(quarter(people, tasks, seed))
    t0 = time.perf_counter()
    asyncio.run(replay(scenario, monitor_on=False))
    baseline = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = asyncio.run(replay(scenario))
    full = time.perf_counter() - t0
    return {
        "people": people,
        "tasks": tasks,
        "updates": sum(len(t.updates) for t in scenario.tasks),
        "sweeps": result.sweeps,
        "swept": result.swept,
        "messages": len(result.messages),
        "baseline_s": baseline,
        "replay_s": full,
    }


def quarter(people: int, tasks: int, seed: int) -> dict:
    from bot.scenario_gen import firm

    return firm(
        name=f"{people}p-{tasks}t",
        people=people,
        tasks=tasks,
        start=date(2026, 10, 1),
        end=date(2026, 12, 31),
        trouble=0.05,
        seed=seed,
    )


def time_simulate_command(people: int, tasks: int, seed: int) -> float:
    """The whole `python -m bot simulate FILE` as a user runs it: start-up, reading the file,
    the replay, the report. Wall time."""
    with tempfile.TemporaryDirectory(prefix="vigil-bench-") as tmp:
        path = Path(tmp) / f"{people}p-{tasks}t.json"
        path.write_text(json.dumps(quarter(people, tasks, seed)))
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot", "simulate", str(path)],
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - t0


def header() -> str:
    """Where and when the figures were taken: they mean nothing without it."""
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"# {datetime.now(UTC):%Y-%m-%d} · {platform.machine()} · {os.cpu_count()} cores · "
        f"{ram:.0f} GiB · Python {platform.python_version()} · SQLite {sqlite3.sqlite_version} · "
        f"load average {os.getloadavg()[0]:.2f}"
    )


def main_replay(sizes: list[tuple[int, int]]) -> None:
    print(header())
    print(
        "| people | tasks | updates | sweeps (run) | messages | history only (baseline) "
        "| full replay | full / baseline |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for people, tasks in sizes:
        r = bench_replay(people, tasks, seed=4)
        print(
            f"| {people:,} | {tasks:,} | {r['updates']:,} | {r['sweeps']:,} ({r['swept']:,}) "
            f"| {r['messages']:,} | {r['baseline_s']:.1f} s | {r['replay_s']:.1f} s "
            f"| {r['replay_s'] / r['baseline_s']:.1f} |",
            flush=True,
        )
    people, tasks = sizes[0]
    print(
        f"\n`python -m bot simulate` of the {people}x{tasks} quarter, the whole command: "
        f"{time_simulate_command(people, tasks, seed=4):.1f} s wall",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument(
        "--dir", default=None, help="where the bench databases go (default: a temp dir)"
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child run: one size
    parser.add_argument("--load", type=int, help=argparse.SUPPRESS)  # a child run: load only
    parser.add_argument(
        "--replay",
        nargs="?",
        const="12x300,1000x20000",
        metavar="PEOPLExTASKS,...",
        help="time `simulate` over a quarter instead (default: 12x300,1000x20000)",
    )
    args = parser.parse_args()
    if args.replay:
        main_replay([tuple(int(x) for x in size.split("x")) for size in args.replay.split(",")])
        return
    if args.load:
        print(json.dumps({"load_s": prepare(args.load, Path(args.dir))}))
        return
    if args.one:
        print(json.dumps(bench(args.one, Path(args.dir))))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    print(header())
    print(
        "| open tasks | cold sweep: all judged (baseline) | steady sweep: 1% changed "
        "| steady / cold | tasks looked at (steady) | RSS at start → peak |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="vigil-bench-", dir=args.dir) as tmp:
        for n in sizes:
            # Loading and sweeping each in a process of its own: the peak memory is the sweeps'.
            subprocess.run(
                [sys.executable, "-m", "bot.bench", "--load", str(n), "--dir", tmp],
                check=True,
                capture_output=True,
            )
            out = subprocess.run(
                [sys.executable, "-m", "bot.bench", "--one", str(n), "--dir", tmp],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            r = json.loads(out.strip().splitlines()[-1])
            print(
                f"| {n:,} | {r['cold_s']:.2f} s | {r['steady_s']:.3f} s | "
                f"{r['steady_s'] / r['cold_s']:.3f} | {r['steady_checked']:,} | "
                f"{r['rss_start_mib']:.0f} → {r['rss_peak_mib']:.0f} MiB |",
                flush=True,
            )


if __name__ == "__main__":
    main()
