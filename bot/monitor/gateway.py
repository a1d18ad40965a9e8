"""The narrow door to Slack's Web API for the monitor: five calls, and one error type that
says what the caller should do about a failure.

The client is slack_sdk's `AsyncWebClient` with its own retries switched off: a sweep must not
sit in a retry loop. A failure becomes a `DeliveryError` and the notification waits for a later
sweep. A 429's `Retry-After` holds back every call to that method until it has passed, across
sweeps and processes (bot/monitor/ratelimit.py): the gateway refuses them itself.

A post whose answer was lost (a read timeout, a dropped connection) may have been posted all
the same: its attempt was recorded before the call, and the next attempt looks for it in the
conversation first (bot/monitor/reconcile.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.monitor.people import Person
from bot.monitor.ratelimit import RetryGate

log = logging.getLogger(__name__)

RETRY, USER_GONE, CHANNEL, FATAL = "retry", "user_gone", "channel", "fatal"
USER_GONE_ERRORS = {"user_not_found", "user_disabled", "account_inactive", "cannot_dm_bot"}
CHANNEL_ERRORS = {"channel_not_found", "is_archived", "not_in_channel"}
RETRY_ERRORS = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
}


class DeliveryError(Exception):
    def __init__(self, kind: str, error: str, retry_after: float | None = None) -> None:
        super().__init__(error)
        self.kind, self.error, self.retry_after = kind, error, retry_after


SLACK_TIMEOUT = 10.0  # seconds for any one call to Slack, from connecting to the last byte


def slack_session(timeout: float = SLACK_TIMEOUT, **kwargs: Any) -> aiohttp.ClientSession:
    """The HTTP session a long-lived process shares between its Slack calls, each bounded by
    `timeout`. slack_sdk applies its own timeout only to sessions it opens itself; a session
    handed to it keeps aiohttp's default bound, which is five minutes."""
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout), **kwargs)


def make_client(
    token: str,
    base_url: str,
    timeout: float = SLACK_TIMEOUT,
    session: aiohttp.ClientSession | None = None,
) -> AsyncWebClient:
    """Without `session`, slack_sdk opens a connection per call; a long-lived process passes
    one (from `slack_session`) so that calls reuse their connections. A session whose calls
    could outlast `timeout` is refused: a sweep must never wait minutes on one answer."""
    if session is not None:
        total = session.timeout.total
        if total is None or total > timeout:
            raise ValueError(
                f"a Slack client's session must bound each call to {timeout:g} s "
                f"(it allows {total or 'unlimited'}); open it with slack_session()"
            )
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,  # type: ignore[arg-type]  # slack_sdk hands it to aiohttp, which takes floats
        retry_handlers=[],
        session=session,
    )


def _classify(exc: Exception) -> DeliveryError:
    if isinstance(exc, SlackApiError):
        response = exc.response
        status = getattr(response, "status_code", 200)
        error = ""
        try:
            error = str(response.get("error") or "")
        except Exception:  # a non-JSON body from a proxy or an outage page
            error = ""
        if status == 429 or error == "ratelimited":
            headers = getattr(response, "headers", {}) or {}
            retry_after = headers.get("Retry-After") or headers.get("retry-after") or 1
            try:
                seconds = float(retry_after[0] if isinstance(retry_after, list) else retry_after)
            except (TypeError, ValueError):
                seconds = 1.0
            return DeliveryError(RETRY, "ratelimited", seconds)
        if status >= 500 or error in RETRY_ERRORS:
            return DeliveryError(RETRY, error or f"http_{status}")
        if error in USER_GONE_ERRORS:
            return DeliveryError(USER_GONE, error)
        if error in CHANNEL_ERRORS:
            return DeliveryError(CHANNEL, error)
        return DeliveryError(FATAL, error or f"http_{status}")
    if isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | OSError):
        return DeliveryError(RETRY, f"{type(exc).__name__}: {exc}")
    # Anything else is unexpected: keep the traceback, and keep the message for later.
    log.exception("unexpected error talking to Slack")
    return DeliveryError(RETRY, f"{type(exc).__name__}: {exc}")


class SlackGateway:
    def __init__(self, client: AsyncWebClient, gate: RetryGate | None = None) -> None:
        self.client = client
        # Set by the Monitor that owns this gateway (it has the database and the wall clock).
        self.gate = gate
        self._dm_channels: dict[str, str] = {}

    async def _call(self, method: str, call: Callable[[], Awaitable[Any]]) -> Any:
        """`call()` unless Slack's `Retry-After` for `method` is still running: then a RETRY
        error with the time left, and Slack is not asked."""
        if self.gate is not None:
            wait = await self.gate.wait(method)
            if wait > 0:
                raise DeliveryError(RETRY, "ratelimited", wait)
        try:
            return await call()
        except Exception as exc:  # classified: every failure becomes a decision for the caller
            failure = _classify(exc)
            if failure.retry_after and self.gate is not None:
                await self.gate.hold(method, failure.retry_after)
            raise failure from exc

    async def open_dm(self, user_id: str) -> str:
        if user_id not in self._dm_channels:
            resp = await self._call(
                "conversations.open", lambda: self.client.conversations_open(users=user_id)
            )
            self._dm_channels[user_id] = resp["channel"]["id"]
        return self._dm_channels[user_id]

    async def post(
        self,
        channel: str,
        text: str,
        blocks: list[dict],
        thread_ts: str | None = None,
        metadata: dict | None = None,
    ) -> tuple[str, str]:
        """`metadata` (an event type and payload) travels with the message: Vigil puts the
        notification's id there, so that a post whose answer was lost, or whose record a crash
        prevented, can be found again (bot/monitor/reconcile.py)."""
        kwargs: dict[str, Any] = {"channel": channel, "text": text, "blocks": blocks}
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        if metadata:
            kwargs["metadata"] = metadata
        resp = await self._call("chat.postMessage", lambda: self.client.chat_postMessage(**kwargs))
        return resp["channel"], resp["ts"]

    async def update(self, channel: str, ts: str, text: str, blocks: list[dict]) -> None:
        await self._call(
            "chat.update",
            lambda: self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks),
        )

    async def history(
        self, channel: str, oldest: str, *, thread_ts: str | None = None, cursor: str = ""
    ) -> tuple[list[dict], str]:
        """One page of a conversation's messages since `oldest` (a thread's replies, with
        `thread_ts`), newest first, with their metadata; and the cursor to the next page, ""
        after the last."""
        args: dict[str, Any] = {
            "channel": channel,
            "oldest": oldest,
            "include_all_metadata": True,
            "limit": 200,
        }
        if cursor:
            args["cursor"] = cursor
        if thread_ts:
            method = "conversations.replies"
            call = lambda: self.client.conversations_replies(ts=thread_ts, **args)  # noqa: E731
        else:
            method = "conversations.history"
            call = lambda: self.client.conversations_history(**args)  # noqa: E731
        resp = await self._call(method, call)
        more = (resp.get("response_metadata") or {}).get("next_cursor") or ""
        return list(resp.get("messages") or []), more

    async def user_info(self, user_id: str) -> Person:
        resp = await self._call("users.info", lambda: self.client.users_info(user=user_id))
        return Person.from_slack({**resp["user"], "id": user_id})

