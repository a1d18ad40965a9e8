"""`/_standin/*`: set up and inspect a stand-in running as its own process
(`python -m bot standin`), for the benchmarks and `python -m bot slack`.

GET  calls, counts, response_times, messages[?channel=|?user=], responses?key=, users, faults
POST response_url {key?, channel?, ts?}, fail {method, error?, status?, retry_after?, times?,
     kind?, after_effect?, hold?}, users {id, name?, tz?, deleted?}, channels {id, name?, archived?},
     status {user, text?, emoji?, expiration?, deleted?, events_url?, signing_secret?, socket?},
     faults {rate, seed?, kinds?, hold?, after_effect?, retry_after?, methods?} (rate 0: off),
     slow {methods, seconds} (each answer of these methods waits after taking effect; 0: off)

A request it cannot follow is answered 400 with `{"ok": false, "error": "<one sentence>"}`."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from bot.standin.server import SlackStandIn


def add_routes(app: web.Application, standin: SlackStandIn) -> None:
    c = _Control(standin)
    app.router.add_get("/_standin/calls", c.calls)
    app.router.add_get("/_standin/counts", c.counts)
    app.router.add_get("/_standin/response_times", c.response_times)
    app.router.add_get("/_standin/messages", c.messages)
    app.router.add_get("/_standin/responses", c.responses)
    app.router.add_get("/_standin/users", c.list_users)
    app.router.add_get("/_standin/faults", c.fault_report)
    app.router.add_post("/_standin/response_url", c.response_url)
    app.router.add_post("/_standin/fail", c.fail)
    app.router.add_post("/_standin/users", c.users)
    app.router.add_post("/_standin/channels", c.channels)
    app.router.add_post("/_standin/status", c.status)
    app.router.add_post("/_standin/faults", c.faults)
    app.router.add_post("/_standin/slow", c.slow)


def _ok(**fields: object) -> web.Response:
    return web.json_response({"ok": True, **fields})


def _bad(sentence: str) -> web.Response:
    return web.json_response({"ok": False, "error": sentence}, status=400)


async def _body(request: web.Request) -> dict:
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(
            text='{"ok": false, "error": "The body must be a JSON object."}',
            content_type="application/json",
        )
    return body


class _Control:
    def __init__(self, standin: SlackStandIn) -> None:
        self.standin = standin

    async def calls(self, request: web.Request) -> web.Response:
        return web.json_response([asdict(c) for c in self.standin.calls])

    async def counts(self, request: web.Request) -> web.Response:
        """How many Web API calls and response URL posts arrived: cheap enough to poll."""
        s = self.standin
        return web.json_response({"calls": len(s.calls), "responses": len(s.responses)})

    async def response_times(self, request: web.Request) -> web.Response:
        """[key, arrival time, text] of every response URL post, in the order they came."""
        s = self.standin
        return web.json_response(
            [
                [r["key"], t, str(r.get("text") or "")]
                for r, t in zip(s.responses, s.response_times, strict=True)
            ]
        )

    async def messages(self, request: web.Request) -> web.Response:
        """Messages as they stand, in the order they were posted: one channel's (`channel`),
        one person's DM (`user`), or every channel's."""
        s, query = self.standin, request.query
        if "channel" in query:
            found = s.messages(query["channel"])
        elif "user" in query:
            found = s.messages(s.dm_channel(query["user"]) or "")
        else:
            found = [m for c in s.workspace.channels.values() for m in c.messages.values()]
        dm_users = {channel: user for user, channel in s.workspace.dms.items()}
        return web.json_response(
            [
                asdict(m) | {"dm_with": dm_users.get(m.channel)}
                for m in sorted(found, key=lambda m: m.number)
            ]
        )

    async def responses(self, request: web.Request) -> web.Response:
        return web.json_response(self.standin.responses_to(request.query.get("key", "")))

    async def response_url(self, request: web.Request) -> web.Response:
        body = await _body(request)
        key = body.get("key") or self.standin.workspace.next_key()
        url = self.standin.response_url(key, channel=body.get("channel"), ts=body.get("ts"))
        return web.json_response({"key": key, "url": url})

    async def list_users(self, request: web.Request) -> web.Response:
        return web.json_response([asdict(u) for u in self.standin.workspace.users.values()])

    async def fail(self, request: web.Request) -> web.Response:
        body = await _body(request)
        if not body.get("method"):
            return _bad("Name the method to fail, e.g. chat.postMessage, or * for any.")
        try:
            self.standin.fail(
                body["method"],
                error=body.get("error"),
                status=int(body.get("status", 200)),
                retry_after=body.get("retry_after"),
                times=int(body.get("times", 1)),
                kind=body.get("kind"),
                after_effect=bool(body.get("after_effect")),
                hold=float(body["hold"]) if "hold" in body else None,
            )
        except (TypeError, ValueError) as exc:
            return _bad(f"{exc}.")
        return _ok()

    async def users(self, request: web.Request) -> web.Response:
        body = await _body(request)
        if not body.get("id"):
            return _bad("A user needs an id, e.g. UDANA.")
        try:
            self.standin.add_user(
                body["id"],
                name=body.get("name"),
                tz=body.get("tz") or "UTC",
                deleted=bool(body.get("deleted")),
            )
        except (ValueError, KeyError):
            return _bad(f"{body.get('tz')!r} is not a time zone, e.g. Europe/London.")
        return _ok()

    async def channels(self, request: web.Request) -> web.Response:
        body = await _body(request)
        if not body.get("id"):
            return _bad("A channel needs an id, e.g. CMANAGERS.")
        self.standin.add_channel(
            body["id"], name=body.get("name"), archived=bool(body.get("archived"))
        )
        return _ok()

    async def status(self, request: web.Request) -> web.Response:
        """Change someone's status (and whether they are deactivated), and optionally tell
        the app with a `user_change` event. Nothing changes unless the whole request can."""
        body = await _body(request)
        user_id = str(body.get("user") or "")
        if user_id not in self.standin.workspace.users:
            return _bad(f"No user {user_id or '(none given)'}; add them first.")
        try:
            expiration = int(body.get("expiration") or 0)
        except (TypeError, ValueError):
            return _bad("expiration is epoch seconds, or 0 for a status that does not expire.")
        problem = self._delivery_problem(body)
        if problem:
            return _bad(problem)
        if any(k in body for k in ("text", "emoji", "expiration")):
            self.standin.set_status(
                user_id, str(body.get("text") or ""), str(body.get("emoji") or ""), expiration
            )
        if "deleted" in body:
            self.standin.set_deleted(user_id, bool(body["deleted"]))
        event = self.standin.user_change_event(user_id)
        answered = None
        if body.get("events_url") or body.get("socket"):
            answered = await self.standin.deliver_event(
                event,
                url=body.get("events_url"),
                signing_secret=body.get("signing_secret"),
                socket=bool(body.get("socket")),
            )
        return _ok(event=event, app_status=answered)

    def _delivery_problem(self, body: dict) -> str | None:
        if body.get("events_url") and not body.get("signing_secret"):
            return "Give the signing_secret to sign the event sent to events_url."
        if body.get("socket") and not self.standin.socket_connected:
            return "No app is connected over Socket Mode to send the event to."
        return None

    async def faults(self, request: web.Request) -> web.Response:
        """Switch random faults on (rate > 0) or off (rate 0)."""
        body = await _body(request)
        try:
            rate = float(body.get("rate", 0))
            if rate == 0:
                self.standin.stop_failing_randomly()
                return _ok(on=False)
            self.standin.fail_randomly(
                rate,
                int(body.get("seed", 0)),
                body.get("kinds") or ("429", "500", "503", "timeout", "reset"),
                retry_after=int(body.get("retry_after", 1)),
                hold=float(body["hold"]) if "hold" in body else None,
                after_effect=float(body.get("after_effect", 0)),
                methods=body.get("methods"),
            )
        except (TypeError, ValueError) as exc:
            return _bad(f"{exc}.")
        return _ok(on=True)

    async def fault_report(self, request: web.Request) -> web.Response:
        s = self.standin
        return web.json_response(
            {
                "on": s.faults.random is not None,
                "counts": dict(s.fault_counts),
                "calls_inside_retry_after": s.calls_inside_retry_after,
                "retry_after_until": s.retry_after_until,
            }
        )

    async def slow(self, request: web.Request) -> web.Response:
        """Answers of `methods` wait `seconds` after the method took effect (0: at once)."""
        body = await _body(request)
        methods = body.get("methods")
        try:
            seconds = float(body.get("seconds", 0))
        except (TypeError, ValueError):
            return _bad("seconds is a number, e.g. 0.5.")
        if not isinstance(methods, list) or not methods or seconds < 0:
            return _bad('Name the methods to slow, e.g. ["chat.postMessage"], and seconds >= 0.')
        for method in methods:
            if seconds:
                self.standin.faults.slow[str(method)] = seconds
            else:
                self.standin.faults.slow.pop(str(method), None)
        return _ok(slow=dict(self.standin.faults.slow))
