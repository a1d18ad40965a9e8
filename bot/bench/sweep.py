"""`python -m bot.bench.sweep`: sweep cost over 10k, 100k and 1M synthetic open tasks on SQLite.

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

from sqlalchemy import func, update
from sqlalchemy.engine import make_url

from bot.calendar import WorkCalendar
from bot.db import create_schema, make_engine
from bot.models import Task
from bot.monitor.monitor import Monitor
from bot.monitor.sweep import run_sweep

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
FMT = "%Y-%m-%d %H:%M:%S.%f"


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).strftime(FMT)


def synthetic(n: int, seed: int = 7):  # type: ignore[no-untyped-def]
    """`n` open tasks as rows of the task table, naive UTC times. Most are healthy (owner,
    deadline weeks away, recent progress); about 1% lack an owner or a deadline."""
    rng = random.Random(seed)
    naive = START.replace(tzinfo=None)
    for i in range(1, n + 1):
        created = naive - timedelta(days=rng.randint(0, 3))
        activity = naive - timedelta(hours=rng.randint(0, 20))
        due = naive + timedelta(days=rng.randint(20, 60))
        odd = rng.random()
        owner = None if odd < 0.005 else f"U{i % 12:03d}"
        yield (
            i,
            f"task {i}",
            owner,
            "UBOSS",
            None if 0.005 <= odd < 0.01 else due,
            rng.randint(40, 60),
            "open",
            created,
            created,
            activity,
            created,
            False,
        )


COLUMNS = (
    "id, title, owner_id, creator_id, due_at, progress, status, created_at, updated_at,"
    " activity_at, next_check_at, due_has_time"
)


def load(url: str, n: int) -> None:
    """Insert the tasks straight through the driver (sqlite3's executemany, PostgreSQL's
    COPY): the bench is about sweeping, not loading."""
    if url.startswith("sqlite"):
        con = sqlite3.connect(make_url(url).database)
        con.execute("PRAGMA synchronous=OFF")
        # SQLite keeps times as text, in the format SQLAlchemy writes and reads back.
        rows = (tuple(v.strftime(FMT) if isinstance(v, datetime) else v for v in r) for r in synthetic(n))  # fmt: skip
        con.executemany(f"INSERT INTO task ({COLUMNS}) VALUES ({','.join('?' * 12)})", rows)
        con.commit()
        con.close()
        return
    engine = make_engine(url)
    con = engine.raw_connection()
    with con.cursor() as cur, cur.copy(f"COPY task ({COLUMNS}) FROM STDIN") as copy:
        for row in synthetic(n):
            copy.write_row(row)
    con.commit()
    con.close()
    engine.dispose()


def touch(url: str, n: int, now: datetime, share: float = 0.01, seed: int = 11) -> None:
    """About 1% of tasks report progress, as between two sweeps five minutes apart."""
    rng = random.Random(seed)
    ids = rng.sample(range(1, n + 1), max(1, int(n * share)))
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            update(Task)
            .where(Task.id.in_(ids))
            .values(
                progress=func.min(100, Task.progress + 5)
                if url.startswith("sqlite")
                else func.least(100, Task.progress + 5),
                activity_at=now,
                updated_at=now,
                next_check_at=now,
            )
        )
    engine.dispose()


def database_for(n: int, workdir: Path, postgres: str | None) -> str:
    """Where the `n`-task bench lives: a SQLite file in `workdir`, or a schema of its own in
    the PostgreSQL database `postgres`."""
    if postgres is None:
        return f"sqlite:///{workdir / f'bench-{n}.db'}"
    return (
        make_url(postgres)
        .update_query_dict({"options": f"-csearch_path=vigil_bench_{n}"})
        .render_as_string(hide_password=False)
    )


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


def _again(url: str, n: int, monitor: Monitor, now: datetime, reports: list) -> float:
    touch(url, n, now - timedelta(minutes=1), seed=13)
    return measure(lambda: reports.append(asyncio.run(run_sweep(monitor, now))))


def prepare(n: int, workdir: Path, postgres: str | None = None) -> float:
    url = database_for(n, workdir, postgres)
    if postgres is None:
        path = workdir / f"bench-{n}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        admin = make_engine(postgres)
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS vigil_bench_{n} CASCADE")
            conn.exec_driver_sql(f"CREATE SCHEMA vigil_bench_{n}")
        admin.dispose()
    engine = make_engine(url)
    create_schema(engine)
    engine.dispose()
    t0 = time.perf_counter()
    load(url, n)
    if postgres is not None:
        admin = make_engine(url)
        with admin.begin() as conn:
            conn.exec_driver_sql("ANALYZE")  # as autovacuum soon would: plans for the real size
        admin.dispose()
    return time.perf_counter() - t0


def drop(n: int, postgres: str) -> None:
    admin = make_engine(postgres)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS vigil_bench_{n} CASCADE")
    admin.dispose()


def bench(n: int, workdir: Path, postgres: str | None = None) -> dict:
    url = database_for(n, workdir, postgres)
    engine = make_engine(url)
    monitor = Monitor(engine=engine, cal=WorkCalendar("Europe/London", "GB"))
    cold_now = START + timedelta(hours=1)
    reports = []
    rss_start = peak_rss_mib()
    cold = measure(lambda: reports.append(asyncio.run(run_sweep(monitor, cold_now))))
    rss_cold = peak_rss_mib()
    steady_now = cold_now + timedelta(minutes=5)
    touch(url, n, steady_now - timedelta(minutes=1))
    steady = min(
        measure(lambda: reports.append(asyncio.run(run_sweep(monitor, steady_now)))),
        # A second steady sweep five minutes on, with another 1% changed: the figure is the
        # better of the two, as a sweep every five minutes would see.
        _again(url, n, monitor, steady_now + timedelta(minutes=5), reports),
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
    from bot.sim.replay import replay
    from bot.sim.scenario.load import parse_scenario

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
    from bot.sim.generate import firm

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


def header(postgres: str | None = None) -> str:
    """Where and when the figures were taken: they mean nothing without it."""
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    database = f"SQLite {sqlite3.sqlite_version}"
    if postgres is not None:
        engine = make_engine(postgres)
        with engine.connect() as conn:
            database = "PostgreSQL " + conn.exec_driver_sql("SHOW server_version").scalar()
        engine.dispose()
    return (
        f"# {datetime.now(UTC):%Y-%m-%d} · {platform.machine()} · {os.cpu_count()} cores · "
        f"{ram:.0f} GiB · Python {platform.python_version()} · {database} · "
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
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="sweep PostgreSQL instead of SQLite, e.g. postgresql+psycopg://postgres@127.0.0.1/test"
        " (each size in a schema of its own, dropped after)",
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
        print(json.dumps({"load_s": prepare(args.load, Path(args.dir), args.postgres)}))
        return
    if args.one:
        print(json.dumps(bench(args.one, Path(args.dir), args.postgres)))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    child = ["--dir"] + (["--postgres", args.postgres] if args.postgres else [])
    print(header(args.postgres))
    print(
        "| open tasks | cold sweep: all judged (baseline) | steady sweep: 1% changed "
        "| steady / cold | tasks looked at (steady) | RSS at start → peak |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="vigil-bench-", dir=args.dir) as tmp:
        for n in sizes:
            # Loading and sweeping each in a process of its own: the peak memory is the sweeps'.
            for step in ("--load", "--one"):
                out = subprocess.run(
                    [sys.executable, "-m", "bot.bench.sweep", step, str(n), *child[:1], tmp, *child[1:]],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
            if args.postgres:
                drop(n, args.postgres)
            r = json.loads(out.strip().splitlines()[-1])
            print(
                f"| {n:,} | {r['cold_s']:.2f} s | {r['steady_s']:.3f} s | "
                f"{r['steady_s'] / r['cold_s']:.3f} | {r['steady_checked']:,} | "
                f"{r['rss_start_mib']:.0f} → {r['rss_peak_mib']:.0f} MiB |",
                flush=True,
            )


if __name__ == "__main__":
    main()
