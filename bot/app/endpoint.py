"""`POST /slack/events`: Slack's HTTP requests, checked before Bolt sees them.

The signature is checked here, on the bytes as they arrived: a missing, malformed, old or wrong
signature is 401 and nothing else happens. Then the body is parsed and its shape checked
here too, before Bolt calls Slack or any handler, so that a body that is not what Slack sends
(invalid JSON, an empty `payload=`, a click with no action) is a 400 with a reason rather than
an exception inside Bolt; Bolt gets the parsed request as JSON (Bolt's own parsing
takes any form body containing the word "payload" for an interaction, and loses it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.slack.payloads import shape_problem

log = logging.getLogger(__name__)
MAX_AGE_SECONDS = 5 * 60  # Slack's own rule for replayed requests
# Slack's deepest payloads (a view's blocks' elements' options) nest about a dozen levels; a
# body nested deeper is not Slack's, and left as it is would exhaust Bolt's recursion later.
MAX_DEPTH = 64


class NotSlack(Exception):
    """A signed request whose body is not one Slack sends."""


def signed_by_slack(secret: str, raw: bytes, headers, now: float) -> bool:  # type: ignore[no-untyped-def]
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not (timestamp.isascii() and timestamp.isdigit()) or not signature:
        return False
    if abs(now - int(timestamp)) > MAX_AGE_SECONDS:
        return False
    base = b"v0:" + timestamp.encode() + b":" + raw
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def parse_body(raw: bytes, content_type: str) -> dict:
    """The request as Slack meant it: a JSON body, a `payload=` holding JSON (interactions),
    or form fields (slash commands). Raises NotSlack."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise NotSlack("the body is not UTF-8") from None
    if not text.strip():
        raise NotSlack("the body is empty")
    if content_type == "application/json" or text.lstrip().startswith("{"):
        return _json_object(text, "the JSON body")
    fields = dict(parse_qsl(text, keep_blank_values=True))
    if "payload" in fields:
        return _json_object(fields["payload"], "payload")
    return fields


def _json_object(text: str, what: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError:
        raise NotSlack(f"{what} is not valid JSON") from None
    except RecursionError:
        raise NotSlack(f"{what} is nested too deep") from None
    if not isinstance(value, dict):
        raise NotSlack(f"{what} is not a JSON object")
    if _too_deep(value):
        raise NotSlack(f"{what} is nested too deep")
    return value


def _too_deep(value: object) -> bool:
    """Whether `value` nests deeper than MAX_DEPTH; iterative, so it cannot overflow itself."""
    level: list[object] = [value]
    for _ in range(MAX_DEPTH):
        level = [
            child
            for item in level
            for child in (item.values() if isinstance(item, dict) else item)
            if isinstance(child, dict | list)
        ]
        if not level:
            return False
    return True


def events_handler(app: AsyncApp, secret: str, clock=time.time):  # type: ignore[no-untyped-def]
    async def handle(request: web.Request) -> web.Response:
        raw = await request.read()
        if not signed_by_slack(secret, raw, request.headers, clock()):
            return web.json_response({"error": "invalid signature"}, status=401)
        body: dict = {}
        try:
            body = parse_body(raw, request.content_type)
            problem = shape_problem(body)
            if problem:
                raise NotSlack(problem)
        except NotSlack as exc:
            log.warning("refused a signed request: %s", exc)
            if body.get("type") == "event_callback":
                # Slack delivers an event again until it gets a 2xx: an event Vigil cannot
                # read is acknowledged and dropped, or it would come back three more times.
                return web.Response(status=200)
            return web.json_response({"error": f"not a Slack request: {exc}"}, status=400)
        headers = {k.lower(): v for k, v in request.headers.items()}
        headers["content-type"] = "application/json"
        bolt_request = AsyncBoltRequest(
            body=json.dumps(body), query=request.query_string, headers=headers
        )
        return await to_aiohttp_response(await app.async_dispatch(bolt_request))

    return handle
