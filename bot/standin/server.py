"""`SlackStandIn`: the stand-in in one object, for tests to set up, drive and inspect, and
`serve_forever` for `python -m bot standin`."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterable
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.standin import control, events
from bot.standin.api import all_methods, files
from bot.standin.faults import KINDS, Faults, scripted_fault
from bot.standin.responses import ResponseUrls
from bot.standin.socketmode import SocketMode
from bot.standin.state import Call, Channel, Message, User, Workspace
from bot.standin.webapi import WebApi


class SlackStandIn:
    def __init__(
        self,
        *,
        token: str = "xoxb-standin",
        app_token: str = "xapp-standin",
        # Checks blocks as Slack would: `validator(blocks, limit=n)` returns the errors, with
        # `limit` the number of blocks allowed where they are going (a message or a view).
        block_validator: Callable[..., list[str]] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.token = token
        self.app_token = app_token
        self.workspace = Workspace(clock or time.time, block_validator)
        self.calls: list[Call] = []
        self.faults = Faults(lambda: self.workspace.clock())
        self.events_sent: list[dict] = []  # Events API bodies delivered to the app
        self._responses = ResponseUrls(self.workspace)
        self._socket = SocketMode()
        self._webapi = WebApi(
            tokens=lambda: (self.token, self.app_token),
            workspace=self.workspace,
            faults=self.faults,
            methods=all_methods(),
            calls=self.calls,
        )
        self._runner: web.AppRunner | None = None
        self._port = 0

    @property
    def clock(self) -> Callable[[], float]:
        return self.workspace.clock

    @clock.setter
    def clock(self, clock: Callable[[], float]) -> None:
        self.workspace.clock = clock

    @property
    def block_validator(self) -> Callable[..., list[str]] | None:
        return self.workspace.block_validator

    @block_validator.setter
    def block_validator(self, validator: Callable[..., list[str]] | None) -> None:
        self.workspace.block_validator = validator

    # -- set-up --------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}/api/"

    def add_user(
        self,
        user_id: str,
        *,
        name: str | None = None,
        tz: str = "UTC",
        deleted: bool = False,
        is_bot: bool = False,
    ) -> None:
        ZoneInfo(tz)  # a typo in a test's time zone should fail here, loudly
        self.workspace.users[user_id] = User(user_id, name or user_id.lower(), tz, deleted, is_bot)

    def set_email(self, user_id: str, email: str) -> None:
        self.workspace.emails[user_id] = email

    def upload(self, name: str, content: bytes, *, user: str = "UMARCUS") -> dict:
        """A file as if `user` had uploaded it in Slack; its object, as a `file_input` has it."""
        return files.add(self.workspace, f"http://127.0.0.1:{self._port}", name, content, user)

    def add_channel(
        self, channel_id: str, *, name: str | None = None, archived: bool = False
    ) -> None:
        existing = self.workspace.channels.get(channel_id)
        if existing:
            existing.archived = archived
            existing.name = name or existing.name
        else:
            self.workspace.channels[channel_id] = Channel(
                channel_id, name or channel_id.lower(), archived
            )

    def reset(self) -> None:
        """Forget calls, faults and messages; people and channels stay."""
        self.calls.clear()
        self.faults.clear()
        self.workspace.clear_messages()

    # -- people change -------------------------------------------------------------------
    def set_status(
        self, user_id: str, text: str = "", emoji: str = "", expiration: int = 0
    ) -> dict:
        """Set someone's status as they would in Slack (`expiration`: epoch seconds, 0 for
        none); returns the `user_change` event Slack would send."""
        user = self._user(user_id)
        user.status_text, user.status_emoji, user.status_expiration = text, emoji, expiration
        user.updated = int(self.workspace.clock())
        return self.user_change_event(user_id)

    def set_deleted(self, user_id: str, deleted: bool = True) -> dict:
        """Deactivate someone (or bring them back); returns the `user_change` event."""
        user = self._user(user_id)
        user.deleted = deleted
        user.updated = int(self.workspace.clock())
        return self.user_change_event(user_id)

    def user_change_event(self, user_id: str) -> dict:
        return events.user_change_event(self.workspace, user_id)

    async def deliver_event(
        self,
        event: dict,
        *,
        url: str | None = None,
        signing_secret: str | None = None,
        socket: bool = False,
    ) -> int | None:
        """Tell the app about `event`: POSTed signed to `url` (returns the HTTP status the app
        answered), and/or as an `events_api` envelope over the connected socket."""
        body = events.event_callback(event, event_time=self.workspace.clock())
        self.events_sent.append(body)
        if socket:
            await self._socket.send("events_api", body)
        if url is None:
            return None
        if not signing_secret:
            raise ValueError("an Events API request is signed: give the signing_secret")
        return await events.post_signed(url, body, signing_secret)

    def _user(self, user_id: str) -> User:
        user = self.workspace.user(user_id)
        if user is None:
            raise KeyError(f"no user {user_id}; add_user it first")
        return user

    # -- faults --------------------------------------------------------------------------
    def fail(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
        kind: str | None = None,
        after_effect: bool = False,
        hold: float | None = None,
    ) -> None:
        """The next `times` calls of `method` ("*": any method) fail this way: with `error`
        and `status` (429 carries `retry_after`), or with `kind` "timeout" (the request held
        `hold` seconds: make it longer than the client's timeout) or "reset", the answer
        lost, after the method took effect if `after_effect`."""
        fault = scripted_fault(
            error=error,
            status=status,
            retry_after=retry_after,
            kind=kind,
            after_effect=after_effect,
            hold=hold,
        )
        self.faults.script(method, fault, times)

    def fail_randomly(
        self,
        rate: float,
        seed: int,
        kinds: Iterable[str | int] = KINDS,
        *,
        retry_after: int = 1,
        hold: float | None = None,
        after_effect: float = 0.0,
        methods: Iterable[str] | None = None,
    ) -> None:
        """From now on a share `rate` of calls (of `methods`, or all) fail with one of
        `kinds`, drawn from `random.Random(seed)`: "429" (Retry-After `retry_after` seconds),
        "500", "503", "timeout" (held `hold` seconds: make it longer than the client's
        timeout) or "reset". `after_effect`: the share of timeouts and resets that come after
        the method took effect."""
        self.faults.fail_randomly(
            rate,
            seed,
            kinds,
            retry_after=retry_after,
            hold=hold,
            after_effect=after_effect,
            methods=methods,
        )

    def stop_failing_randomly(self) -> None:
        self.faults.stop_random()

    @property
    def fault_counts(self) -> Counter[str]:
        """Counts of "calls", "applied", "lost_after_effect", and of each fault kind."""
        return self.faults.counts

    @property
    def calls_inside_retry_after(self) -> int:
        return self.faults.calls_inside_retry_after

    @property
    def retry_after_until(self) -> dict[str, float]:
        return self.faults.retry_after_until

    # -- what happened -------------------------------------------------------------------
    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def messages(self, channel: str) -> list[Message]:
        found = self.workspace.channels.get(channel)
        return list(found.messages.values()) if found else []

    def dm_channel(self, user_id: str) -> str | None:
        return self.workspace.dms.get(user_id)

    # -- response URLs -------------------------------------------------------------------
    @property
    def responses(self) -> list[dict]:
        return self._responses.responses

    @property
    def response_times(self) -> list[float]:
        return self._responses.times

    def response_url(
        self, key: str = "r1", *, channel: str | None = None, ts: str | None = None
    ) -> str:
        """A response URL, as Slack puts in slash command and interaction payloads. Given the
        message a click came from, `replace_original` and `delete_original` apply to it."""
        self._responses.target(key, channel, ts)
        return f"http://127.0.0.1:{self._port}/response/{key}"

    def responses_to(self, key: str) -> list[dict]:
        return self._responses.to(key)

    # -- Socket Mode ---------------------------------------------------------------------
    @property
    def socket_connected(self) -> bool:
        return self._socket.connected

    @property
    def acks(self) -> list[dict]:
        return self._socket.acks

    async def send_envelope(self, kind: str, payload: dict, *, retry_attempt: int = 0) -> str:
        """Deliver an event, interaction or slash command to the connected app."""
        return await self._socket.send(kind, payload, retry_attempt=retry_attempt)

    # -- server --------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._webapi.handle)
        app.router.add_post("/response/{key}", self._responses.handle)
        app.router.add_get("/socket", self._socket.handle)
        app.router.add_get(
            "/files-pri/{team_file}/{name}",
            files.download_handler(self.workspace, lambda: self.token),
        )
        control.add_routes(app, self)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self._port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.workspace.socket_url = f"ws://127.0.0.1:{self._port}/socket"

    async def stop(self) -> None:
        self.faults.release_holds()  # a held `timeout` must not keep the server from stopping
        await self._socket.close()
        if self._runner:
            await self._runner.cleanup()
            self._runner = None


async def serve_forever(host: str, port: int, users: list[dict], channels: list[dict]) -> None:
    """`python -m bot standin`: a stand-in on its own, until interrupted."""
    standin = SlackStandIn(token="xoxb-standin")
    for user in users:
        # UDANA is "dana": what people type after @ in `python -m bot slack command`.
        name = user.get("name") or user["id"].removeprefix("U").removeprefix("W").lower()
        standin.add_user(user["id"], name=name, tz=user.get("tz") or "UTC")
    for channel in channels:
        standin.add_channel(channel["id"], name=channel.get("name"))
    await standin.start(host, port)
    print(
        f"Slack stand-in at {standin.url} (token xoxb-standin); "
        f"{len(users)} users, {len(channels)} channels. Ctrl-C stops it.",
        flush=True,
    )
    try:
        await asyncio.Event().wait()
    finally:
        await standin.stop()
