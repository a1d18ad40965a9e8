"""Socket Mode: the app connects to the URL apps.connections.open gave it, is greeted with
`hello`, receives envelopes (events, interactions, slash commands) and acknowledges each by
its `envelope_id`."""

from __future__ import annotations

import itertools
import json

from aiohttp import web


class SocketMode:
    def __init__(self) -> None:
        self.acks: list[dict] = []  # envelopes the app acknowledged
        self._sockets: list[web.WebSocketResponse] = []
        self._envelopes = itertools.count(1)

    @property
    def connected(self) -> bool:
        return bool(self._sockets)

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
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

    async def send(self, kind: str, payload: dict, *, retry_attempt: int = 0) -> str:
        """Deliver an envelope to the newest connection; returns its envelope_id."""
        if not self._sockets:
            raise RuntimeError("no app is connected over Socket Mode")
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

    async def close(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
