"""The Web API's front door: `/api/{method}`. It reads the parameters however slack_sdk sent
them (query string for GETs, form or JSON body for POSTs; structured fields such as `blocks`
or `metadata` arrive as JSON strings in a form body), checks the token, applies any fault,
runs the method and records the call."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from bot.standin.api import Handler
from bot.standin.faults import Fault, Faults
from bot.standin.state import Call, Workspace

JSON_PARAMS = ("blocks", "attachments", "view", "metadata")


async def read_params(request: web.Request) -> dict[str, Any]:
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
        if isinstance(params.get(key), str) and params[key]:
            try:
                params[key] = json.loads(params[key])
            except json.JSONDecodeError:
                params[key] = {"__unparseable__": params[key]}
    return params


class WebApi:
    def __init__(
        self,
        *,
        tokens: Callable[[], tuple[str, str]],  # (bot token, app-level token), read per call
        workspace: Workspace,
        faults: Faults,
        methods: dict[str, Handler],
        calls: list[Call],
    ) -> None:
        self.tokens = tokens
        self.workspace = workspace
        self.faults = faults
        self.methods = methods
        self.calls = calls

    async def handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = await read_params(request)
        call = Call(
            method,
            {k: v for k, v in params.items() if k != "token"},
            0,
            {},
            at=self.workspace.clock(),
        )
        self.calls.append(call)
        refused = self._auth(method, params, request.headers.get("Authorization"))
        if refused:
            return self._answer(call, 200, {}, refused)
        call.inside_retry_after = self.faults.arrived(method)
        fault = self.faults.pick(method)
        if fault is not None:
            call.fault = fault.kind
        if fault is not None and not fault.loses_answer:
            return self._answer(call, *self.faults.refusal(method, fault))
        if fault is None:
            status, body = self._run(call, params)
            if call.applied and self.faults.slow.get(method):
                await asyncio.sleep(self.faults.slow[method])
            return self._answer(call, status, {}, body)
        return await self._lose_answer(request, call, params, fault)

    def _auth(self, method: str, params: dict, auth: str | None) -> dict | None:
        token = (auth or "").removeprefix("Bearer ").strip() or params.get("token")
        if not token:
            return {"ok": False, "error": "not_authed"}
        bot_token, app_token = self.tokens()
        if token != bot_token and not (method == "apps.connections.open" and token == app_token):
            return {"ok": False, "error": "invalid_auth"}
        return None

    def _run(self, call: Call, params: dict) -> tuple[int, dict]:
        handler = self.methods.get(call.method)
        if handler is None:
            return 404, {"ok": False, "error": "unknown_method"}
        result = handler(self.workspace, params)
        if "error" in result:
            return 200, {"ok": False} | result
        call.applied = True
        self.faults.counts["applied"] += 1
        return 200, {"ok": True} | result

    def _answer(self, call: Call, status: int, headers: dict[str, str], body: dict) -> web.Response:
        call.status, call.response = status, body
        return web.json_response(body, status=status, headers=headers)

    async def _lose_answer(
        self, request: web.Request, call: Call, params: dict, fault: Fault
    ) -> web.StreamResponse:
        """A timeout or a reset: the caller gets no answer, whether or not the method ran."""
        if fault.after_effect:
            _, call.response = self._run(call, params)
            if call.applied:
                self.faults.counts["lost_after_effect"] += 1
        if fault.kind == "timeout":
            await self.faults.hold(fault)
        if request.transport is not None:
            # Abort, not close: the client sees the connection drop with no response at all.
            request.transport.abort()
        return web.Response(status=204)
