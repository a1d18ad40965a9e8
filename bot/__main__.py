"""Entry points: `python -m bot [demo | sweep | standin]`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from datetime import UTC, datetime

from dotenv import load_dotenv

EARLIEST, LATEST = 2000, 2100  # beyond these, --now is a typo, and date arithmetic overflows


def parse_now(value: str, timezone: str) -> datetime:
    """`--now` as an aware UTC instant; without an offset it is in the team's zone. Raises
    ValueError with the sentence to show."""
    from zoneinfo import ZoneInfo

    example = "2026-01-12T09:30 or 2026-01-12T09:30+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"--now takes an ISO-8601 time such as {example}, not {value!r}") from None
    if not EARLIEST <= moment.year < LATEST:
        raise ValueError(
            f"--now must fall between {EARLIEST} and {LATEST}, such as {example}, not {value!r}"
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment.astimezone(UTC)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="Vigil: work execution assurance for Slack."
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser(
        "demo", help="two weeks of a small firm against a local Slack stand-in; no setup"
    )
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
    sweep = sub.add_parser("sweep", help="one sweep as of --now (default: the clock)")
    sweep.add_argument("--now", help="ISO-8601; without an offset, in TEAM_TIMEZONE")
    sweep.add_argument(
        "--dry-run", action="store_true", help="print what would be sent; store and send nothing"
    )
    standin = sub.add_parser(
        "standin", help="run the local Slack stand-in (for trying Vigil without Slack)"
    )
    standin.add_argument("--port", type=int, default=3001)
    standin.add_argument(
        "--user", action="append", default=[], metavar="ID[:TZ]", help="a known user"
    )
    standin.add_argument(
        "--channel", action="append", default=[], metavar="ID", help="a known channel"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "demo":
        from bot.demo import run_demo

        return asyncio.run(run_demo())
    if args.command == "simulate":
        from bot.simulate import run_simulate

        return run_simulate(args.file, args.json_out, args.policy)
    if args.command == "standin":
        from bot.standin import serve_forever

        users = [dict(zip(("id", "tz"), u.split(":", 1), strict=False)) for u in args.user]
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
        if args.command == "sweep":
            settings.require("SLACK_BOT_TOKEN")
            try:
                now = parse_now(args.now, settings.team_timezone) if args.now else datetime.now(UTC)
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
            return _sweep(settings, now, args.dry_run)
        settings.require("SLACK_BOT_TOKEN")
        if not settings.app_token:
            settings.require("SLACK_SIGNING_SECRET")
        logging.getLogger().setLevel(logging.INFO)
        from bot.app import serve

        try:
            asyncio.run(serve(settings))
        except KeyboardInterrupt:
            pass
        return 0
    except ConfigError as exc:
        print(f"vigil: {exc}", file=sys.stderr)
        return 2


def _sweep(settings, now: datetime, dry_run: bool) -> int:  # type: ignore[no-untyped-def]
    from bot.app_factory import sweep_once

    report = asyncio.run(sweep_once(settings, now, dry_run=dry_run))
    print(report.summary())
    return 0 if not report.skipped else 1


if __name__ == "__main__":
    sys.exit(main())
