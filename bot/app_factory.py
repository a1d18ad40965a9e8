"""Build the running parts from `Settings`: the engine, the calendar, the monitor."""

from __future__ import annotations

from datetime import datetime

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import SQLAlchemyError

from bot.calendar import WorkCalendar
from bot.config import ConfigError, Settings
from bot.db import create_schema, make_engine
from bot.monitor.gateway import SlackGateway, make_client
from bot.monitor.monitor import Monitor
from bot.monitor.sweep import SweepReport, run_sweep


def build_monitor(
    settings: Settings, client: AsyncWebClient, *, count_open_tasks: bool = True
) -> Monitor:
    """The database (created on first run), the team's calendar, and the monitor over them."""
    engine = make_engine(settings.database_url)
    create_schema(engine)
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
    )


async def sweep_once(settings: Settings, now: datetime, *, dry_run: bool = False) -> SweepReport:
    """`python -m bot sweep`: one sweep, safe beside a running bot (the sweep lease)."""
    async with aiohttp.ClientSession() as http:
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
