"""The forms' submissions: the new task form (`/task new`, and the message shortcut's, see
`shortcut.py`), and the two forms buttons open: progress with a note, and "I'm blocked" with a
reason.

Inputs are checked in the modal itself: a bad value answers `response_action: errors` naming
the field, and nothing is stored. A modal submitted twice creates one task (its view id is
the task's idempotency key)."""

from __future__ import annotations

import logging
from datetime import date

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands import service
from bot.commands.common import (
    SLACK_FAILURES,
    check_user,
    error_text,
    guarded,
    off_loop,
    slack_said,
    tell,
)
from bot.commands.context import Context
from bot.commands.grammar import Command
from bot.commands.home import republish
from bot.commands.views.modals import build_created_modal
from bot.dates import Deadline
from bot.errors import UserError
from bot.slack import ids
from bot.slack.payloads import metadata
from bot.slack.text import clean
from bot.tasks import MAX_TEXT, check_title

log = logging.getLogger(__name__)
LOST = "This form lost track of its task; close it and use the button again."
# Slack waits 3 s for the answer to a submission, and errors must be in that answer: a
# users.info that takes longer than this does not hold up the task.
OWNER_CHECK_SECONDS = 1.5


def _value(state: dict, block: str) -> object:
    """What was typed or picked in one input, as Slack sent it (None when empty)."""
    inputs = state.get(block)
    element = inputs.get(block) if isinstance(inputs, dict) else None
    if not isinstance(element, dict):
        return None
    for key in ("value", "selected_user", "selected_date"):
        if element.get(key) not in (None, ""):
            return element[key]
    return None


def _typed(state: dict, block: str) -> str:
    """The text typed in one input; "" when it is empty or not text (a text input holds text)."""
    found = _value(state, block)
    return found if isinstance(found, str) else ""


def new_task_command(ctx: Context, state: dict) -> tuple[Command | None, dict[str, str]]:
    """The creation modal's values as a command, or the errors to show beside the fields."""
    errors: dict[str, str] = {}
    title = ""
    try:
        title = check_title(clean(_typed(state, ids.INPUT_TITLE)))
    except UserError as exc:
        errors[ids.INPUT_TITLE] = exc.message
    due = None
    raw_day = _value(state, ids.INPUT_DEADLINE)
    if raw_day:
        try:
            day = date.fromisoformat(str(raw_day))
        except ValueError:
            errors[ids.INPUT_DEADLINE] = "Pick a date from the calendar."
        else:
            if day < ctx.cal.local_date(ctx.clock()):
                errors[ids.INPUT_DEADLINE] = "That date is in the past; pick today or later."
            else:
                due = Deadline(ctx.cal.end_of_day(day), False, day)
    parent = None
    raw_parent = str(_value(state, ids.INPUT_PARENT) or "").strip().removeprefix("#")
    if raw_parent:
        parent = ids.db_id(raw_parent)
        if parent is None:
            errors[ids.INPUT_PARENT] = "A task number such as 12 or #12."
    description = clean(_typed(state, ids.INPUT_DESCRIPTION)).strip()
    if len(description) > MAX_TEXT:
        errors[ids.INPUT_DESCRIPTION] = (
            f"That is {len(description)} characters; a description has at most {MAX_TEXT}."
        )
    owner = _value(state, ids.INPUT_OWNER)
    if owner is not None and not (isinstance(owner, str) and owner.isalnum()):
        errors[ids.INPUT_OWNER] = "Pick a person from the list."
    if errors:
        return None, errors
    return (
        Command(
            "add",
            title=title,
            owner=str(owner) if owner else None,
            due=due,
            parent_id=parent,
            text=description or None,
        ),
        {},
    )


def _field_for(cmd: Command, message: str) -> str:
    """Which field a refusal from the task service belongs beside."""
    if cmd.parent_id and f"#{cmd.parent_id}" in message:
        return ids.INPUT_PARENT
    if "description" in message.lower():
        return ids.INPUT_DESCRIPTION
    return ids.INPUT_TITLE


def _task_of(meta: dict) -> int | None:
    task = meta.get("task")
    return task if type(task) is int and ids.db_id(task) else None


async def handle_new_task_submission(ctx: Context, ack, body: dict, client: AsyncWebClient) -> None:
    # Slack shows errors beside the fields only in the answer to the submission, so all
    # that can refuse the task happens before the ack, and quickly: the fields (pure),
    # the owner (cached, or users.info within OWNER_CHECK_SECONDS) and the creation itself,
    # one short transaction whose refusals (a closed parent, a cycle) are field errors too.
    view, user = body["view"], body["user"]["id"]
    cmd, errors = new_task_command(ctx, view["state"]["values"])
    if cmd is not None and cmd.owner:
        try:
            await check_user(ctx, client, cmd.owner, within=OWNER_CHECK_SECONDS)
        except UserError as exc:
            errors = {ids.INPUT_OWNER: str(exc)[:150]}
    if cmd is None or errors:
        await ack(response_action="errors", errors=errors)
        return
    link = metadata(view).get("link")
    link = link if isinstance(link, str) and link.startswith("https://") else None
    try:
        reply = await off_loop(
            ctx, service.run, ctx, cmd, user, key=f"view:{view['id']}", link=link
        )
    except UserError as exc:
        message = error_text(exc).removeprefix(":warning: ")
        await ack(response_action="errors", errors={_field_for(cmd, message): message[:150]})
        return
    # The answer shows in the form itself: it stays open, saying what was created.
    await ack(response_action="update", view=build_created_modal(reply.blocks))
    ctx.spawn(republish(ctx, client, reply.touched))
    try:
        channel = (await client.conversations_open(users=user))["channel"]["id"]
        await client.chat_postMessage(channel=channel, text=reply.text, blocks=reply.blocks)
    except SLACK_FAILURES as exc:
        log.exception("could not DM %s the task they created", user)
        note = (
            f":warning: I could not send you a copy in a DM (Slack said `{slack_said(exc)}`); "
            f"the task is saved, and `/task {reply.task_id}` shows it."
        )
        try:
            await client.views_update(
                view_id=view["id"], view=build_created_modal(reply.blocks, note=note)
            )
        except SLACK_FAILURES:
            log.exception("could not tell %s that the DM failed", user)


async def handle_progress_submission(ctx: Context, ack, body: dict, client: AsyncWebClient) -> None:
    view = body["view"]
    state, meta = view["state"]["values"], metadata(view)
    raw = str(_value(state, ids.INPUT_PROGRESS) or "").strip()
    if not (raw.isascii() and raw.isdigit()) or not 0 <= int(raw) <= 100:
        await ack(
            response_action="errors",
            errors={ids.INPUT_PROGRESS: "A whole number from 0 to 100."},
        )
        return
    task_id = _task_of(meta)
    if task_id is None:
        await ack(response_action="errors", errors={ids.INPUT_PROGRESS: LOST})
        return
    await ack()
    note = clean(str(_value(state, ids.INPUT_NOTE) or "")).strip()
    cmd = Command("progress", task_id=task_id, progress=int(raw), text=note or None)
    await _submit(ctx, body, client, meta, cmd)


async def handle_blocked_submission(ctx: Context, ack, body: dict, client: AsyncWebClient) -> None:
    view = body["view"]
    meta = metadata(view)
    reason = " ".join(clean(str(_value(view["state"]["values"], ids.INPUT_REASON) or "")).split())
    if not reason:
        await ack(response_action="errors", errors={ids.INPUT_REASON: "Say what is in the way."})
        return
    task_id = _task_of(meta)
    if task_id is None:
        await ack(response_action="errors", errors={ids.INPUT_REASON: LOST})
        return
    await ack()
    await _submit(ctx, body, client, meta, Command("block", task_id=task_id, text=reason))


async def _submit(
    ctx: Context, body: dict, client: AsyncWebClient, meta: dict, cmd: Command
) -> None:
    """After the ack: carry it out, then say so where the button was."""
    user = body["user"]["id"]
    url = meta.get("response_url") if isinstance(meta.get("response_url"), str) else None
    try:
        reply = await off_loop(ctx, service.run, ctx, cmd, user)
    except UserError as exc:
        await tell(ctx, client, body, error_text(exc), response_url=url)
        return
    # The message the button was on: its buttons give way to who did what.
    if meta.get("channel") and meta.get("ts") and not meta.get("view"):
        line = f":white_check_mark: <@{user}>: {reply.text}"  # reply.text is escaped
        try:
            await client.chat_update(
                channel=str(meta["channel"]),
                ts=str(meta["ts"]),
                text=reply.text,
                blocks=(reply.blocks or [])
                + [{"type": "context", "elements": [{"type": "mrkdwn", "text": line}]}],
            )
        except SLACK_FAILURES:
            log.warning("could not update the message the button was on", exc_info=True)
            await tell(ctx, client, body, f":white_check_mark: {reply.text}", response_url=url)
    ctx.spawn(republish(ctx, client, reply.touched | {user}))
    if ctx.nudge:
        ctx.nudge()


def register(app: AsyncApp, ctx: Context) -> None:
    for callback_id, handler, what in (
        (ids.VIEW_NEW_TASK, handle_new_task_submission, "the new task form"),
        (ids.VIEW_PROGRESS, handle_progress_submission, "the progress form"),
        (ids.VIEW_BLOCKED, handle_blocked_submission, "the blocked form"),
    ):
        app.view(callback_id)(guarded(ctx, handler, what))
