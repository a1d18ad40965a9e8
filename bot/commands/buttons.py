"""The buttons on Vigil's DMs, managers' messages, replies and App Home.

Each click is acked at once, carried out through the same service as `/task`, and then the
message it came from is replaced so that a clicked button never looks clickable again: its
action blocks give way to a line saying who did what.
"""

from __future__ import annotations

import json
import logging
from datetime import date

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.blocks import escape
from bot.commands import service, views
from bot.commands.common import USER_ERRORS, check_user, error_text, off_loop, responder
from bot.commands.context import Context
from bot.commands.grammar import Command, Deadline
from bot.commands.home import publish_home, republish
from bot.db import transaction
from bot.tasks import TaskError, get_task

log = logging.getLogger(__name__)


def _where(body: dict) -> tuple[int, int | None]:
    action = body["actions"][0]
    found = ids.parse_block_id(action.get("block_id", ""))
    if found is None:
        raise TaskError("That button is from an older message; use `/task list` instead.")
    return found


def _source(body: dict) -> dict:
    """Where the click came from, for a modal to update that message when it is submitted."""
    container = body.get("container", {})
    return {
        "channel": container.get("channel_id") or (body.get("channel") or {}).get("id"),
        "ts": container.get("message_ts"),
        "view": container.get("type") == "view",
    }


def settled_blocks(body: dict, line: str) -> list[dict]:
    """The clicked message as it was, minus its buttons, plus who did what."""
    kept = [b for b in (body.get("message") or {}).get("blocks", []) if b.get("type") != "actions"]
    return kept[:48] + [{"type": "context", "elements": [{"type": "mrkdwn", "text": line}]}]


async def _finish(
    ctx: Context, body: dict, client: AsyncWebClient, respond, reply: service.Reply, user: str
) -> None:
    """Replace the clicked message (or refresh App Home), then republish the Homes touched."""
    if body.get("container", {}).get("type") == "view":
        await publish_home(ctx, client, user)
    elif body.get("response_url"):
        line = f":white_check_mark: <@{user}>: {reply.text}"
        await respond(replace_original=True, text=reply.text, blocks=settled_blocks(body, line))
    ctx.spawn(republish(ctx, client, reply.touched - {user}))
    if ctx.nudge:
        ctx.nudge()


async def _fail(respond, exc: Exception) -> None:
    await respond(text=error_text(exc), response_type="ephemeral", replace_original=False)


def register(app: AsyncApp, ctx: Context) -> None:
    async def run(body: dict, client: AsyncWebClient, respond, cmd_for) -> None:
        user = body["user"]["id"]
        try:
            task_id, _ = _where(body)
            cmd = cmd_for(task_id, body["actions"][0])
            if cmd.owner:
                await check_user(ctx, client, cmd.owner)
            reply = await off_loop(service.run, ctx, cmd, user)
        except USER_ERRORS as exc:
            await _fail(respond, exc)
            return
        await _finish(ctx, body, client, respond, reply, user)

    async def handle_progress_select(ack, body, client, respond) -> None:
        await ack()
        respond = responder(ctx, body)
        await run(
            body,
            client,
            respond,
            lambda t, a: Command(
                "progress", task_id=t, progress=int(a["selected_option"]["value"])
            ),
        )

    async def handle_done(ack, body, client, respond) -> None:
        await ack()
        respond = responder(ctx, body)
        await run(body, client, respond, lambda t, a: Command("done", task_id=t))

    async def handle_move_deadline(ack, body, client, respond) -> None:
        await ack()
        respond = responder(ctx, body)

        def command(task_id: int, action: dict) -> Command:
            day = date.fromisoformat(action["selected_date"])
            if day < ctx.cal.local_date(ctx.clock()):
                raise TaskError(f"{day:%a} {day.day} {day:%b} is in the past; pick today or later.")
            return Command(
                "due", task_id=task_id, due=Deadline(ctx.cal.end_of_day(day), False, day)
            )

        await run(body, client, respond, command)

    async def handle_assign(ack, body, client, respond) -> None:
        await ack()
        respond = responder(ctx, body)
        await run(
            body,
            client,
            respond,
            lambda t, a: Command("assign", task_id=t, owner=a["selected_user"]),
        )

    async def handle_snooze(ack, body, client, respond) -> None:
        await ack()
        respond = responder(ctx, body)
        user = body["user"]["id"]
        try:
            task_id, finding_id = _where(body)
            days = int(body["actions"][0]["selected_option"]["value"])
            reply = await off_loop(service.snooze, ctx, task_id, finding_id, days, user)
        except (*USER_ERRORS, ValueError) as exc:
            await _fail(respond, exc)
            return
        await _finish(ctx, body, client, respond, reply, user)

    async def handle_ping_owner(ack, body, client: AsyncWebClient, respond) -> None:
        await ack()
        respond = responder(ctx, body)
        user = body["user"]["id"]
        if not ctx.is_manager(user):
            await _fail(respond, TaskError("Pinging an owner is for managers."))
            return
        try:
            task_id, _ = _where(body)
            task = await off_loop(_load, ctx, task_id)
        except USER_ERRORS as exc:
            await _fail(respond, exc)
            return
        if not task.owner_id:
            await _fail(respond, TaskError(f"#{task_id} has no owner to ping; reassign it."))
            return
        channel = (await client.conversations_open(users=task.owner_id))["channel"]["id"]
        await client.chat_postMessage(
            channel=channel,
            text=f"<@{user}> is asking about #{task.id} {escape(task.title)}: how is it going? "
            f"`/task progress {task.id} &lt;0-100&gt;` or `/task block {task.id} &lt;reason&gt;`.",
        )
        await respond(
            replace_original=True,
            text=f"Pinged <@{task.owner_id}> about #{task.id}",
            blocks=settled_blocks(
                body, f":mega: <@{user}> pinged <@{task.owner_id}> about #{task.id}."
            ),
        )

    async def handle_progress_other(ack, body, client: AsyncWebClient, respond) -> None:
        await ack()
        respond = responder(ctx, body)
        await _open_modal(body, client, respond, views.build_progress_modal)

    async def handle_blocked(ack, body, client: AsyncWebClient, respond) -> None:
        await ack()
        respond = responder(ctx, body)
        await _open_modal(
            body,
            client,
            respond,
            lambda tid, title, _p, meta: views.build_blocked_modal(tid, title, meta),
        )

    async def _open_modal(body, client, respond, build) -> None:
        user = body["user"]["id"]
        try:
            task_id, finding_id = _where(body)
            task = await off_loop(_load, ctx, task_id)
            if not (user in (task.owner_id, task.creator_id) or ctx.is_manager(user)):
                raise service.Refused(
                    f"Only the owner, the creator or a manager can change #{task_id}."
                )
        except USER_ERRORS as exc:
            await _fail(respond, exc)
            return
        meta = json.dumps(
            {
                "task": task_id,
                "finding": finding_id,
                **_source(body),
                "response_url": body.get("response_url"),
            }
        )
        await client.views_open(
            trigger_id=body["trigger_id"], view=build(task.id, task.title, task.progress, meta)
        )

    app.action(ids.matching(ids.ACTION_PROGRESS_SELECT))(handle_progress_select)
    app.action(ids.matching(ids.ACTION_PROGRESS_OTHER))(handle_progress_other)
    app.action(ids.matching(ids.ACTION_DONE))(handle_done)
    app.action(ids.matching(ids.ACTION_BLOCKED))(handle_blocked)
    app.action(ids.matching(ids.ACTION_SNOOZE))(handle_snooze)
    app.action(ids.matching(ids.ACTION_MOVE_DEADLINE))(handle_move_deadline)
    app.action(ids.matching(ids.ACTION_ASSIGN))(handle_assign)
    app.action(ids.matching(ids.ACTION_REASSIGN))(handle_assign)
    app.action(ids.matching(ids.ACTION_PING_OWNER))(handle_ping_owner)


def _load(ctx: Context, task_id: int):  # type: ignore[no-untyped-def]
    with transaction(ctx.engine) as session:
        return get_task(session, task_id)
