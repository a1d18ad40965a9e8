"""`POST /slack/events` in bulk: generated requests, most of them wrong in one way or several
(signatures, headers, content types, bodies, missing fields, values of the wrong type, ids of
30 digits, control characters, mentions of everyone in every free-text field), sent over HTTP
to the real app talking to the stand-in. Whatever arrives: never a 5xx, never "something went
wrong on our side", nothing stored from what was refused, and no `<!channel>`, `<!here>` or
`<!everyone>` in anything Vigil says to Slack, then or in the sweeps that follow."""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.slack import ids
from bot.standin.server import SlackStandIn
from bot.standin.wire import SlackWire
from tests.blockkit import block_errors
from tests.conftest import MANAGERS, MONDAY, TOKEN
from tests.slackio import rows

FORM = "application/x-www-form-urlencoded"
HUGE = "9" * 30
OOPS = "Something went wrong"
# What would notify a whole channel or workspace, however it is written.
EVERYONE = re.compile(r"<!(channel|here|everyone|subteam\^)", re.IGNORECASE)

DANGER = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!here|here>",
    "<!subteam^S0TEAM>",
    "<<!channel>>",
    "&lt;!here&gt;",
    "<@UDANA>",
    "<#C0GENERAL>",
    "<http://x.invalid|<!here>>",
    "\x00",
    "\x1b[31m",
    "\u202e",
    "\r\n",
    "\t",
    HUGE,
    "*b* _i_ `c`",
    "&amp;",
    "#1",
    "due friday",
]
pieces = st.lists(st.one_of(st.sampled_from(DANGER), st.text(max_size=10)), max_size=5)
free_text = st.tuples(st.sampled_from(["Payroll", "VAT return", ""]), pieces).map(
    lambda t: t[0] + " " + "".join(t[1])
)
SHOUT = " ".join(DANGER[:10])  # every way of shouting at once, for the fields a person fills
WRONG: list[Any] = [None, 0, -1, 10**30, 1.5, True, [], ["x"], {}, {"id": 1}, "", HUGE, "\x00"]
an_id = st.sampled_from(["1", "2", HUGE, "0", "-1", str(2**31), "x"])


# -- payloads as Slack builds them, with free text everywhere a person types -------------------
def slash(wire: SlackWire, text: str, trigger: str) -> dict:
    return {
        "token": "legacy",
        "team_id": "T0STANDIN",
        "channel_id": "C0GENERAL",
        "user_id": "UDANA",
        "command": "/task",
        "text": text,
        "response_url": wire.standin.response_url("fuzz"),
        "trigger_id": trigger,
        "api_app_id": "A0VIGIL",
    }


def interaction(wire: SlackWire, kind: str, trigger: str, **fields: Any) -> dict:
    return {
        "type": kind,
        "user": {"id": "UDANA", "team_id": "T0STANDIN"},
        "team": {"id": "T0STANDIN"},
        "api_app_id": "A0VIGIL",
        "trigger_id": trigger,
        "response_url": wire.standin.response_url("fuzz"),
    } | fields


def inputs(values: dict[str, tuple[str, str, Any]]) -> dict:
    return {
        block: {block: {"type": kind, key: value}} for block, (kind, key, value) in values.items()
    }


@st.composite
def payloads(draw, wire: SlackWire) -> tuple[str, dict]:
    """("form" | "payload" | "json", the body's fields or payload)."""
    text, other = draw(free_text), draw(free_text)
    task = draw(an_id)
    trigger = f"t-{draw(st.integers(0, 10**9))}"
    kind = draw(
        st.sampled_from(["command", "click", "new", "progress", "blocked", "shortcut", "event"])
    )
    if kind == "command":
        verb = draw(
            st.sampled_from(
                [
                    "add {t} due friday",
                    "add {t}",
                    "block {i} {t}",
                    "progress {i} 40 {t}",
                    "{t}",
                    "due {i} {t}",
                    "assign {i} {t}",
                    "progress {i} {t}",
                    "add {t} <@UDANA> due {o}",
                    "list",
                    "new",
                ]
            )
        )
        return "form", slash(wire, verb.format(t=text, i=task, o=other), trigger)
    if kind == "click":
        action_id = draw(
            st.sampled_from([v for k, v in vars(ids).items() if k.startswith("ACTION_")])
        )
        block_id = draw(st.sampled_from([f"vigil|{task}|0|x", f"vigil|1|{task}|x", text]))
        action = {
            "action_id": action_id,
            "block_id": block_id,
            "type": "button",
            "selected_option": {"value": draw(st.sampled_from(["60", "2", text, HUGE]))},
            "selected_date": draw(st.sampled_from(["2026-03-06", text])),
            "selected_user": draw(st.sampled_from(["ULEE", text, "U" + HUGE])),
        }
        return "payload", interaction(
            wire,
            "block_actions",
            trigger,
            actions=[action],
            container={"type": "message", "channel_id": "C0GENERAL", "message_ts": "1.1"},
            message={"ts": "1.1", "text": other, "blocks": []},
        )
    if kind == "event":
        user = draw(st.sampled_from(["UDANA", text]))
        event = {"type": "app_home_opened", "user": user, "tab": "home"}
        return "json", {
            "token": "legacy",
            "team_id": "T0STANDIN",
            "api_app_id": "A0VIGIL",
            "type": "event_callback",
            "event_id": f"Ev{draw(st.integers(0, 10**6))}",
            "event_time": int(time.time()),
            "event": event,
        }
    if kind == "shortcut":
        return "payload", interaction(
            wire,
            "message_action",
            trigger,
            callback_id=ids.SHORTCUT_FROM_MESSAGE,
            channel={"id": "C0GENERAL"},
            message={"ts": "1.1", "text": text, "user": "UDANA"},
        )
    meta = draw(
        st.sampled_from(
            [
                json.dumps({"task": 1}),
                json.dumps({"task": int(HUGE)}),
                text,
                json.dumps({"task": task}),
            ]
        )
    )
    if kind == "new":
        callback, values = (
            ids.VIEW_NEW_TASK,
            {
                ids.INPUT_TITLE: ("plain_text_input", "value", text),
                ids.INPUT_OWNER: (
                    "users_select",
                    "selected_user",
                    draw(st.sampled_from(["UDANA", other])),
                ),
                ids.INPUT_DEADLINE: (
                    "datepicker",
                    "selected_date",
                    draw(st.sampled_from(["2026-03-06", other])),
                ),
                ids.INPUT_PARENT: ("plain_text_input", "value", task),
                ids.INPUT_DESCRIPTION: ("plain_text_input", "value", other),
            },
        )
    elif kind == "progress":
        callback, values = (
            ids.VIEW_PROGRESS,
            {
                ids.INPUT_PROGRESS: (
                    "number_input",
                    "value",
                    draw(st.sampled_from(["55", text, HUGE])),
                ),
                ids.INPUT_NOTE: ("plain_text_input", "value", other),
            },
        )
    else:
        callback, values = ids.VIEW_BLOCKED, {ids.INPUT_REASON: ("plain_text_input", "value", text)}
    view = {
        "id": f"V{draw(st.integers(0, 10**6))}",
        "type": "modal",
        "callback_id": callback,
        "private_metadata": meta,
        "state": {"values": inputs(values)},
    }
    return "payload", interaction(wire, "view_submission", trigger, view=view)


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix] if prefix else []
    if isinstance(value, dict) and len(prefix) < 6:
        for key, inner in value.items():
            found += paths(inner, (*prefix, key))
    elif isinstance(value, list) and len(prefix) < 6:
        for i, inner in enumerate(value):
            found += paths(inner, (*prefix, i))
    return found


def mutated(payload: dict, path: tuple, replacement: Any, drop: bool) -> dict:
    copy = json.loads(json.dumps(payload))
    holder = copy
    for step in path[:-1]:
        holder = holder[step]
    if drop and isinstance(holder, dict):
        del holder[path[-1]]
    else:
        holder[path[-1]] = replacement
    return copy


@st.composite
def requests(draw, wire: SlackWire) -> tuple[bytes, dict[str, str], str]:
    """(body, headers, what) for one POST: a payload, maybe broken, maybe sent badly."""
    shape, payload = draw(payloads(wire))
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
        where = paths(payload)
        payload = mutated(
            payload, draw(st.sampled_from(where)), draw(st.sampled_from(WRONG)), draw(st.booleans())
        )
    if shape == "json":
        body, content_type = json.dumps(payload), "application/json"
    elif shape == "payload":
        body, content_type = urlencode({"payload": json.dumps(payload)}), FORM
    else:
        body, content_type = urlencode({k: str(v) for k, v in payload.items()}), FORM
    raw = draw(
        st.sampled_from(
            [body] * 24
            + ["{not json", "payload={not json", "payload=", "", "\x00\x01\x02", "[1,2]", "null"]
            + ["payload=" + "x" * 2_000_000]
        )
    ).encode()
    raw = draw(st.sampled_from([raw] * 8 + [raw + b"\xff\xfe", raw.replace(b"a", b"\x00")]))
    content_type = draw(
        st.sampled_from([content_type] * 12 + ["application/json", FORM, "text/plain", ""])
    )
    signing = draw(st.sampled_from(["good"] * 20 + ["stale", "future", "wrong", "no-ts", "no-sig"]))
    age = {"stale": 6 * 60, "future": -6 * 60}.get(signing, 0)
    secret = "not-the-secret" if signing == "wrong" else None
    headers = wire._headers(raw.decode("utf-8", "replace"), content_type, age=age, secret=secret)
    if raw.decode("utf-8", "replace").encode() != raw:  # sign the bytes as they are sent
        headers = _signed_bytes(wire, raw, headers, secret)
    if signing == "no-ts":
        del headers["X-Slack-Request-Timestamp"]
    if signing == "no-sig":
        del headers["X-Slack-Signature"]
    if not content_type:
        del headers["Content-Type"]
    return raw, headers, f"{shape}/{signing}/{content_type}"


def _signed_bytes(wire: SlackWire, raw: bytes, headers: dict, secret: str | None) -> dict:
    import hashlib
    import hmac

    from bot.standin.wire import SECRET

    ts = headers["X-Slack-Request-Timestamp"]
    key = (secret or SECRET).encode()
    digest = hmac.new(key, b"v0:" + ts.encode() + b":" + raw, hashlib.sha256).hexdigest()
    return headers | {"X-Slack-Signature": f"v0={digest}"}


# -- what Vigil said ------------------------------------------------------------------------
def mrkdwn_texts(value: Any) -> list[str]:
    """Every text Slack would parse for mentions: a message's `text` and every mrkdwn object
    (plain_text shows `<!here>` as typed, so it notifies no one)."""
    found: list[str] = []
    if isinstance(value, dict):
        if value.get("type") == "mrkdwn" and isinstance(value.get("text"), str):
            found.append(value["text"])
        for inner in value.values():
            found += mrkdwn_texts(inner)
    elif isinstance(value, list):
        for inner in value:
            found += mrkdwn_texts(inner)
    return found


def said(params: dict) -> list[str]:
    top = [params["text"]] if isinstance(params.get("text"), str) else []
    return top + mrkdwn_texts({k: v for k, v in params.items() if k != "text"})


def shouts(standin: SlackStandIn, calls_from: int, responses_from: int) -> list[str]:
    everything = [c.params for c in standin.calls[calls_from:]] + standin.responses[responses_from:]
    return [t for params in everything for t in said(params) if EVERYONE.search(t)]


async def shout_everywhere(wire: SlackWire) -> None:
    """Mentions of everyone in every free-text field, each accepted and stored, so that the
    sweeps afterwards have them to say."""
    tasks = rows(wire)[0]
    for text in (f"add {SHOUT} due 2026-01-14", f"progress 1 40 {SHOUT}", f"block 2 {SHOUT}"):
        await wire.post(urlencode(slash(wire, text, f"t-{text[:5]}")), FORM)
    views = [
        (
            ids.VIEW_NEW_TASK,
            {
                ids.INPUT_TITLE: ("plain_text_input", "value", SHOUT),
                ids.INPUT_DESCRIPTION: ("plain_text_input", "value", SHOUT),
                ids.INPUT_OWNER: ("users_select", "selected_user", "UDANA"),
            },
        ),
        (
            ids.VIEW_PROGRESS,
            {
                ids.INPUT_PROGRESS: ("number_input", "value", "70"),
                ids.INPUT_NOTE: ("plain_text_input", "value", SHOUT),
            },
        ),
        (ids.VIEW_BLOCKED, {ids.INPUT_REASON: ("plain_text_input", "value", SHOUT)}),
    ]
    for n, (callback, values) in enumerate(views):
        view = {
            "id": f"VSHOUT{n}",
            "type": "modal",
            "callback_id": callback,
            "private_metadata": json.dumps({"task": 1}),
            "state": {"values": inputs(values)},
        }
        payload = interaction(wire, "view_submission", f"t-shout{n}", view=view)
        await wire.post(urlencode({"payload": json.dumps(payload)}), FORM)
    shortcut = interaction(
        wire,
        "message_action",
        "t-shout",
        callback_id=ids.SHORTCUT_FROM_MESSAGE,
        channel={"id": "C0GENERAL"},
        message={"ts": "1.1", "text": SHOUT},
    )
    await wire.post(urlencode({"payload": json.dumps(shortcut)}), FORM)
    await _idle()
    assert rows(wire)[0] == tasks + 2


# -- the run ------------------------------------------------------------------------------------
def _app_work() -> set[asyncio.Task]:
    """The app's tasks besides its connections (which live as long as the client keeps them)."""
    return {
        t
        for t in asyncio.all_tasks()
        if t is not asyncio.current_task() and "RequestHandler" not in t.get_coro().__qualname__
    }


async def _idle(limit: float = 3.0) -> None:
    """Until the app's work after its answers (listeners, Home republishing) has finished."""
    deadline = time.monotonic() + limit
    while _app_work() and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.002)
    assert not _app_work(), _app_work()


def test_no_request_makes_vigil_fail_store_what_it_refused_or_mention_everyone(database_url):
    """On SQLite, and on PostgreSQL where one is given (`database_url`)."""
    loop = asyncio.new_event_loop()
    standin = SlackStandIn(token=TOKEN, block_validator=block_errors)
    for user in ("UDANA", "UMARCUS", "ULEE"):
        standin.add_user(user, name=user.title(), tz="Europe/London")
    standin.add_channel(MANAGERS, name="managers")
    standin.add_channel("C0GENERAL", name="general")
    wire = SlackWire(standin, database_url, MONDAY)

    async def start() -> None:
        await standin.start()
        await wire.start()
        await wire.command("add Payroll <@UDANA|dana> due 2026-01-30", user="UDANA")
        await wire.command("add Board pack <@ULEE|lee> due 2026-02-27", user="UMARCUS")
        await _idle()

    loop.run_until_complete(start())
    statuses: dict[int, int] = {}

    async def send(raw: bytes, headers: dict, what: str) -> None:
        stored, calls, responses = rows(wire), len(standin.calls), len(standin.responses)
        async with wire.http.post(f"{wire.url}/slack/events", data=raw, headers=headers) as resp:
            status, answer = resp.status, await resp.text()
        statuses[status] = statuses.get(status, 0) + 1
        await _idle()
        assert status < 500, (what, status, answer, raw[:300])
        refused = status >= 400 or '"response_action": "errors"' in answer.replace('":"', '": "')
        if refused:
            assert rows(wire) == stored, (what, status, answer)
        if status >= 400:
            assert len(standin.calls) == calls and len(standin.responses) == responses, what
        new = [c.params for c in standin.calls[calls:]] + standin.responses[responses:]
        assert not any(OOPS in t for p in new for t in said(p)), (what, raw[:300])
        assert not shouts(standin, calls, responses), (what, shouts(standin, calls, responses))

    @settings(
        max_examples=300,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(requests(wire))
    def one_request(request: tuple[bytes, dict, str]) -> None:
        loop.run_until_complete(send(*request))

    try:
        one_request()

        async def sweeps() -> None:
            # What was stored (titles, notes, reasons) now goes out in DMs and to managers.
            for days in (5, 8, 12, 20):
                await wire.sweep(MONDAY + timedelta(days=days))

        loop.run_until_complete(shout_everywhere(wire))
        calls, responses = len(standin.calls), len(standin.responses)
        loop.run_until_complete(sweeps())
        assert len(standin.calls) > calls  # the sweeps did say something
        assert not shouts(standin, calls, responses)
        # The run covered the ground: requests refused at the door, answered, and acted on.
        assert statuses.get(401, 0) > 10 and statuses.get(400, 0) > 10 and statuses.get(200, 0) > 50
        assert rows(wire)[0] > 2
        print(f"fuzz: {sum(statuses.values())} requests, answers by status {statuses}")
    finally:
        loop.run_until_complete(wire.stop())
        loop.run_until_complete(standin.stop())
        loop.close()
