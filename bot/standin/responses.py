"""Response URLs, as Slack puts in slash command and interaction payloads: what the app
posts to them is recorded, and `replace_original` / `delete_original` change the message the
click came from."""

from __future__ import annotations

import time

from aiohttp import web

from bot.standin.state import MAX_BLOCKS, Workspace


class ResponseUrls:
    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.responses: list[dict] = []  # what was posted, each with its "key"
        self.times: list[float] = []  # when each arrived (time.time(), for benchmarks)
        self._targets: dict[str, tuple[str, str]] = {}  # key -> (channel, ts)

    def target(self, key: str, channel: str | None, ts: str | None) -> None:
        if channel and ts:
            self._targets[key] = (channel, ts)

    def to(self, key: str) -> list[dict]:
        return [r for r in self.responses if r["key"] == key]

    async def handle(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        try:
            body = await request.json()
        except ValueError:
            return web.Response(status=400, text="invalid_payload")
        if not isinstance(body, dict):
            return web.Response(status=400, text="invalid_payload")
        blocks = body.get("blocks")
        validator = self.workspace.block_validator
        if blocks is not None and validator:
            if not isinstance(blocks, list) or validator(blocks, limit=MAX_BLOCKS):
                return web.Response(status=400, text="invalid_blocks")
        self.responses.append({"key": key, **body})
        self.times.append(time.time())
        self._apply(key, body)
        return web.Response(text="ok")

    def _apply(self, key: str, body: dict) -> None:
        channel_id, ts = self._targets.get(key, ("", ""))
        channel = self.workspace.channels.get(channel_id)
        message = channel.messages.get(ts) if channel else None
        if channel is None or message is None:
            return
        if body.get("delete_original"):
            del channel.messages[ts]
        elif body.get("replace_original"):
            message.text = str(body.get("text") or "")
            message.blocks = body.get("blocks")
            message.edits += 1
