"""The buttons on Vigil's DMs, managers' messages, replies and App Home.

Each click is acked at once, carried out through the same service as `/task`, and then the
message it came from is replaced so that a clicked button never looks clickable again: its
action blocks give way to a line saying who did what.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands import service
from bot.commands.common import (
    SLACK_FAILURES,
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
from bot.commands.grammar import Command
from bot.commands.home import publish_home, republish
from bot.commands.reply import Reply
from bot.commands.views import modals as modal_views
from bot.dates import Deadline
from bot.db import reading, transaction
from bot.errors import UserError
from bot.monitor import ladder
from bot.monitor.alerts import redraw
from bot.monitor.gateway import USER_GONE_ERRORS
from bot.monitor.outbox import MANAGERS
from bot.slack import ids
from bot.slack.blocks import MESSAGE_BLOCKS, context, day_label, escape
from bot.slack.payloads import selected_day, selected_number, selected_user
from bot.tasks import check_may_change, get_task

log = logging.getLogger(__name__)


def _where(body: dict) -> tuple[int, int | None]:
    action = body["actions"][0]
    found = ids.parse_block_id(str(action.get("block_id", "")))
    if found is None:
        raise UserError("That button is from an older message; use `/task list` instead.")
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
    """The clicked message as it was, minus its buttons, plus who did what: for a message
    that is not one of Vigil's conversation (a list, a task card)."""
    blocks = (body.get("message") or {}).get("blocks") or []
    kept = [b for b in blocks if isinstance(b, dict) and b.get("type") != "actions"]
    return kept[: MESSAGE_BLOCKS - 2] + [context(line)]


def _redrawn(
    ctx: Context, body: dict, user: str, did: str, task_id: int | None
) -> tuple[str, list[dict]] | None:
    """Vigil's own message the click came from (a DM, the digest, a managers' message), drawn
    as it is now, with the buttons that still fix something, and who did what. A managers'
    action is recorded on the case, where the digest shows it ("pinged by …")."""
    now = ctx.clock()
    channel, ts = channel_of(body), (body.get("container") or {}).get("message_ts")
    with reading(ctx.engine) as session:  # a DM's redraw writes nothing: no write lock
        found = redraw(session, channel, ts, now, ctx.monitor.policy, ctx.cal)
    if found is None:
        return None
    note, shown = found
    if note.to == MANAGERS and task_id is not None:
        with transaction(ctx.engine) as session:
            case = ladder.open_case(session, task_id)
            if case is not None:
                local = now.astimezone(ctx.cal.tz)
                case.notes = [*(case.notes or []), f"{did} by <@{user}> at {local:%H:%M}"]
                session.add(case)
                session.flush()
                found = redraw(session, channel, ts, now, ctx.monitor.policy, ctx.cal)
                shown = found[1] if found else shown
    line = context(f":white_check_mark: <@{user}>: {did}")
    return shown.text, shown.blocks[: MESSAGE_BLOCKS - 1] + [line]


async def _finish(
    ctx: Context, body: dict, client: AsyncWebClient, reply: Reply, user: str
) -> None:
    """Redraw the clicked message (or refresh App Home), then republish the Homes touched."""
    touched = reply.touched | {user}
    if body.get("container", {}).get("type") == "view":
        await publish_home(ctx, client, user)
        touched.discard(user)  # the Home clicked in is the one just published
    elif body.get("response_url"):
        did = reply.text.split(": ", 1)[-1].rstrip(".")
        redrawn = await off_loop(ctx, _redrawn, ctx, body, user, did, reply.task_id)
        if redrawn is None:
            line = f":white_check_mark: <@{user}>: {reply.text}"
            redrawn = reply.text, settled_blocks(body, line)
        text, blocks = redrawn
        await responder(ctx, body)(replace_original=True, text=text, blocks=blocks)
    ctx.spawn(republish(ctx, client, touched))
    if ctx.nudge:
        ctx.nudge()


async def _run(
    ctx: Context, body: dict, client: AsyncWebClient, command_for: Callable[[int, dict], Command]
) -> None:
    """A click that is a `/task` command on the button's task, carried out for the clicker."""
    user = body["user"]["id"]
    try:
        task_id, _ = _where(body)
        cmd = command_for(task_id, body["actions"][0])
        if cmd.owner:
            await check_user(ctx, client, cmd.owner)
        reply = await off_loop(ctx, service.run, ctx, cmd, user)
    except UserError as exc:
        await tell(ctx, client, body, error_text(exc))
        return
    await _finish(ctx, body, client, reply, user)


async def handle_progress_select(ctx: Context, ack, body: dict, client: AsyncWebClient) -> None:
    await ack()

    def command(task_id: int, action: dict) -> Command:
        example = f"/task progress {task_id} 40"
        progress = selected_number(action, range(101), "a percentage", example)
        return Command("progress", task_id=task_id, progress=progress)

    await _run(ctx, body, client, command)


async def handle_done(ctx: Context, ack, body: dict, client: AsyncWebClient) -> None:
    await ack()
    await _run(ctx, body, client, lambda t, a: Command("done", task_id=t))


async def handle_move_deadline(ctx: Context, ack, body: dict, client: AsyncWebClient) -> None:
    await ack()

    def command(task_id: int, action: dict) -> Command:
        day = selected_day(action, f"/task due {task_id} friday")
        if day < ctx.cal.local_date(ctx.clock()):
            raise UserError(f"{day_label(day)} is in the past; pick today or later.")
        return Command("due", task_id=task_id, due=Deadline(ctx.cal.end_of_day(day), False, day))

    await _run(ctx, body, client, command)


async def handle_assign(ctx: Context, ack, body: dict, client: AsyncWebClient) -> None:
    await ack()

    def command(task_id: int, action: dict) -> Command:
        owner = selected_user(action, f"/task assign {task_id} @dana")
        return Command("assign", task_id=task_id, owner=owner)

    await _run(ctx, body, client, command)


async def handle_snooze(ctx: Context, ack, body: dict, client: AsyncWebClient) -> None:
    await ack()
    user = body["user"]["id"]
    try:
        task_id, _ = _where(body)
        days = selected_number(
            body["actions"][0],
            range(1, ctx.monitor.policy.snooze_max_days + 1),
            "how many working days",
            "1, 2 or 3 working days",
        )
        reply = await off_loop(ctx, service.snooze, ctx, task_id, days, user)
    except UserError as exc:
        await tell(ctx, client, body, error_text(exc))
        return
    await _finish(ctx, body, client, reply, user)


async def handle_ping_owner(ctx: Context, ack, body: dict, client: AsyncWebClient) -> None:
    await ack()
    user = body["user"]["id"]
    try:
        if not ctx.is_manager(user):
            raise UserError("Pinging an owner is for managers.")
        task_id, _ = _where(body)
        task = await off_loop(ctx, _load, ctx, task_id)
        if not task.owner_id:
            raise UserError(f"#{task_id} has no owner to ping; reassign it.")
    except UserError as exc:
        await tell(ctx, client, body, error_text(exc))
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
    redrawn = await off_loop(ctx, _redrawn, ctx, body, user, "pinged the owner", task.id)
    text, blocks = redrawn or (
        f"Pinged <@{task.owner_id}> about #{task.id}",
        settled_blocks(body, f":mega: <@{user}> pinged <@{task.owner_id}> about #{task.id}."),
    )
    await responder(ctx, body)(replace_original=True, text=text, blocks=blocks)


async def handle_progress_other(ctx: Context, ack, body: dict, client: AsyncWebClient) -> None:
    await ack()
    await _open_modal(
        ctx, body, client, modal_views.build_progress_modal, "`/task progress {id} &lt;0-100&gt;`"
    )


async def handle_blocked(ctx: Context, ack, body: dict, client: AsyncWebClient) -> None:
    await ack()
    await _open_modal(
        ctx,
        body,
        client,
        lambda tid, title, _p, meta: modal_views.build_blocked_modal(tid, title, meta),
        "`/task block {id} &lt;reason&gt;`",
    )


async def _open_modal(
    ctx: Context,
    body: dict,
    client: AsyncWebClient,
    build,
    instead: str,  # type: ignore[no-untyped-def]
) -> None:
    user = body["user"]["id"]
    try:
        task_id, finding_id = _where(body)
        task = await off_loop(ctx, _load, ctx, task_id)
        check_may_change(task, user, ctx.managers)
    except UserError as exc:
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


HANDLERS = (
    (ids.ACTION_PROGRESS_SELECT, handle_progress_select),
    (ids.ACTION_PROGRESS_OTHER, handle_progress_other),
    (ids.ACTION_DONE, handle_done),
    (ids.ACTION_BLOCKED, handle_blocked),
    (ids.ACTION_SNOOZE, handle_snooze),
    (ids.ACTION_MOVE_DEADLINE, handle_move_deadline),
    (ids.ACTION_ASSIGN, handle_assign),
    (ids.ACTION_REASSIGN, handle_assign),
    (ids.ACTION_PING_OWNER, handle_ping_owner),
)


def register(app: AsyncApp, ctx: Context) -> None:
    for action_id, handler in HANDLERS:
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
