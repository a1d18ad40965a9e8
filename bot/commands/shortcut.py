"""The message shortcut "Create task from message": the new task form, filled in from the
message (its first line as the title, the whole text as the description, the first person it
mentions as the owner) and linked back to it."""

from __future__ import annotations

import asyncio
import json
import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands.common import SLACK_FAILURES, channel_of, guarded, slack_said, tell
from bot.commands.context import Context
from bot.commands.views.modals import build_new_task_modal
from bot.slack import ids
from bot.slack.text import mentioned_users, plain
from bot.tasks import MAX_TEXT, MAX_TITLE

log = logging.getLogger(__name__)


async def handle_message_shortcut(ctx: Context, ack, body: dict, client: AsyncWebClient) -> None:
    await ack()
    message = body.get("message") or {}
    text = str(message.get("text") or "")
    people = mentioned_users(text)
    link, names = await asyncio.gather(
        _permalink(client, channel_of(body), message.get("ts")), _names(client, people)
    )
    readable = plain(text, names).strip()
    first_line = next((line for line in readable.splitlines() if line.strip()), "")
    view = build_new_task_modal(
        title=" ".join(first_line.split())[:MAX_TITLE],
        description=readable[:MAX_TEXT],
        link=link,
        owner=people[0] if people else None,
        metadata=json.dumps({"link": link}),
    )
    try:
        await client.views_open(trigger_id=body["trigger_id"], view=view)
    except SLACK_FAILURES as exc:
        log.exception("could not open the form for the message shortcut")
        await tell(
            ctx,
            client,
            body,
            f":warning: The form did not open (Slack said `{slack_said(exc)}`). Try the "
            "shortcut again, or type `/task add &lt;title&gt; due &lt;date&gt;`.",
        )


def register(app: AsyncApp, ctx: Context) -> None:
    app.shortcut(ids.SHORTCUT_FROM_MESSAGE)(
        guarded(ctx, handle_message_shortcut, "the message shortcut")
    )


async def _permalink(client: AsyncWebClient, channel: str | None, ts: object) -> str | None:
    if not channel or not isinstance(ts, str):
        return None
    try:
        return (await client.chat_getPermalink(channel=channel, message_ts=ts))["permalink"]
    except SLACK_FAILURES as exc:
        log.warning("chat.getPermalink failed: %s", slack_said(exc))
        return None


async def _names(client: AsyncWebClient, people: list[str]) -> dict[str, str]:
    """Display names for the people a message mentions, so the form reads `@dana` rather than
    a user id; whoever Slack cannot name in a second keeps their id."""

    async def name(user_id: str) -> str | None:
        try:
            user = (await asyncio.wait_for(client.users_info(user=user_id), 1.0))["user"]
        except SLACK_FAILURES:
            return None
        profile = user.get("profile") or {}
        return profile.get("display_name") or profile.get("real_name") or user.get("name")

    found = await asyncio.gather(*(name(u) for u in people[:10]))
    return {u: n for u, n in zip(people, found, strict=False) if n}
