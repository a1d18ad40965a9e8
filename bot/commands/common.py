"""Helpers the listeners share: running service calls off the event loop, turning errors into
one helpful sentence, checking a mentioned user, and republishing App Home."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.commands.context import Context
from bot.errors import UserError
from bot.slack.blocks import escape

log = logging.getLogger(__name__)
T = TypeVar("T")


async def off_loop(ctx: Context, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Database work in one of the context's worker threads: the event loop keeps acking
    Slack meanwhile."""
    return await asyncio.get_running_loop().run_in_executor(
        ctx.db_threads(), partial(fn, *args, **kwargs)
    )


def error_text(exc: UserError) -> str:
    return exc.sentence()


async def check_user(
    ctx: Context, client: AsyncWebClient, user_id: str, *, within: float = 10
) -> None:
    """A mentioned user must exist and still be in the workspace; raises UserError if not.
    When Slack has not answered `within` seconds, the change goes ahead."""
    cached = ctx.monitor.users.get(user_id)
    if cached is not None:
        if cached[1]:
            raise UserError(f"<@{user_id}> has left the workspace; pick someone else.")
        return
    try:
        resp = await asyncio.wait_for(client.users_info(user=user_id), within)
    except SlackApiError as exc:
        if exc.response.get("error") == "user_not_found":
            raise UserError(
                f"There is no user {escape(user_id)} in this workspace; mention them with @."
            ) from None
        log.warning("users.info failed for %s: %s", user_id, exc.response.get("error"))
        return  # Slack is struggling: do not refuse a change over it
    except (TimeoutError, aiohttp.ClientError):
        log.warning("users.info for %s did not answer in time", user_id)
        return
    user = resp["user"]
    if user.get("deleted"):
        raise UserError(f"<@{user_id}> has left the workspace; pick someone else.")
    if user.get("is_bot"):
        raise UserError(f"<@{user_id}> is a bot; tasks are owned by people.")
    ctx.monitor.users[user_id] = (user.get("tz"), False, ctx.clock())


def responder(ctx: Context, body: dict, url: str | None = None) -> Callable[..., Any]:
    """Like Bolt's `respond`, through the app's shared HTTP session: a reply per click at 100
    requests a second should not open a connection each time. It returns whether the reply
    was delivered."""
    url = url or body.get("response_url")
    session = getattr(ctx.client, "session", None)

    async def respond(**payload: Any) -> bool:
        if not url:
            return False
        payload = {k: v for k, v in payload.items() if v is not None}
        try:
            resp = await AsyncWebhookClient(url, session=session, timeout=10).send_dict(payload)
        except Exception:
            log.exception("could not answer through the response URL")
            return False
        if resp.status_code != 200:
            log.warning("the response URL answered %s: %s", resp.status_code, resp.body)
            return False
        return True

    return respond


SLACK_FAILURES = (SlackApiError, aiohttp.ClientError, asyncio.TimeoutError)
OOPS = ":warning: Something went wrong on our side. Check `/task list` before trying again."


def slack_said(exc: BaseException) -> str:
    """What Slack answered, in the words of its error code, for a sentence to the user."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
    return "no answer"


def user_of(body: dict) -> str | None:
    user = body.get("user")
    found = user.get("id") if isinstance(user, dict) else body.get("user_id")
    return found if isinstance(found, str) and found else None


def channel_of(body: dict) -> str | None:
    channel = body.get("channel")
    container = body.get("container")
    found = (
        body.get("channel_id")
        or (channel.get("id") if isinstance(channel, dict) else None)
        or (container.get("channel_id") if isinstance(container, dict) else None)
    )
    return found if isinstance(found, str) and found else None


async def tell(
    ctx: Context, client: AsyncWebClient, body: dict, text: str, *, response_url: str | None = None
) -> None:
    """One sentence to the person who acted, wherever Slack lets Vigil reach them: an ephemeral
    reply where they typed or clicked (the response URL), else an ephemeral message in that
    channel, else a DM. Each failure is logged and the next way tried."""
    url = response_url or body.get("response_url")
    if url and await responder(ctx, body, url)(
        text=text, response_type="ephemeral", replace_original=False
    ):
        return
    user, channel = user_of(body), channel_of(body)
    if user and channel and not channel.startswith("D"):
        try:
            await client.chat_postEphemeral(channel=channel, user=user, text=text)
            return
        except SLACK_FAILURES:
            log.warning("could not answer %s in %s; trying a DM", user, channel, exc_info=True)
    if user:
        try:
            await client.chat_postMessage(channel=user, text=text)
            return
        except SLACK_FAILURES:
            log.exception("could not tell %s: %s", user, text)


def guarded(ctx: Context, handler: Callable[..., Any], what: str) -> Callable[..., Any]:
    """The listener Bolt calls: `handler(ctx, ack, body, client)`, answered the moment it acks.

    Bolt runs with `process_before_response`, so it answers Slack when this listener returns;
    the listener returns as soon as the handler calls `ack` (or ends), and the handler's work
    after its ack goes on in the background. Left to Bolt's own way (`process_before_response`
    off) every answer waits for Bolt's poll of the ack, every 10 ms, whatever the handler does.
    When the handler fails unexpectedly: the traceback in the log and one sentence to the user.
    Left to Bolt, an exception after the ack makes it answer Slack 404 and the user sees
    nothing at all."""

    async def listener(ack, body: dict, client: AsyncWebClient) -> None:  # type: ignore[no-untyped-def]
        acked = asyncio.Event()

        async def ack_once(*args: Any, **kwargs: Any) -> None:
            if acked.is_set():
                return
            await ack(*args, **kwargs)
            acked.set()

        async def run() -> None:
            try:
                await handler(ctx, ack_once, body, client)
            except Exception:
                log.exception("%s failed", what)
                view = body.get("view") if body.get("type") == "view_submission" else None
                fields = list(((view or {}).get("state") or {}).get("values") or {})
                if not acked.is_set() and fields:  # a modal stays open and says so by its field
                    await ack_once(
                        response_action="errors",
                        errors={fields[0]: "Something went wrong on our side; try again in a minute."},
                    )
                    return
                await ack_once()
                await tell(ctx, client, body, OOPS)

        await answered_when(acked, ctx.spawn(run()))

    return listener


async def answered_when(acked: asyncio.Event, work: asyncio.Task) -> None:
    """Wait until the ack is given or the work ends, whichever comes first; the work goes on."""
    waiting = asyncio.ensure_future(acked.wait())
    try:
        await asyncio.wait({waiting, work}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiting.cancel()


def answered_at_once(ctx: Context, handler: Callable[..., Any], what: str) -> Callable[..., Any]:
    """An event's listener: Bolt acknowledges an event itself when the listener returns, so
    the work runs in the background and the answer goes at once; a failure is logged."""

    async def listener(event: dict, client: AsyncWebClient) -> None:
        async def run() -> None:
            try:
                await handler(event, client)
            except Exception:
                log.exception("%s failed", what)

        ctx.spawn(run())

    return listener
