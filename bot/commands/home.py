"""App Home: the user's open tasks by risk, and for managers the team's open cases.

Republishing is coalesced and paced per user: at most one rebuild in flight and one a second,
so a burst of changes for one person costs one rebuild now and one more a second later,
however many clicks arrive meanwhile. A Home shows a change within about a second."""

from __future__ import annotations

import asyncio
import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands import queries
from bot.commands.common import SLACK_FAILURES, answered_at_once, off_loop, slack_said
from bot.commands.context import Context
from bot.commands.views.home import build_home
from bot.commands.views.lists import HOME_TASKS
from bot.db import reading
from bot.slack.blocks import day_label

log = logging.getLogger(__name__)


def home_view(ctx: Context, user: str) -> dict:
    now = ctx.clock()
    with reading(ctx.engine) as session:
        mine = queries.my_summaries(session, ctx, user, now, size=HOME_TASKS)
        team = queries.team_cases(session, ctx, now) if ctx.is_manager(user) else None
    local = now.astimezone(ctx.cal.tz)
    return build_home(mine, team, f"as of {day_label(local.date())} {local:%H:%M}")


HOME_EVERY = 1.0  # seconds between two rebuilds of one person's Home


async def publish_home(ctx: Context, client: AsyncWebClient, user: str) -> None:
    ctx.home_at[user] = ctx.monitor.monotonic()
    view = await off_loop(ctx, home_view, ctx, user)
    try:
        await client.views_publish(user_id=user, view=view)
    except SLACK_FAILURES as exc:
        log.warning("views.publish for %s failed: %s", user, slack_said(exc))


async def republish(ctx: Context, client: AsyncWebClient, users: set[str]) -> None:
    """Everyone whose Home shows a change. Managers' team sections change only when a sweep
    opens or resolves a finding, so a task edit republishes its owner and creator only."""
    await asyncio.gather(*(_republish_one(ctx, client, user) for user in sorted(users)))


async def _republish_one(ctx: Context, client: AsyncWebClient, user: str) -> None:
    if user in ctx.home_busy:
        ctx.home_dirty.add(user)  # the rebuild in flight, or waiting its turn, runs once more
        return
    ctx.home_busy.add(user)
    try:
        while True:
            wait = ctx.home_at.get(user, -HOME_EVERY) + HOME_EVERY - ctx.monitor.monotonic()
            if wait > 0:
                await ctx.monitor.sleep(wait)
            ctx.home_dirty.discard(user)
            await publish_home(ctx, client, user)
            if user not in ctx.home_dirty:
                break
    finally:
        ctx.home_busy.discard(user)


def register(app: AsyncApp, ctx: Context) -> None:
    async def handle_app_home_opened(event: dict, client: AsyncWebClient) -> None:
        user = event.get("user")
        if event.get("tab", "home") == "home" and isinstance(user, str) and user:
            await publish_home(ctx, client, user)

    app.event("app_home_opened")(answered_at_once(ctx, handle_app_home_opened, "App Home"))
