"""A local stand-in for Slack's Web API, for the tests and the demo.

It listens on a loopback port and answers the methods Vigil calls the way Slack does: the same
parameters (query string, form body or JSON body, as slack_sdk sends them), the same response
shapes, the same error codes (`channel_not_found`, `user_not_found`, `invalid_blocks`, ...), and
HTTP 429 with `Retry-After` when told to rate-limit. It records every call, and keeps each
channel's messages as they stand after edits, so a test asserts on what reached "Slack".

How failures reach a caller of `AsyncWebClient` (with `retry_handlers=[]`):
- an `{"ok": false}` answer raises `slack_sdk.errors.SlackApiError`; `e.response["error"]`;
- 429 raises `SlackApiError` with `e.response.status_code == 429` and the `Retry-After` header
  in `e.response.headers`;
- 500/502/503 raise `SlackApiError` with that `status_code` (the body is JSON here, as Slack's
  own `internal_error` answers are).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from aiohttp import web

TEAM_ID = "T0STANDIN"
BOT_USER = "UVIGILBOT"
BOT_ID = "BVIGILBOT"
MAX_BLOCKS = 50  # in a message
MAX_VIEW_BLOCKS = 100  # in a modal or App Home
MAX_TEXT = 40_000
JSON_PARAMS = ("blocks", "attachments", "view")


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    status: int
    response: dict[str, Any]


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list | None
    thread_ts: str | None = None
    user: str = BOT_USER
    edits: int = 0
    number: int = 0  # the stand-in's own count of messages, for people to point at one


@dataclass
class _Failure:
    error: str | None
    status: int
    retry_after: int | None
    times: int


@dataclass
class _User:
    id: str
    name: str
    tz: str
    deleted: bool = False
    is_bot: bool = False


@dataclass
class _Channel:
    id: str
    name: str
    archived: bool = False
    messages: dict[str, Message] = field(default_factory=dict)


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
        self.responses: list[dict] = []  # what was posted to response URLs
        self.response_times: list[float] = []  # when each arrived (time.time(), for benchmarks)
        self._response_targets: dict[str, tuple[str, str]] = {}  # key -> (channel, ts)
        self._numbers = itertools.count(1)
        self.acks: list[dict] = []  # Socket Mode envelopes the app acknowledged
        self._sockets: list[web.WebSocketResponse] = []
        self._envelopes = itertools.count(1)
        self.block_validator = block_validator
        self.clock = clock or time.time
        self.calls: list[Call] = []
        self._users: dict[str, _User] = {}
        self._channels: dict[str, _Channel] = {}
        self._dms: dict[str, str] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._counter = itertools.count(1)
        self._views = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._emails: dict[str, str] = {}  # user id -> email (users.lookupByEmail)
        self._files: dict[str, dict[str, Any]] = {}  # file id -> {"meta", "content"}

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
        self._users[user_id] = _User(user_id, name or user_id.lower(), tz, deleted, is_bot)

    def add_channel(
        self, channel_id: str, *, name: str | None = None, archived: bool = False
    ) -> None:
        existing = self._channels.get(channel_id)
        if existing:
            existing.archived = archived
            existing.name = name or existing.name
        else:
            self._channels[channel_id] = _Channel(channel_id, name or channel_id.lower(), archived)

    def fail(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` calls of `method` ("*": any method) fail this way."""
        self._failures.setdefault(method, []).append(_Failure(error, status, retry_after, times))

    def reset(self) -> None:
        self.calls.clear()
        self._failures.clear()
        self._dms.clear()
        for channel_id in [c for c in self._channels if c.startswith("D")]:
            del self._channels[channel_id]
        for channel in self._channels.values():
            channel.messages.clear()

    # -- what happened -------------------------------------------------------------------
    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def messages(self, channel: str) -> list[Message]:
        found = self._channels.get(channel)
        return list(found.messages.values()) if found else []

    def dm_channel(self, user_id: str) -> str | None:
        return self._dms.get(user_id)

    # -- server --------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle)
        app.router.add_post("/response/{key}", self._response_url)
        app.router.add_get("/socket", self._socket)
        app.router.add_get("/files-pri/{team_file}/{name}", self._file_download)
        app.router.add_get("/_standin/calls", self._control_calls)
        app.router.add_get("/_standin/counts", self._control_counts)
        app.router.add_get("/_standin/response_times", self._control_response_times)
        app.router.add_get("/_standin/messages", self._control_messages)
        app.router.add_get("/_standin/responses", self._control_responses)
        app.router.add_post("/_standin/response_url", self._control_response_url)
        app.router.add_get("/_standin/users", self._control_list_users)
        app.router.add_post("/_standin/fail", self._control_fail)
        app.router.add_post("/_standin/users", self._control_users)
        app.router.add_post("/_standin/channels", self._control_channels)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self._port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def response_url(
        self, key: str = "r1", *, channel: str | None = None, ts: str | None = None
    ) -> str:
        """A response URL, as Slack puts in slash command and interaction payloads. Given the
        message a click came from, `replace_original` and `delete_original` apply to it."""
        if channel and ts:
            self._response_targets[key] = (channel, ts)
        return f"http://127.0.0.1:{self._port}/response/{key}"

    def responses_to(self, key: str) -> list[dict]:
        return [r for r in self.responses if r["key"] == key]

    async def _response_url(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        try:
            body = await request.json()
        except ValueError:
            return web.Response(status=400, text="invalid_payload")
        if not isinstance(body, dict):
            return web.Response(status=400, text="invalid_payload")
        blocks = body.get("blocks")
        if blocks is not None and self.block_validator:
            if not isinstance(blocks, list) or self.block_validator(blocks, limit=MAX_BLOCKS):
                return web.Response(status=400, text="invalid_blocks")
        self.responses.append({"key": key, **body})
        self.response_times.append(time.time())
        channel_id, ts = self._response_targets.get(key, ("", ""))
        channel = self._channels.get(channel_id)
        message = channel.messages.get(ts) if channel else None
        if channel and message:
            if body.get("delete_original"):
                del channel.messages[ts]
            elif body.get("replace_original"):
                message.text = str(body.get("text") or "")
                message.blocks = body.get("blocks")
                message.edits += 1
        return web.Response(text="ok")

    # -- Socket Mode ---------------------------------------------------------------------
    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json(
            {"type": "hello", "num_connections": 1, "debug_info": {"host": "standin"}}
        )
        async for msg in ws:
            try:
                data = json.loads(msg.data)
            except (TypeError, json.JSONDecodeError):
                continue
            if "envelope_id" in data:
                self.acks.append(data)
        self._sockets.remove(ws)
        return ws

    @property
    def socket_connected(self) -> bool:
        return bool(self._sockets)

    async def send_envelope(self, kind: str, payload: dict, *, retry_attempt: int = 0) -> str:
        """Deliver an event, interaction or slash command to the connected app."""
        envelope_id = f"env-{next(self._envelopes)}"
        await self._sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": retry_attempt,
                "retry_reason": "",
            }
        )
        return envelope_id

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            body = await request.read()
            if request.content_type == "application/json":
                try:
                    params.update(json.loads(body or b"{}"))
                except json.JSONDecodeError:
                    params["__invalid_json__"] = True
            else:
                params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        for key in JSON_PARAMS:
            if isinstance(params.get(key), str):
                try:
                    params[key] = json.loads(params[key])
                except json.JSONDecodeError:
                    params[key] = {"__unparseable__": params[key]}
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        status, headers, body = self._answer(method, params, request.headers.get("Authorization"))
        self.calls.append(
            Call(method, {k: v for k, v in params.items() if k != "token"}, status, body)
        )
        return web.json_response(body, status=status, headers=headers)

    def _answer(
        self, method: str, params: dict[str, Any], auth: str | None
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        token = (auth or "").removeprefix("Bearer ").strip() or params.get("token")
        if not token:
            return 200, {}, {"ok": False, "error": "not_authed"}
        if token != self.token and not (
            method == "apps.connections.open" and token == self.app_token
        ):
            return 200, {}, {"ok": False, "error": "invalid_auth"}
        failure = self._take_failure(method)
        if failure:
            if failure.status == 429:
                retry = str(failure.retry_after or 1)
                return 429, {"Retry-After": retry}, {"ok": False, "error": "ratelimited"}
            if failure.status >= 500:
                return failure.status, {}, {"ok": False, "error": failure.error or "internal_error"}
            return 200, {}, {"ok": False, "error": failure.error or "fatal_error"}
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return 404, {}, {"ok": False, "error": "unknown_method"}
        result = handler(params)
        return (
            200,
            {},
            ({"ok": True} | result) if "error" not in result else ({"ok": False} | result),
        )

    def _take_failure(self, method: str) -> _Failure | None:
        for key in (method, "*"):
            queue = self._failures.get(key)
            if queue:
                failure = queue[0]
                failure.times -= 1
                if failure.times <= 0:
                    queue.pop(0)
                return failure
        return None

    def _ts(self) -> str:
        return f"{int(self.clock())}.{next(self._counter):06d}"

    # -- Web API methods -----------------------------------------------------------------
    def _m_auth_test(self, p: dict) -> dict:
        return {
            "url": "https://standin.slack.com/",
            "team": "Stand-in",
            "user": "vigil",
            "team_id": TEAM_ID,
            "user_id": BOT_USER,
            "bot_id": BOT_ID,
        }

    def _user_json(self, user: _User) -> dict:
        offset = ZoneInfo(user.tz).utcoffset(datetime.fromtimestamp(self.clock()))
        return {
            "id": user.id,
            "team_id": TEAM_ID,
            "name": user.name,
            "real_name": user.name.title(),
            "deleted": user.deleted,
            "is_bot": user.is_bot,
            "tz": user.tz,
            "tz_label": user.tz,
            "tz_offset": int(offset.total_seconds()) if offset else 0,
            "profile": {"real_name": user.name.title(), "display_name": user.name},
        }

    def _m_apps_connections_open(self, p: dict) -> dict:
        return {"url": f"ws://127.0.0.1:{self._port}/socket"}

    def _m_users_info(self, p: dict) -> dict:
        user = self._users.get(str(p.get("user", "")))
        return {"user": self._user_json(user)} if user else {"error": "user_not_found"}

    def _m_conversations_open(self, p: dict) -> dict:
        users = str(p.get("users", "")).split(",")
        if len(users) != 1 or not users[0]:
            return {"error": "invalid_arguments" if users[0] else "users_list_not_supplied"}
        user = self._users.get(users[0])
        if user is None:
            return {"error": "user_not_found"}
        if user.deleted:
            return {"error": "user_disabled"}
        return {"channel": {"id": self._open_dm(user.id)}}

    def _open_dm(self, user_id: str) -> str:
        if user_id not in self._dms:
            channel_id = "D" + user_id.lstrip("UW")[:9].ljust(9, "0")
            self._dms[user_id] = channel_id
            self._channels[channel_id] = _Channel(channel_id, f"dm-{user_id}")
        return self._dms[user_id]

    def _channel(self, channel_id: str) -> _Channel | dict:
        if channel_id in self._users:  # Slack posts to a user id as to their DM
            if self._users[channel_id].deleted:
                return {"error": "user_disabled"}
            channel_id = self._open_dm(channel_id)
        channel = self._channels.get(channel_id)
        if channel is None:
            return {"error": "channel_not_found"}
        if channel.archived:
            return {"error": "is_archived"}
        return channel

    def _check_content(self, p: dict, *, need_content: bool = True) -> dict | None:
        text, blocks = p.get("text"), p.get("blocks")
        if need_content and not text and not blocks:
            return {"error": "no_text"}
        if text and len(str(text)) > MAX_TEXT:
            return {"error": "msg_too_long"}
        if blocks is not None:
            if not isinstance(blocks, list):
                return {"error": "invalid_blocks", "errors": ["blocks must be an array"]}
            if len(blocks) > MAX_BLOCKS:
                return {
                    "error": "invalid_blocks",
                    "errors": [f"no more than {MAX_BLOCKS} items allowed"],
                }
            if self.block_validator:
                errors = self.block_validator(blocks, limit=MAX_BLOCKS)
                if errors:
                    return {"error": "invalid_blocks", "errors": errors}
        return None

    def _message_json(self, m: Message) -> dict:
        body = {"type": "message", "text": m.text, "user": m.user, "bot_id": BOT_ID, "ts": m.ts}
        if m.blocks is not None:
            body["blocks"] = m.blocks
        if m.thread_ts:
            body["thread_ts"] = m.thread_ts
        return body

    def _m_chat_postMessage(self, p: dict) -> dict:
        channel = self._channel(str(p.get("channel", "")))
        if isinstance(channel, dict):
            return channel
        problem = self._check_content(p)
        if problem:
            return problem
        thread_ts = p.get("thread_ts") or None
        message = Message(
            channel.id,
            self._ts(),
            str(p.get("text") or ""),
            p.get("blocks"),
            thread_ts,
            number=next(self._numbers),
        )
        channel.messages[message.ts] = message
        return {"channel": channel.id, "ts": message.ts, "message": self._message_json(message)}

    def _m_chat_update(self, p: dict) -> dict:
        channel = self._channel(str(p.get("channel", "")))
        if isinstance(channel, dict):
            return channel
        message = channel.messages.get(str(p.get("ts", "")))
        if message is None:
            return {"error": "message_not_found"}
        problem = self._check_content(p, need_content=False)
        if problem:
            return problem
        if "text" in p:
            message.text = str(p["text"])
        if "blocks" in p:
            message.blocks = p["blocks"]
        message.edits += 1
        return {
            "channel": channel.id,
            "ts": message.ts,
            "text": message.text,
            "message": self._message_json(message),
        }

    def _m_chat_postEphemeral(self, p: dict) -> dict:
        channel = self._channel(str(p.get("channel", "")))
        if isinstance(channel, dict):
            return channel
        if str(p.get("user", "")) not in self._users:
            return {"error": "user_not_in_channel"}
        problem = self._check_content(p)
        return problem or {"message_ts": self._ts()}

    def _m_chat_getPermalink(self, p: dict) -> dict:
        channel_id, ts = str(p.get("channel", "")), str(p.get("message_ts", ""))
        if channel_id not in self._channels:
            return {"error": "channel_not_found"}
        return {
            "channel": channel_id,
            "permalink": f"https://standin.slack.com/archives/{channel_id}/p{ts.replace('.', '')}",
        }

    def _m_conversations_info(self, p: dict) -> dict:
        channel = self._channels.get(str(p.get("channel", "")))
        if channel is None:
            return {"error": "channel_not_found"}
        return {
            "channel": {"id": channel.id, "name": channel.name, "is_archived": channel.archived}
        }

    def _view(self, p: dict) -> dict:
        view = p.get("view")
        if not isinstance(view, dict) or "type" not in view:
            return {"error": "invalid_arguments"}
        blocks = view.get("blocks", [])
        if not isinstance(blocks, list):
            return {"error": "invalid_blocks", "errors": ["blocks must be an array"]}
        if len(blocks) > MAX_VIEW_BLOCKS:
            return {
                "error": "invalid_blocks",
                "errors": [f"no more than {MAX_VIEW_BLOCKS} items allowed"],
            }
        if self.block_validator:
            errors = self.block_validator(blocks, limit=MAX_VIEW_BLOCKS)
            if errors:
                return {"error": "invalid_blocks", "errors": errors}
        view_id = p.get("view_id") or f"V{next(self._views):08d}"
        return {"view": view | {"id": view_id, "team_id": TEAM_ID, "hash": self._ts()}}

    def _m_views_open(self, p: dict) -> dict:
        return self._view(p) if p.get("trigger_id") else {"error": "invalid_trigger_id"}

    def _m_views_push(self, p: dict) -> dict:
        return self._m_views_open(p)

    def _m_views_update(self, p: dict) -> dict:
        if not (p.get("view_id") or p.get("external_id")):
            return {"error": "view_not_found"}
        return self._view(p)

    def _m_views_publish(self, p: dict) -> dict:
        if str(p.get("user_id", "")) not in self._users:
            return {"error": "user_not_found"}
        return self._view(p)

    # -- people and files, for the import: users.list, users.lookupByEmail, files.info and
    # the private download URL, served as Slack serves them. Kept together so that it can move
    # into a module of its own.
    def set_email(self, user_id: str, email: str) -> None:
        self._emails[user_id] = email

    def upload(
        self, name: str, content: bytes, *, user: str = "UMARCUS", filetype: str | None = None
    ) -> dict[str, Any]:
        """A file as if `user` had uploaded it; returns its object as a `file_input` holds it."""
        file_id = f"F{next(self._counter):08d}"
        kind = filetype or name.rsplit(".", 1)[-1].lower()
        url = f"http://127.0.0.1:{self._port}/files-pri/{TEAM_ID}-{file_id}/{name}"
        meta = {
            "id": file_id,
            "created": int(self.clock()),
            "name": name,
            "title": name,
            "mimetype": {"csv": "text/csv", "json": "application/json"}.get(
                kind, "application/octet-stream"
            ),
            "filetype": kind,
            "user": user,
            "size": len(content),
            "url_private": url,
            "url_private_download": url + "?download=1",
        }
        self._files[file_id] = {"meta": meta, "content": content}
        return meta

    def _people_json(self, user: _User) -> dict:
        body = self._user_json(user)
        if user.id in self._emails:
            body["profile"] = body["profile"] | {"email": self._emails[user.id]}
        return body

    def _m_users_list(self, p: dict) -> dict:
        users = sorted(self._users.values(), key=lambda u: u.id)
        limit = max(1, min(int(p.get("limit") or 200), 1000))
        start = int(str(p.get("cursor") or "0").removeprefix("page:") or 0)
        page = users[start : start + limit]
        more = start + limit < len(users)
        return {
            "members": [self._people_json(u) for u in page],
            "response_metadata": {"next_cursor": f"page:{start + limit}" if more else ""},
        }

    def _m_users_lookupByEmail(self, p: dict) -> dict:
        email = str(p.get("email", "")).lower()
        for user_id, known in self._emails.items():
            if known.lower() == email and user_id in self._users:
                return {"user": self._people_json(self._users[user_id])}
        return {"error": "users_not_found"}

    def _m_files_info(self, p: dict) -> dict:
        found = self._files.get(str(p.get("file", "")))
        return {"file": found["meta"]} if found else {"error": "file_not_found"}

    async def _file_download(self, request: web.Request) -> web.Response:
        file_id = request.match_info["team_file"].removeprefix(f"{TEAM_ID}-")
        found = self._files.get(file_id)
        auth = request.headers.get("Authorization", "")
        if found is None or auth != f"Bearer {self.token}":
            # Slack answers a download without the bot token with its sign-in page, not a 401.
            return web.Response(
                text="<!DOCTYPE html><html>Sign in</html>", content_type="text/html"
            )
        return web.Response(body=found["content"], content_type=found["meta"]["mimetype"])

    # -- control endpoints, for a stand-in running as its own process -----------------------
    async def _control_calls(self, request: web.Request) -> web.Response:
        return web.json_response([asdict(c) for c in self.calls])

    async def _control_counts(self, request: web.Request) -> web.Response:
        """How many Web API calls and response URL posts arrived: cheap enough to poll."""
        return web.json_response({"calls": len(self.calls), "responses": len(self.responses)})

    async def _control_response_times(self, request: web.Request) -> web.Response:
        """[key, arrival time, text] of every response URL post, in the order they came."""
        return web.json_response(
            [
                [r["key"], t, str(r.get("text") or "")]
                for r, t in zip(self.responses, self.response_times, strict=True)
            ]
        )

    async def _control_messages(self, request: web.Request) -> web.Response:
        """Messages as they stand, in the order they were posted: one channel's (`channel`),
        one person's DM (`user`), or every channel's."""
        if "channel" in request.query:
            found = self.messages(request.query["channel"])
        elif "user" in request.query:
            found = self.messages(self.dm_channel(request.query["user"]) or "")
        else:
            found = [m for c in self._channels.values() for m in c.messages.values()]
        dm_users = {channel: user for user, channel in self._dms.items()}
        return web.json_response(
            [
                asdict(m) | {"dm_with": dm_users.get(m.channel)}
                for m in sorted(found, key=lambda m: m.number)
            ]
        )

    async def _control_responses(self, request: web.Request) -> web.Response:
        return web.json_response(self.responses_to(request.query.get("key", "")))

    async def _control_response_url(self, request: web.Request) -> web.Response:
        body = await request.json()
        key = body.get("key") or f"r{next(self._counter)}"
        url = self.response_url(key, channel=body.get("channel"), ts=body.get("ts"))
        return web.json_response({"key": key, "url": url})

    async def _control_list_users(self, request: web.Request) -> web.Response:
        return web.json_response([asdict(u) for u in self._users.values()])

    async def _control_fail(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.fail(
            body["method"],
            error=body.get("error"),
            status=int(body.get("status", 200)),
            retry_after=body.get("retry_after"),
            times=int(body.get("times", 1)),
        )
        return web.json_response({"ok": True})

    async def _control_users(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.add_user(
            body["id"],
            name=body.get("name"),
            tz=body.get("tz") or "UTC",
            deleted=bool(body.get("deleted")),
        )
        return web.json_response({"ok": True})

    async def _control_channels(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.add_channel(body["id"], name=body.get("name"), archived=bool(body.get("archived")))
        return web.json_response({"ok": True})


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
