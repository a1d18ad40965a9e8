"""The buttons on Vigil's DMs, managers' messages, replies and App Home.

Each click is acked at once, carried out through the same service as `/task`, and then the
message it came from is replaced so that a clicked button never looks clickable again: its
action blocks give way to a line saying who did what.
"""

from __future__ import annotations

import json
import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands import service, views
from bot.commands.common import (
    SLACK_FAILURES,
    USER_ERRORS,
    channel_of,
    check_user,
    error_text,
    guarded,
    off_loop,
    responder,
    slack_said,
    tell,
)
from bot.commands.context import Context
from bot.commands.grammar import Command, Deadline
from bot.commands.home import publish_home, republish
from bot.db import transaction
from bot.monitor.gateway import USER_GONE_ERRORS
from bot.slack import ids
from bot.slack.blocks import escape
from bot.slack.payloads import selected_day, selected_number, selected_user
from bot.tasks import TaskError, get_task

log = logging.getLogger(__name__)


def _where(body: dict) -> tuple[int, int | None]:
    action = body["actions"][0]
    found = ids.parse_block_id(str(action.get("block_id", "")))
    if found is None:
        raise TaskError("That button is from an older message; use `/task list` instead.")
    return found


def _source(body: dict) -> dict:
    """Where the click came from, for a modal to update that message when it is submitted."""
    container = body.get("container") or {}
    return {
        "channel": channel_of(body),
        "ts": container.get("message_ts"),
        "view": container.get("type") == "view",
    }


def settled_blocks(body: dict, line: str) -> list[dict]:
    """The clicked message as it was, minus its buttons, plus who did what."""
    blocks = (body.get("message") or {}).get("blocks") or []
    kept = [b for b in blocks if isinstance(b, dict) and b.get("type") != "actions"]
    return kept[:48] + [{"type": "context", "elements": [{"type": "mrkdwn", "text": line}]}]


async def _finish(
    ctx: Context, body: dict, client: AsyncWebClient, reply: service.Reply, user: str
) -> None:
    """Replace the clicked message (or refresh App Home), then republish the Homes touched."""
    touched = reply.touched | {user}
    if body.get("container", {}).get("type") == "view":
        await publish_home(ctx, client, user)
        touched.discard(user)  # the Home clicked in is the one just published
    elif body.get("response_url"):
        line = f":white_check_mark: <@{user}>: {reply.text}"
        await responder(ctx, body)(
            replace_original=True, text=reply.text, blocks=settled_blocks(body, line)
        )
    ctx.spawn(republish(ctx, client, touched))
    if ctx.nudge:
        ctx.nudge()


def register(app: AsyncApp, ctx: Context) -> None:
    async def run(body: dict, client: AsyncWebClient, cmd_for) -> None:
        user = body["user"]["id"]
        try:
            task_id, _ = _where(body)
            cmd = cmd_for(task_id, body["actions"][0])
            if cmd.owner:
                await check_user(ctx, client, cmd.owner)
            reply = await off_loop(service.run, ctx, cmd, user)
        except USER_ERRORS as exc:
            await tell(ctx, client, body, error_text(exc))
            return
        await _finish(ctx, body, client, reply, user)

    async def handle_progress_select(ack, body: dict, client: AsyncWebClient) -> None:
        await ack()

        def command(task_id: int, action: dict) -> Command:
            example = f"/task progress {task_id} 40"
            progress = selected_number(action, range(101), "a percentage", example)
            return Command("progress", task_id=task_id, progress=progress)

        await run(body, client, command)

    async def handle_done(ack, body: dict, client: AsyncWebClient) -> None:
        await ack()
        await run(body, client, lambda t, a: Command("done", task_id=t))

    async def handle_move_deadline(ack, body: dict, client: AsyncWebClient) -> None:
        await ack()

        def command(task_id: int, action: dict) -> Command:
            day = selected_day(action, f"/task due {task_id} friday")
            if day < ctx.cal.local_date(ctx.clock()):
                raise TaskError(f"{day:%a} {day.day} {day:%b} is in the past; pick today or later.")
            return Command(
                "due", task_id=task_id, due=Deadline(ctx.cal.end_of_day(day), False, day)
            )

        await run(body, client, command)

    async def handle_assign(ack, body: dict, client: AsyncWebClient) -> None:
        await ack()

        def command(task_id: int, action: dict) -> Command:
            owner = selected_user(action, f"/task assign {task_id} @dana")
            return Command("assign", task_id=task_id, owner=owner)

        await run(body, client, command)

    async def handle_snooze(ack, body: dict, client: AsyncWebClient) -> None:
        await ack()
        user = body["user"]["id"]
        try:
            task_id, finding_id = _where(body)
            days = selected_number(
                body["actions"][0],
                range(1, ctx.monitor.policy.snooze_max_days + 1),
                "how many working days",
                "1, 2 or 3 working days",
            )
            reply = await off_loop(service.snooze, ctx, task_id, finding_id, days, user)
        except USER_ERRORS as exc:
            await tell(ctx, client, body, error_text(exc))
            return
        await _finish(ctx, body, client, reply, user)

    async def handle_ping_owner(ack, body: dict, client: AsyncWebClient) -> None:
        await ack()
        user = body["user"]["id"]
        if not ctx.is_manager(user):
            await tell(
                ctx, client, body, error_text(TaskError("Pinging an owner is for managers."))
            )
            return
        try:
            task_id, _ = _where(body)
            task = await off_loop(_load, ctx, task_id)
        except USER_ERRORS as exc:
            await tell(ctx, client, body, error_text(exc))
            return
        if not task.owner_id:
            await tell(
                ctx, client, body, f":warning: #{task_id} has no owner to ping; reassign it."
            )
            return
        try:
            channel = (await client.conversations_open(users=task.owner_id))["channel"]["id"]
            await client.chat_postMessage(
                channel=channel,
                text=f"<@{user}> is asking about #{task.id} {escape(task.title)}: how is it going? "
                f"`/task progress {task.id} &lt;0-100&gt;` or `/task block {task.id} &lt;reason&gt;`.",
            )
        except SLACK_FAILURES as exc:
            log.exception("could not ping %s about #%s", task.owner_id, task.id)
            await tell(ctx, client, body, _ping_failed(task.owner_id, task.id, exc))
            return
        await responder(ctx, body)(
            replace_original=True,
            text=f"Pinged <@{task.owner_id}> about #{task.id}",
            blocks=settled_blocks(
                body, f":mega: <@{user}> pinged <@{task.owner_id}> about #{task.id}."
            ),
        )

    async def handle_progress_other(ack, body: dict, client: AsyncWebClient) -> None:
        await ack()
        await _open_modal(
            body, client, views.build_progress_modal, "`/task progress {id} &lt;0-100&gt;`"
        )

    async def handle_blocked(ack, body: dict, client: AsyncWebClient) -> None:
        await ack()
        await _open_modal(
            body,
            client,
            lambda tid, title, _p, meta: views.build_blocked_modal(tid, title, meta),
            "`/task block {id} &lt;reason&gt;`",
        )

    async def _open_modal(body: dict, client: AsyncWebClient, build, instead: str) -> None:
        user = body["user"]["id"]
        try:
            task_id, finding_id = _where(body)
            task = await off_loop(_load, ctx, task_id)
            if not (user in (task.owner_id, task.creator_id) or ctx.is_manager(user)):
                raise service.Refused(
                    f"Only the owner, the creator or a manager can change #{task_id}."
                )
        except USER_ERRORS as exc:
            await tell(ctx, client, body, error_text(exc))
            return
        meta = json.dumps(
            {
                "task": task_id,
                "finding": finding_id,
                **_source(body),
                "response_url": body.get("response_url"),
            }
        )
        try:
            await client.views_open(
                trigger_id=body["trigger_id"], view=build(task.id, task.title, task.progress, meta)
            )
        except SLACK_FAILURES as exc:
            log.exception("could not open the form for #%s", task.id)
            await tell(
                ctx,
                client,
                body,
                f":warning: The form did not open (Slack said `{slack_said(exc)}`). Click the "
                f"button again, or type {instead.format(id=task.id)}.",
            )

    for action_id, handler in (
        (ids.ACTION_PROGRESS_SELECT, handle_progress_select),
        (ids.ACTION_PROGRESS_OTHER, handle_progress_other),
        (ids.ACTION_DONE, handle_done),
        (ids.ACTION_BLOCKED, handle_blocked),
        (ids.ACTION_SNOOZE, handle_snooze),
        (ids.ACTION_MOVE_DEADLINE, handle_move_deadline),
        (ids.ACTION_ASSIGN, handle_assign),
        (ids.ACTION_REASSIGN, handle_assign),
        (ids.ACTION_PING_OWNER, handle_ping_owner),
    ):
        app.action(ids.matching(action_id))(guarded(ctx, handler, f"the {action_id} button"))


def _ping_failed(owner: str, task_id: int, exc: BaseException) -> str:
    error = slack_said(exc)
    if error in USER_GONE_ERRORS:
        return (
            f":warning: I could not message <@{owner}>: Slack says `{error}`, so they may have "
            f"left the workspace. Reassign #{task_id} instead."
        )
    return (
        f":warning: I could not message <@{owner}> (Slack said `{error}`); nothing was sent. "
        "Try again in a minute."
    )


def _load(ctx: Context, task_id: int):  # type: ignore[no-untyped-def]
    with transaction(ctx.engine) as session:
        return get_task(session, task_id)
