"""Slack, played over the wire: the app served on a loopback port, requests built and signed
as Slack builds them, Web API calls answered and recorded by the stand-in. The tests and the
demo drive Vigil through this, exactly as Slack would."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from bot.app.factory import build_app, build_context
from bot.app.server import build_web_app
from bot.config import Settings
from bot.monitor.gateway import make_client, slack_session
from bot.monitor.sweep import run_sweep
from bot.standin import SlackStandIn

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-test"
MANAGERS = "CMANAGERS"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class SlackWire:
    """One running Vigil app and the stand-in it talks to."""

    def __init__(
        self, standin: SlackStandIn, db_url: str, now: datetime, token: str = TOKEN
    ) -> None:
        self.standin = standin
        self.clock = Clock(now)
        self.token = token
        self.settings = Settings.from_env(
            {
                "SLACK_BOT_TOKEN": token,
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": standin.url,
                "DATABASE_URL": db_url,
                "MANAGER_CHANNEL": MANAGERS,
                "MANAGER_USER_IDS": "UMARCUS",
                "TEAM_TIMEZONE": "Europe/London",
                "HOLIDAY_COUNTRY": "GB",
            }
        )
        self.verifier = SignatureVerifier(SECRET)
        self.responses_seen = 0

    async def start(self) -> None:
        self.http = slack_session()
        self.client = make_client(self.token, self.standin.url, session=self.http)
        self.ctx = build_context(self.settings, self.client, clock=self.clock)

        async def _no_sleep(_s: float) -> None:
            return None

        self.ctx.monitor.sleep = _no_sleep
        self.app = build_app(self.ctx, self.client)
        self.runner = web.AppRunner(build_web_app(self.app, self.ctx))
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]

    async def stop(self) -> None:
        # Let work the app does after its replies (App Home republishing) finish first.
        await asyncio.gather(*self.ctx.background, return_exceptions=True)
        await self.runner.cleanup()
        await self.http.close()
        self.ctx.engine.dispose()

    # -- requests, signed as Slack signs them ----------------------------------------------
    def _headers(
        self, body: str, content_type: str, *, age: int = 0, secret: str | None = None
    ) -> dict:
        ts = str(int(time.time()) - age)
        verifier = SignatureVerifier(secret) if secret else self.verifier
        return {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": verifier.generate_signature(timestamp=ts, body=body),
        }

    async def post(self, body: str, content_type: str, **kw) -> aiohttp.ClientResponse:
        extra = kw.pop("headers", {})
        async with self.http.post(
            f"{self.url}/slack/events",
            data=body,
            headers=self._headers(body, content_type, **kw) | extra,
        ) as resp:
            await resp.read()
            return resp

    async def command(
        self,
        text: str,
        user: str = "UDANA",
        *,
        trigger: str | None = None,
        reply: bool = True,
        **kw,
    ) -> dict | None:
        """A `/task` as Slack sends it; returns what the app answered through the response URL
        (`reply=False` for a command answered some other way, such as a modal)."""
        body = urlencode(
            {
                "token": "legacy",
                "team_id": "T0STANDIN",
                "channel_id": "C0GENERAL",
                "user_id": user,
                "user_name": user.lower(),
                "command": "/task",
                "text": text,
                "response_url": self.standin.response_url(uuid.uuid4().hex),
                "trigger_id": trigger or uuid.uuid4().hex,
                "api_app_id": "A0VIGIL",
            }
        )
        before = len(self.standin.responses)
        resp = await self.post(body, "application/x-www-form-urlencoded", **kw)
        assert resp.status == 200, resp.status
        return await self.next_response(before) if reply else None

    async def interact(self, payload: dict, **kw) -> aiohttp.ClientResponse:
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post(body, "application/x-www-form-urlencoded", **kw)

    async def event(self, event: dict, **kw) -> aiohttp.ClientResponse:
        body = json.dumps(
            {
                "token": "legacy",
                "team_id": "T0STANDIN",
                "api_app_id": "A0VIGIL",
                "type": "event_callback",
                "event_id": f"Ev{uuid.uuid4().hex[:10]}",
                "event_time": int(time.time()),
                "event": event,
            }
        )
        return await self.post(body, "application/json", **kw)

    async def next_response(self, before: int) -> dict | None:
        await settle(lambda: len(self.standin.responses) > before)
        return self.standin.responses[-1] if len(self.standin.responses) > before else None

    async def sweep(self, now: datetime):
        self.clock.now = now
        return await run_sweep(self.ctx.monitor, now)


async def settle(done: Callable[[], bool], limit: float = 3.0) -> None:
    """Wait for work the app does after acking (Bolt runs listeners after the ack): a bounded
    wait for an event, not a sleep through time the test depends on."""
    deadline = time.monotonic() + limit
    while not done() and time.monotonic() < deadline:  # noqa: ASYNC110 (polling another task's effect)
        await asyncio.sleep(0.005)
    # Let follow-up work (App Home republishing) finish too.
    for _ in range(20):
        await asyncio.sleep(0)
