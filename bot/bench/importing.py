"""`python -m bot.bench.importing`: how long bringing in a board takes.

Three figures, on SQLite files in a temporary folder:
1. importing 10,000 tasks from a CSV export (`python -m bot import`'s own path: survey, plan,
   store in pages of 500 through the task service), with a fifth of them subtasks;
2. the same tasks created one `/task add` at a time through the real app over signed HTTP
   requests and the Slack stand-in, as a person (or a script) would have to without an import:
   `--adds` of them timed (all 10,000 by default) and the rate shown;
3. a 50,000-row export, first, with the process's peak resident memory before and after, to
   show that the import reads in pages rather than holding the file.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.calendar import WorkCalendar
from bot.db import create_schema, make_engine
from bot.importing.people import People
from bot.importing.run import Options, prepare, store
from bot.importing.source import csv_text

CAL = WorkCalendar("Europe/London", "GB")
PEOPLE = ("UDANA", "ULEE", "UTOM", "UMARCUS")


def export(path: Path, n: int) -> Path:
    """`n` cards: owners as Slack mentions, deadlines in March, a fifth of them subtasks."""
    rows = [["id", "title", "owner", "due", "progress", "status", "parent"]]
    for i in range(1, n + 1):
        parent = str(i - 1) if i % 5 == 0 else ""
        rows.append(
            [
                str(i),
                f"Task {i} for client {i % 97}",
                f"<@{PEOPLE[i % len(PEOPLE)]}>",
                f"2026-03-{1 + i % 28:02d}",
                str(i % 90),
                "Blocked" if i % 50 == 0 else "In progress",
                parent,
            ]
        )
    path.write_text(csv_text(rows))
    return path


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


async def time_import(folder: Path, n: int) -> tuple[float, float, int]:
    """(seconds to check and plan, seconds to store, tasks created)."""
    engine = make_engine(f"sqlite:///{folder / f'import-{n}.db'}")
    create_schema(engine)
    path = export(folder / f"export-{n}.csv", n)
    start = time.perf_counter()
    prepared = await prepare(path, engine, CAL, People(None), Options())
    planned = time.perf_counter()
    done = store(prepared, engine, creator="UMARCUS", now=datetime(2026, 1, 5, 9, tzinfo=UTC))
    stored = time.perf_counter()
    engine.dispose()
    return planned - start, stored - planned, done.created


async def time_adds(folder: Path, n: int) -> float:
    """Seconds for `n` `/task add` commands, one after another, each answered before the next."""
    from bot.standin.server import SlackStandIn
    from bot.standin.wire import TOKEN, SlackWire

    standin = SlackStandIn(token=TOKEN)
    for user in PEOPLE:
        standin.add_user(user, name=user[1:].lower(), tz="Europe/London")
    standin.add_channel("CMANAGERS")
    await standin.start()
    wire = SlackWire(
        standin, f"sqlite:///{folder / 'adds.db'}", datetime(2026, 1, 5, 9, tzinfo=UTC)
    )
    await wire.start()
    try:
        start = time.perf_counter()
        for i in range(1, n + 1):
            reply = await wire.command(
                f"add Task {i} for client {i % 97} <@{PEOPLE[i % len(PEOPLE)]}> due 2026-03-{1 + i % 28:02d}",
                user="UMARCUS",
            )
            assert reply and "#" in str(reply.get("text")), reply
        return time.perf_counter() - start
    finally:
        await wire.stop()
        await standin.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.bench.importing")
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--adds", type=int, default=10_000, help="/task add commands to time")
    parser.add_argument("--large", type=int, default=50_000, help="rows of the large export")
    args = parser.parse_args(argv)
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.system()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.large:  # first, so that its peak memory is its own
            before = peak_mb()
            plan_s, store_s, created = asyncio.run(time_import(folder, args.large))
            print(
                f"import {args.large:,} tasks: {plan_s + store_s:.1f} s "
                f"(check and plan {plan_s:.1f} s, store {store_s:.1f} s); peak memory "
                f"{before:.0f} MB before, {peak_mb():.0f} MB after"
            )
        plan_s, store_s, created = asyncio.run(time_import(folder, args.tasks))
        print(
            f"import {args.tasks:,} tasks: {plan_s + store_s:.1f} s "
            f"(check and plan {plan_s:.1f} s, store {store_s:.1f} s; {created:,} created)"
        )
        if args.adds:
            adds_s = asyncio.run(time_adds(folder, args.adds))
            rate = args.adds / adds_s
            print(
                f"/task add x {args.adds:,} through the app: {adds_s:.1f} s "
                f"({1000 / rate:.1f} ms each; {args.tasks / rate:.0f} s for {args.tasks:,})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
