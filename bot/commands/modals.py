"""The creation modal (`/task new`, and the message shortcut prefilled from a message), and
the two modals buttons open: progress with a note, and "I'm blocked" with a reason.

Inputs are checked in the modal itself: a bad value answers `response_action: errors` naming
the field, and nothing is stored. A modal submitted twice creates one task (its view id is
the task's idempotency key)."""

from __future__ import annotations

import json
import logging
from datetime import date

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.commands import service, views
from bot.commands.common import USER_ERRORS, check_user, error_text, off_loop
from bot.commands.context import Context
from bot.commands.grammar import Command, Deadline
from bot.commands.home import republish
from bot.tasks import MAX_TITLE, TaskError

log = logging.getLogger(__name__)


def _value(state: dict, block: str) -> object:
    element = state.get(block, {}).get(block, {})
    for key in ("value", "selected_user", "selected_date"):
        if element.get(key) not in (None, ""):
            return element[key]
    return None


def new_task_command(ctx: Context, state: dict) -> tuple[Command | None, dict[str, str]]:
    """The creation modal's values as a command, or the errors to show beside the fields."""
    errors: dict[str, str] = {}
    title = " ".join(str(_value(state, ids.INPUT_TITLE) or "").split())
    if not title:
        errors[ids.INPUT_TITLE] = "Give the task a title."
    elif len(title) > MAX_TITLE:
        errors[ids.INPUT_TITLE] = f"Keep the title under {MAX_TITLE} characters."
    due = None
    raw_day = _value(state, ids.INPUT_DEADLINE)
    if raw_day:
        day = date.fromisoformat(str(raw_day))
        if day < ctx.cal.local_date(ctx.clock()):
            errors[ids.INPUT_DEADLINE] = "That date is in the past; pick today or later."
        else:
            due = Deadline(ctx.cal.end_of_day(day), False, day)
    parent = None
    raw_parent = str(_value(state, ids.INPUT_PARENT) or "").strip().lstrip("#")
    if raw_parent:
        if not raw_parent.isdigit():
            errors[ids.INPUT_PARENT] = "A task number such as 12 or #12."
        else:
            parent = int(raw_parent)
    if errors:
        return None, errors
    owner = _value(state, ids.INPUT_OWNER)
    description = _value(state, ids.INPUT_DESCRIPTION)
    return (
        Command(
            "add",
            title=title,
            owner=str(owner) if owner else None,
            due=due,
            parent_id=parent,
            text=str(description) if description else None,
        ),
        {},
    )


def register(app: AsyncApp, ctx: Context) -> None:
    async def handle_new_task_submission(
        ack, body: dict, view: dict, client: AsyncWebClient
    ) -> None:
        cmd, errors = new_task_command(ctx, view["state"]["values"])
        user = body["user"]["id"]
        if cmd is not None and cmd.owner:
            try:
                await check_user(ctx, client, cmd.owner)
            except TaskError as exc:
                errors = {ids.INPUT_OWNER: str(exc)[:150]}
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        meta = json.loads(view.get("private_metadata") or "{}")
        link = meta.get("link")
        try:
            reply = await off_loop(service.run, ctx, cmd, user, key=f"view:{view['id']}", link=link)
        except USER_ERRORS as exc:
            field = (
                ids.INPUT_PARENT
                if cmd.parent_id and "#" + str(cmd.parent_id) in str(exc)
                else ids.INPUT_TITLE
            )
            await ack(
                response_action="errors",
                errors={field: error_text(exc).removeprefix(":warning: ")[:150]},
            )
            return
        await ack()
        channel = (await client.conversations_open(users=user))["channel"]["id"]
        await client.chat_postMessage(channel=channel, text=reply.text, blocks=reply.blocks)
        ctx.spawn(republish(ctx, client, reply.touched))

    async def handle_message_shortcut(ack, shortcut: dict, client: AsyncWebClient) -> None:
        await ack()
        message = shortcut.get("message", {})
        text = message.get("text", "") or ""
        channel = (shortcut.get("channel") or {}).get("id")
        link = None
        try:
            link = (await client.chat_getPermalink(channel=channel, message_ts=message.get("ts")))[
                "permalink"
            ]
        except SlackApiError as exc:
            log.warning("chat.getPermalink failed: %s", exc.response.get("error"))
        first_line = next((line for line in text.splitlines() if line.strip()), "")
        view = views.build_new_task_modal(
            title=first_line[:MAX_TITLE],
            description=text[:3000],
            link=link,
            metadata=json.dumps({"link": link}),
        )
        await client.views_open(trigger_id=shortcut["trigger_id"], view=view)

    async def handle_progress_submission(
        ack, body: dict, view: dict, client: AsyncWebClient
    ) -> None:
        state = view["state"]["values"]
        raw = str(_value(state, ids.INPUT_PROGRESS) or "")
        if not raw.isdigit() or not 0 <= int(raw) <= 100:
            await ack(
                response_action="errors",
                errors={ids.INPUT_PROGRESS: "A whole number from 0 to 100."},
            )
            return
        meta = json.loads(view.get("private_metadata") or "{}")
        note = _value(state, ids.INPUT_NOTE)
        cmd = Command(
            "progress",
            task_id=int(meta["task"]),
            progress=int(raw),
            text=str(note) if note else None,
        )
        await _submit(ack, body, client, meta, cmd)

    async def handle_blocked_submission(
        ack, body: dict, view: dict, client: AsyncWebClient
    ) -> None:
        reason = " ".join(str(_value(view["state"]["values"], ids.INPUT_REASON) or "").split())
        if not reason:
            await ack(
                response_action="errors", errors={ids.INPUT_REASON: "Say what is in the way."}
            )
            return
        meta = json.loads(view.get("private_metadata") or "{}")
        await _submit(
            ack, body, client, meta, Command("block", task_id=int(meta["task"]), text=reason)
        )

    async def _submit(ack, body: dict, client: AsyncWebClient, meta: dict, cmd: Command) -> None:
        user = body["user"]["id"]
        try:
            reply = await off_loop(service.run, ctx, cmd, user)
        except USER_ERRORS as exc:
            first = next(iter(body["view"]["state"]["values"]), ids.INPUT_PROGRESS)
            await ack(response_action="errors", errors={first: str(exc)[:150]})
            return
        await ack()
        # The message the button was on: its buttons give way to who did what.
        if meta.get("channel") and meta.get("ts") and not meta.get("view"):
            line = f":white_check_mark: <@{user}>: {reply.text}"  # reply.text is escaped
            try:
                await client.chat_update(
                    channel=meta["channel"],
                    ts=meta["ts"],
                    text=reply.text,
                    blocks=reply.blocks
                    + [{"type": "context", "elements": [{"type": "mrkdwn", "text": line}]}],
                )
            except SlackApiError as exc:
                log.warning(
                    "could not update the message the button was on: %s", exc.response.get("error")
                )
        ctx.spawn(republish(ctx, client, reply.touched | {user}))
        if ctx.nudge:
            ctx.nudge()

    app.view(ids.VIEW_NEW_TASK)(handle_new_task_submission)
    app.view(ids.VIEW_PROGRESS)(handle_progress_submission)
    app.view(ids.VIEW_BLOCKED)(handle_blocked_submission)
    app.shortcut(ids.SHORTCUT_FROM_MESSAGE)(handle_message_shortcut)
