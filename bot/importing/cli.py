"""`python -m bot import FILE`: the import from the command line, with a progress bar on
stderr when it runs in a terminal."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bot.config import ConfigError, Settings
from bot.importing.formats.common import MappingError
from bot.importing.people import People
from bot.importing.report import applied_line, plan_lines
from bot.importing.run import Options, Prepared, prepare, store
from bot.importing.source import BadFile

BAR = 30


class Bar:
    """`storing ▰▰▰▰▱▱▱ 12,000/50,000`, redrawn in place; quiet when stderr is not a terminal."""

    def __init__(self, out: TextIO) -> None:
        self.out, self.total, self.shown = out, 0, ""
        self.live = out.isatty()

    def __call__(self, stage: str, n: int) -> None:
        if not self.live or (n % 500 and n != self.total):
            return
        if self.total:
            filled = min(BAR, BAR * n // self.total)
            line = f"{stage:9} {'▰' * filled}{'▱' * (BAR - filled)} {n:,}/{self.total:,}"
        else:
            line = f"{stage:9} {n:,} rows"
        self.out.write("\r" + line.ljust(len(self.shown)))
        self.out.flush()
        self.shown = line

    def end(self) -> None:
        if self.live and self.shown:
            self.out.write("\r" + " " * len(self.shown) + "\r")
            self.shown = ""


def parse_map(pairs: list[str]) -> dict[str, str]:
    found = {}
    for pair in pairs:
        column, sep, name = pair.partition("=")
        if not sep or not column.strip() or not name.strip():
            raise ConfigError(
                f"--map takes COLUMN=FIELD, e.g. --map 'Owner email=owner', not {pair!r}"
            )
        found[column.strip()] = name.strip().lower()
    return found


def run_import(args, settings: Settings, now: datetime | None = None) -> int:  # type: ignore[no-untyped-def]
    options = Options(
        tool=args.tool,
        mapping=parse_map(args.map),
        strict=args.strict,
        skip_bad=args.skip_bad,
        include_done=args.include_done,
    )
    path = Path(args.file)
    if not path.is_file():
        raise ConfigError(f"{args.file}: no such file")
    creator = args.creator or next(iter(sorted(settings.manager_user_ids)), None) or "import"
    bar = Bar(sys.stderr)
    try:
        return asyncio.run(_import(path, args.dry_run, settings, options, creator, now, bar))
    except (BadFile, MappingError) as exc:
        bar.end()
        raise ConfigError(str(exc)) from None


async def _import(
    path: Path,
    dry_run: bool,
    settings: Settings,
    options: Options,
    creator: str,
    now: datetime | None,
    bar: Bar,
) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from bot.app.factory import build_monitor, database_problem
    from bot.monitor.gateway import make_client, slack_session

    async with slack_session() as http:
        client = (
            make_client(settings.bot_token, settings.slack_api_url, session=http)
            if settings.bot_token
            else None
        )
        try:
            monitor = build_monitor(settings, client, count_open_tasks=False)  # type: ignore[arg-type]
        except (SQLAlchemyError, OSError) as exc:
            raise ConfigError(database_problem(exc)) from None
        try:
            prepared = await prepare(
                path, monitor.engine, monitor.cal, People(client), options, tick=bar
            )
            bar.end()
            print("\n".join(plan_lines(prepared.plan, dry_run=dry_run)))
            if dry_run:
                print("Dry run: nothing was stored.")
                return 0
            return await _store(prepared, monitor.engine, creator, now, bar)
        finally:
            monitor.engine.dispose()


async def _store(  # type: ignore[no-untyped-def]
    prepared: Prepared, engine, creator: str, now: datetime | None, bar: Bar
) -> int:
    if not prepared.storable:
        print("Nothing was stored: fix the rows above, or import the rest with --skip-bad.")
        return 1
    bar.total = prepared.survey.rows
    done = await asyncio.to_thread(
        store, prepared, engine, creator=creator, now=now or datetime.now(UTC), tick=bar
    )
    bar.end()
    print(applied_line(done))
    return 0
