"""`/task`: ack at once, then parse, carry out, and answer through the response URL."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands import service
from bot.commands.common import (
    SLACK_FAILURES,
    check_user,
    error_text,
    guarded,
    off_loop,
    responder,
    slack_said,
    tell,
)
from bot.commands.context import Context
from bot.commands.grammar import parse_command
from bot.commands.home import republish
from bot.commands.views.modals import build_new_task_modal
from bot.errors import UserError
from bot.slack import ids

log = logging.getLogger(__name__)


async def handle_task_command(ctx: Context, ack, body: dict, client: AsyncWebClient) -> None:
    await ack()
    respond = responder(ctx, body)
    user, text = body["user_id"], body.get("text") or ""
    try:
        cmd = parse_command(text, now=ctx.clock(), cal=ctx.cal)
        if cmd.verb == "new":
            await _open_new_task_form(ctx, client, body)
            return
        if cmd.owner:
            await check_user(ctx, client, cmd.owner)
        # A retried request carries the same trigger id: it must not create a second task.
        key = f"command:{body['trigger_id']}" if cmd.verb == "add" else None
        reply = await off_loop(ctx, service.run, ctx, cmd, user, key=key)
    except UserError as exc:
        await respond(text=error_text(exc), response_type="ephemeral", replace_original=False)
        return
    except Exception:
        log.exception("/task %r failed", text)
        await respond(
            text=":warning: Something went wrong on our side; nothing was changed. Try again in a minute.",
            response_type="ephemeral",
        )
        return
    await respond(
        text=reply.text,
        blocks=reply.blocks,
        response_type="in_channel" if reply.public else "ephemeral",
    )
    if reply.touched:
        ctx.spawn(republish(ctx, client, reply.touched))
    if ctx.nudge and reply.touched:
        ctx.nudge()


def register(app: AsyncApp, ctx: Context) -> None:
    app.command(ids.COMMAND)(guarded(ctx, handle_task_command, "/task"))


async def _open_new_task_form(ctx: Context, client: AsyncWebClient, body: dict) -> None:
    try:
        await client.views_open(
            trigger_id=body["trigger_id"], view=build_new_task_modal(metadata="")
        )
    except SLACK_FAILURES as exc:
        log.exception("could not open the new task form")
        await tell(
            ctx,
            client,
            body,
            f":warning: The form did not open (Slack said `{slack_said(exc)}`). Try `/task new` "
            "again, or type `/task add &lt;title&gt; @owner due &lt;date&gt;`.",
        )
