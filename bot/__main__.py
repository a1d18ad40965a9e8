"""Entry points: `python -m bot [demo | simulate | sweep | import | standin | slack | db]`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from datetime import UTC, datetime

from dotenv import load_dotenv

EARLIEST, LATEST = 2000, 2100  # beyond these, --now is a typo, and date arithmetic overflows


def parse_now(value: str, settings, wall: datetime | None = None) -> datetime:  # type: ignore[no-untyped-def]
    """`--now` as an aware UTC instant: ISO-8601 (without an offset, in the team's zone), or a
    day and time as `/task` reads them, counted from the clock (`in 4 working days 10:00`).
    Raises ValueError with the sentence to show."""
    from zoneinfo import ZoneInfo

    example = "2026-01-12T09:30, 2026-01-12T09:30+00:00 or 'in 4 working days 10:00'"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = _relative_now(value, settings, wall or datetime.now(UTC))
        if moment is None:
            raise ValueError(
                f"--now takes an ISO-8601 time or a day and time such as {example}, not {value!r}"
            ) from None
    if not EARLIEST <= moment.year < LATEST:
        raise ValueError(
            f"--now must fall between {EARLIEST} and {LATEST}, such as {example}, not {value!r}"
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(settings.team_timezone))
    return moment.astimezone(UTC)


def _relative_now(value: str, settings, wall: datetime) -> datetime | None:  # type: ignore[no-untyped-def]
    from bot.calendar import WorkCalendar
    from bot.dates import parse_deadline
    from bot.errors import UserError

    cal = WorkCalendar(settings.team_timezone, settings.holiday_country)
    try:
        deadline = parse_deadline(value, now=wall, cal=cal)
    except UserError:
        return None
    return deadline.at if deadline.has_time else None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="Vigil: work execution assurance for Slack."
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser(
        "demo", help="two weeks of a small firm against a local Slack stand-in; no setup"
    )
    for add in (_add_simulate, _add_sweep, _add_import, _add_db, _add_standin, _add_slack):
        add(sub)
    return parser


def _add_simulate(sub) -> None:  # type: ignore[no-untyped-def]
    simulate = sub.add_parser(
        "simulate", help="replay a scenario file and report what Vigil would have said"
    )
    simulate.add_argument("file", help="a scenario in YAML or JSON (see data/scenarios/)")
    simulate.add_argument(
        "--json",
        dest="json_out",
        metavar="OUT",
        help="write every message and the final tasks here",
    )
    simulate.add_argument(
        "--policy",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting, e.g. stall_days=5 (repeatable)",
    )
    simulate.add_argument(
        "--truth",
        metavar="TRUTH.json",
        help="what really happened to each task: judge the replay by product.md §6",
    )


def _add_sweep(sub) -> None:  # type: ignore[no-untyped-def]
    sweep = sub.add_parser("sweep", help="one sweep as of --now (default: the clock)")
    sweep.add_argument(
        "--now",
        help="ISO-8601 (without an offset, in TEAM_TIMEZONE), or a day and time from today "
        "such as 'in 4 working days 10:00'",
    )
    sweep.add_argument(
        "--dry-run", action="store_true", help="print what would be sent; store and send nothing"
    )


def _add_import(sub) -> None:  # type: ignore[no-untyped-def]
    importing = sub.add_parser(
        "import", help="bring in the tasks of an export (Asana, Trello, Jira, ClickUp, …)"
    )
    importing.add_argument("file", help="the export: CSV, Trello's JSON, or XLSX")
    importing.add_argument("--dry-run", action="store_true", help="print the plan; store nothing")
    importing.add_argument("--from", dest="tool", metavar="TOOL", help="the tool, if not guessed")
    importing.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="COLUMN=FIELD",
        help="read COLUMN as FIELD (title, owner, due, progress, status, parent, id, ...)",
    )
    importing.add_argument("--strict", action="store_true", help="refuse owners Slack lacks")
    importing.add_argument("--skip-bad", action="store_true", help="store the good rows anyway")
    importing.add_argument("--include-done", action="store_true", help="bring finished cards too")
    importing.add_argument("--creator", metavar="USER", help="who the tasks are created by")


def _add_db(sub) -> None:  # type: ignore[no-untyped-def]
    db = sub.add_parser("db", help="the database's schema: upgrade it, or show its revision")
    db_actions = db.add_subparsers(dest="db_command", required=True)
    db_actions.add_parser(
        "upgrade", help="migrate the database to this Vigil's schema (back up first)"
    )
    db_actions.add_parser("current", help="the database's revision and whether it is at head")


def _add_standin(sub) -> None:  # type: ignore[no-untyped-def]
    standin = sub.add_parser(
        "standin", help="run the local Slack stand-in (for trying Vigil without Slack)"
    )
    standin.add_argument("--port", type=int, default=3001)
    standin.add_argument(
        "--user",
        action="append",
        default=[],
        metavar="ID[:TZ[:NAME]]",
        help="a known user; UDANA is called dana unless named",
    )
    standin.add_argument(
        "--channel", action="append", default=[], metavar="ID", help="a known channel"
    )


def _add_slack(sub) -> None:  # type: ignore[no-untyped-def]
    """`slack command|messages|click`, each told where the bot and the stand-in are."""
    where_ = argparse.ArgumentParser(add_help=False)
    where_.add_argument("--bot", metavar="URL", help="the bot (default: http://127.0.0.1:$PORT)")
    where_.add_argument(
        "--standin", metavar="URL", help="the stand-in (default: from SLACK_API_URL)"
    )
    slack = sub.add_parser(
        "slack", help="play Slack by hand against a running bot and stand-in (see README.md)"
    )
    acts = slack.add_subparsers(dest="slack_command", required=True)
    typed = acts.add_parser("command", parents=[where_], help='type a command: "/task list"')
    typed.add_argument("text", help='the command as typed, e.g. "/task add Q3 filing @dana"')
    typed.add_argument("--user", required=True, help="who types it, e.g. UDANA")
    typed.add_argument("--channel", default="C0GENERAL", help="where it is typed")
    listed = acts.add_parser("messages", parents=[where_], help="what the stand-in holds")
    only = listed.add_mutually_exclusive_group()
    only.add_argument("--user", help="only this person's DM")
    only.add_argument("--channel", help="only this channel")
    clicked = acts.add_parser("click", parents=[where_], help="click a button on a message")
    clicked.add_argument("message", help="its number in `slack messages`, or latest (in your DM)")
    clicked.add_argument("button", help="its number under the message, or its label, e.g. Done")
    clicked.add_argument("--value", help="for a menu or a date picker: what to pick")
    clicked.add_argument("--user", required=True, help="who clicks, e.g. UDANA")


def run_slack(args, settings) -> int:  # type: ignore[no-untyped-def]
    """`python -m bot slack …`, printing what Slack would have shown."""
    import aiohttp

    from bot.standin import byhand as slackcli

    bot_url = (args.bot or f"http://127.0.0.1:{settings.port}").rstrip("/")
    standin_url = (args.standin or settings.slack_api_url.removesuffix("api/")).rstrip("/")

    async def go() -> str:
        async with aiohttp.ClientSession() as http:
            remote = slackcli.Remote(bot_url, standin_url, settings.signing_secret or "", http)
            names = await remote.names()
            if args.slack_command == "messages":
                found = await remote.messages(user=args.user, channel=args.channel)
                return slackcli.show_messages(found, names)
            if args.slack_command == "command":
                replies = await slackcli.command(remote, args.text, args.user, channel=args.channel)
            else:
                replies = await slackcli.click(
                    remote, args.message, args.button, args.user, value=args.value
                )
            return slackcli.show_reply(replies, names)

    try:
        print(asyncio.run(go()))
    except slackcli.ByHandError as exc:
        print(f"vigil: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "demo":
        from bot.sim.demo import run_demo

        return asyncio.run(run_demo())
    if args.command == "simulate":
        from bot.sim.simulate import run_simulate

        return run_simulate(args.file, args.json_out, args.policy, truth_path=args.truth)
    if args.command == "standin":
        from bot.standin.server import serve_forever

        users = [dict(zip(("id", "tz", "name"), u.split(":", 2), strict=False)) for u in args.user]
        channels = [{"id": c} for c in args.channel]
        try:
            asyncio.run(serve_forever("127.0.0.1", args.port, users, channels))
        except KeyboardInterrupt:
            pass
        return 0

    load_dotenv()
    from bot.config import ConfigError, Settings

    try:
        settings = Settings.from_env()
        if args.command == "slack":
            if args.slack_command != "messages":
                settings.require("SLACK_SIGNING_SECRET")
            return run_slack(args, settings)
        if args.command == "db":
            return run_db(args.db_command, settings)
        if args.command == "sweep":
            try:  # what was typed is checked first: a token set later will not fix it
                now = parse_now(args.now, settings) if args.now else datetime.now(UTC)
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
            settings.require("SLACK_BOT_TOKEN")
            return _sweep(settings, now, args.dry_run)
        if args.command == "import":
            from bot.importing.cli import run_import

            return run_import(args, settings)
        settings.require("SLACK_BOT_TOKEN")
        if not settings.app_token:
            settings.require("SLACK_SIGNING_SECRET")
        logging.getLogger().setLevel(logging.INFO)
        from bot.app.server import serve

        try:
            asyncio.run(serve(settings))
        except KeyboardInterrupt:
            pass
        return 0
    except ConfigError as exc:
        print(f"vigil: {exc}", file=sys.stderr)
        return 2


def run_db(action: str, settings) -> int:  # type: ignore[no-untyped-def]
    """`db upgrade` prints what it did; `db current` the revision, exiting 1 when not at head."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.app.factory import database_problem
    from bot.config import ConfigError
    from bot.db import make_engine
    from bot.migrations import runner

    try:
        engine = make_engine(settings.database_url)
    except OSError as exc:
        raise ConfigError(database_problem(exc)) from None
    try:
        if action == "upgrade":
            print(runner.prepare(engine, upgrade=True).summary())
            return 0
        status = runner.current(engine)
        print(status.describe())
        return 0 if status.at_head else 1
    except (SQLAlchemyError, OSError) as exc:
        raise ConfigError(database_problem(exc)) from None
    finally:
        engine.dispose()


def _sweep(settings, now: datetime, dry_run: bool) -> int:  # type: ignore[no-untyped-def]
    from bot.app.factory import sweep_once

    report = asyncio.run(sweep_once(settings, now, dry_run=dry_run))
    print(report.summary())
    return 0 if not report.skipped else 1


if __name__ == "__main__":
    sys.exit(main())
