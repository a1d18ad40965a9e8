"""Build the running parts from `Settings`: the engine, the calendar, the monitor, the
handlers' context and the Bolt app with every listener registered. Nothing is built at import
time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import SQLAlchemyError

from bot.app.once import EventsOnce
from bot.calendar import WorkCalendar
from bot.commands import buttons, events, home, importing, modals, shortcut, slash
from bot.commands.context import Context
from bot.config import ConfigError, Settings
from bot.db import RightOfWay, make_engine, prepare_schema
from bot.monitor.gateway import SlackGateway, make_client, slack_session
from bot.monitor.lease import lease_for
from bot.monitor.monitor import Monitor
from bot.monitor.sweep import SweepReport, run_sweep
from bot.monitor.worker import DecideWorker, WorkerSpec
from bot.slack.payloads import refuse_malformed


def build_monitor(
    settings: Settings, client: AsyncWebClient, *, count_open_tasks: bool = True
) -> Monitor:
    """The database (created on first run, and refused with the command to run when its schema
    is behind or ahead of this code), the team's calendar, and the monitor over them."""
    engine = make_engine(settings.database_url)
    try:
        prepare_schema(engine)
    except BaseException:
        engine.dispose()
        raise
    cal = WorkCalendar(
        settings.team_timezone,
        settings.holiday_country,
        settings.policy.day_start,
        settings.policy.day_end,
    )
    return Monitor(
        engine=engine,
        cal=cal,
        policy=settings.policy,
        gateway=SlackGateway(client),
        manager_channel=settings.manager_channel,
        count_open_tasks=count_open_tasks,
        lease_seconds=lease_for(settings.sweep_interval_seconds),
    )


def file_clock(path: str) -> Callable[[], datetime]:
    """ "Now" as the instant written in `path` (CLOCK_FILE): one file moves the clocks of every
    process that reads it. An unreadable file stops the bot: a wrong clock must not judge."""
    file = Path(path)

    def now() -> datetime:
        try:
            moment = datetime.fromisoformat(file.read_text().strip())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"CLOCK_FILE {path}: {exc}") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    return now


def build_context(settings: Settings, client: AsyncWebClient, clock=None) -> Context:  # type: ignore[no-untyped-def]
    monitor = build_monitor(settings, client, count_open_tasks=False)
    ctx = Context(
        settings=settings,
        engine=monitor.engine,
        cal=monitor.cal,
        monitor=monitor,
        managers=settings.manager_user_ids,
        client=client,
    )
    if clock is None and settings.clock_file:
        clock = file_clock(settings.clock_file)
    if clock is not None:
        ctx.clock = clock
    return ctx


def open_context(settings: Settings, client: AsyncWebClient) -> Context:
    """The context, or a ConfigError naming DATABASE_URL when the database cannot be opened."""
    try:
        return build_context(settings, client)
    except (SQLAlchemyError, OSError) as exc:
        raise ConfigError(database_problem(exc)) from None


def start_decide_worker(ctx: Context) -> None:
    """Sweeps judge tasks in a worker process, off the interpreter that acks Slack."""
    m = ctx.monitor
    way = RightOfWay()  # people's writes before the worker's, on SQLite's one write lock
    way.first(ctx.engine)
    m.worker = DecideWorker(
        WorkerSpec(ctx.settings.database_url, m.cal, m.policy, m.page_size, way)
    )


class _TokenFromClient(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment itself and then warns that the client's
    token wins; Vigil hands it the client on purpose, so the warning is noise at every start."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()

    @classmethod
    def install(cls) -> None:
        logger = logging.getLogger("slack_bolt.AsyncApp")
        if not any(isinstance(f, cls) for f in logger.filters):
            logger.addFilter(cls())


def build_app(ctx: Context, client: AsyncWebClient) -> AsyncApp:
    """The Bolt app with every listener registered; nothing happens at import time."""
    _TokenFromClient.install()
    app = AsyncApp(
        client=client,
        signing_secret=ctx.settings.signing_secret or "",
        # Over HTTP the endpoint checks signatures itself, on the raw bytes, before Bolt
        # parses anything (bot/app/endpoint.py); Socket Mode needs none.
        request_verification_enabled=False,
        # Bolt answers when a listener returns; Vigil's listeners return at their ack and
        # work on in the background (bot/commands/common.py `guarded`), which answers Slack
        # sooner than Bolt's own ack poll does.
        process_before_response=True,
    )
    app.use(refuse_malformed)
    app.use(EventsOnce(ctx.engine).middleware())
    importing.register(app, ctx)  # before slash: it claims `/task import` from the same command
    for listeners in (slash, buttons, modals, shortcut, home, events):
        listeners.register(app, ctx)
    return app


async def sweep_once(settings: Settings, now: datetime, *, dry_run: bool = False) -> SweepReport:
    """`python -m bot sweep`: one sweep, safe beside a running bot (the sweep lease)."""
    async with slack_session() as http:
        client = make_client(settings.bot_token or "", settings.slack_api_url, session=http)
        try:
            monitor = build_monitor(settings, client)
        except (SQLAlchemyError, OSError) as exc:
            raise ConfigError(database_problem(exc)) from None
        try:
            return await run_sweep(monitor, now, dry_run=dry_run)
        finally:
            monitor.engine.dispose()


def database_problem(exc: Exception) -> str:
    # The driver's own words, first line only: they say what is wrong (a missing folder, a
    # refused connection) in one line, where a traceback would bury it.
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    return f"DATABASE_URL: cannot open the database: {reason}"
