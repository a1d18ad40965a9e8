"""Helpers the listeners share: running service calls off the event loop, turning errors into
one helpful sentence, checking a mentioned user, and republishing App Home."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.commands.context import Context
from bot.commands.grammar import UsageError
from bot.commands.service import Refused
from bot.tasks import TaskError

log = logging.getLogger(__name__)
T = TypeVar("T")
USER_ERRORS = (UsageError, TaskError, Refused)


# Two threads for the handlers' database work: enough to overlap with Slack calls, few enough
# that they do not crowd the event loop off the interpreter while it should be acking.
_DB_THREADS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="vigil-db")


async def off_loop(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Database work in a worker thread: the event loop keeps acking Slack meanwhile."""
    return await asyncio.get_running_loop().run_in_executor(
        _DB_THREADS, partial(fn, *args, **kwargs)
    )


def error_text(exc: Exception) -> str:
    if isinstance(exc, UsageError):
        return f":warning: {exc.message}\nFor example: `{exc.example}`"
    return f":warning: {exc}"


async def check_user(ctx: Context, client: AsyncWebClient, user_id: str) -> None:
    """A mentioned user must exist and still be in the workspace; raises TaskError if not."""
    cached = ctx.monitor.users.get(user_id)
    if cached is not None:
        if cached[1]:
            raise TaskError(f"<@{user_id}> has left the workspace; pick someone else.")
        return
    try:
        resp = await client.users_info(user=user_id)
    except SlackApiError as exc:
        if exc.response.get("error") == "user_not_found":
            raise TaskError(
                f"There is no user {user_id} in this workspace; mention them with @."
            ) from None
        log.warning("users.info failed for %s: %s", user_id, exc.response.get("error"))
        return  # Slack is struggling: do not refuse a change over it
    user = resp["user"]
    if user.get("deleted"):
        raise TaskError(f"<@{user_id}> has left the workspace; pick someone else.")
    if user.get("is_bot"):
        raise TaskError(f"<@{user_id}> is a bot; tasks are owned by people.")
    ctx.monitor.users[user_id] = (user.get("tz"), False, ctx.clock())


def responder(ctx: Context, body: dict) -> Callable[..., Any]:
    """Like Bolt's `respond`, through the app's shared HTTP session: a reply per click at 100
    requests a second should not open a connection each time."""
    url = body.get("response_url")
    session = getattr(ctx.client, "session", None)

    async def respond(**payload: Any) -> None:
        if not url:
            return
        payload = {k: v for k, v in payload.items() if v is not None}
        try:
            await AsyncWebhookClient(url, session=session, timeout=10).send_dict(payload)
        except Exception:
            log.exception("could not answer through the response URL")

    return respond
