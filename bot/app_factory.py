"""Build the running parts from `Settings`: the engine, the Slack client, the monitor."""

from __future__ import annotations

from datetime import datetime

from bot.calendar import WorkCalendar
from bot.config import Settings
from bot.db import create_schema, make_engine
from bot.monitor.gateway import SlackGateway, make_client
from bot.monitor.monitor import Monitor
from bot.monitor.sweep import SweepReport, run_sweep


def build_monitor(settings: Settings) -> tuple[Monitor, object]:
    engine = make_engine(settings.database_url)
    create_schema(engine)
    client = make_client(settings.bot_token or "", settings.slack_api_url)
    cal = WorkCalendar(
        settings.team_timezone,
        settings.holiday_country,
        settings.policy.day_start,
        settings.policy.day_end,
    )
    monitor = Monitor(
        engine=engine,
        cal=cal,
        policy=settings.policy,
        gateway=SlackGateway(client),
        manager_channel=settings.manager_channel,
    )
    return monitor, client


async def sweep_once(settings: Settings, now: datetime, *, dry_run: bool = False) -> SweepReport:
    monitor, client = build_monitor(settings)
    try:
        return await run_sweep(monitor, now, dry_run=dry_run)
    finally:
        if getattr(client, "session", None):
            await client.session.close()
        monitor.engine.dispose()
