"""Events that keep what Vigil knows of people current: `user_change` says at once that
someone's status says they are away (or back), changed their time zone, or was deactivated,
so `missing_owner` does not wait for a DM to them to fail."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands.common import answered_at_once, off_loop
from bot.commands.context import Context
from bot.db import transaction
from bot.monitor import people

log = logging.getLogger(__name__)


def _record(ctx: Context, person: people.Person) -> bool:
    now = ctx.clock()
    with transaction(ctx.engine) as session:
        changed = people.record(session, person, now)
    ctx.monitor.users.pop(person.id, None)  # the delivery's cache reads the new row
    return changed


async def handle_user_change(ctx: Context, event: dict) -> None:
    user = event.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str) or not user["id"]:
        log.warning("a user_change event without a user: ignored")
        return
    if await off_loop(ctx, _record, ctx, people.Person.from_slack(user)) and ctx.nudge:
        ctx.nudge()


def register(app: AsyncApp, ctx: Context) -> None:
    async def listener(event: dict, client: AsyncWebClient) -> None:
        await handle_user_change(ctx, event)

    app.event("user_change")(answered_at_once(ctx, listener, "user_change"))
