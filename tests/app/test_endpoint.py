"""`POST /slack/events` before any handler: only requests signed by Slack get in, and a signed
body that is not what Slack sends is a 400 with a reason, never a 500 or a stray task."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from bot.standin.wire import SlackWire, settle
from tests.slackio import rows

FORM = "application/x-www-form-urlencoded"


def command(**fields: str) -> str:
    base = {
        "command": "/task",
        "text": "add Sneaky due friday",
        "user_id": "UDANA",
        "team_id": "T0STANDIN",
        "channel_id": "C0GENERAL",
        "trigger_id": "t-endpoint",
        "response_url": "http://127.0.0.1:1/response/x",
    }
    return urlencode({k: v for k, v in (base | fields).items() if v is not None})


def click(**changes) -> dict:
    return {
        "type": "block_actions",
        "user": {"id": "UDANA"},
        "team": {"id": "T0STANDIN"},
        "api_app_id": "A0VIGIL",
        "trigger_id": "t-click",
        "response_url": "http://127.0.0.1:1/response/y",
        "actions": [{"action_id": "vigil_done", "block_id": "vigil|1|0|x", "type": "button"}],
    } | changes


async def nothing_happened(w: SlackWire, before: tuple[int, int]) -> None:
    await settle(lambda: False, limit=0.05)
    assert rows(w) == before
    assert w.standin.calls == [] and w.standin.responses == []


NOT_SLACK = (
    ("payload=%7Bnot+json", FORM, "payload is not valid JSON"),
    ("payload=", FORM, "payload is not valid JSON"),
    ("payload=%5B1%2C2%5D", FORM, "payload is not a JSON object"),
    ("{not json", "application/json", "the JSON body is not valid JSON"),
    ("", "application/json", "the body is empty"),
    (urlencode({"payload": json.dumps(click(actions=[]))}), FORM, "without actions"),
    (urlencode({"payload": json.dumps(click(actions=[{}]))}), FORM, "without an action_id"),
    (urlencode({"payload": json.dumps(click(user=None))}), FORM, "without a user"),
    (command(user_id=None), FORM, "a slash command without user_id"),
    (command(user_id=""), FORM, "a slash command without user_id"),
    (command(trigger_id=None), FORM, "a slash command without trigger_id"),
    (
        urlencode({"payload": json.dumps({"type": "view_submission", "user": {"id": "U1"}})}),
        FORM,
        "view_submission without a view",
    ),
)


async def test_a_signed_body_slack_would_not_send_is_400_and_touches_nothing(wire):
    before = rows(wire)
    for body, content_type, says in NOT_SLACK:
        async with wire.http.post(
            f"{wire.url}/slack/events", data=body, headers=wire._headers(body, content_type)
        ) as resp:
            assert resp.status == 400, body
            assert says in (await resp.json())["error"], body
    await nothing_happened(wire, before)


async def test_a_timestamp_that_is_not_a_whole_number_is_401(wire):
    before = rows(wire)
    body = command()
    for timestamp in ("soon", "", "-1", "1.5", "١٧٠٠٠٠٠٠٠٠", "99999999999999999999999"):
        headers = wire._headers(body, FORM) | {"X-Slack-Request-Timestamp": timestamp}
        async with wire.http.post(f"{wire.url}/slack/events", data=body, headers=headers) as resp:
            assert resp.status == 401, timestamp
    await nothing_happened(wire, before)


async def test_an_unsigned_body_is_401_whatever_it_holds(wire):
    before = rows(wire)
    async with wire.http.post(
        f"{wire.url}/slack/events",
        data="payload=%7Bnot+json",
        headers={"Content-Type": FORM},
    ) as resp:
        assert resp.status == 401
    await nothing_happened(wire, before)


async def test_a_command_that_mentions_the_word_payload_is_still_a_command(wire):
    reply = await wire.command("add Check the payload figures due friday", user="UDANA")
    assert "Created #1 Check the payload figures" in reply["text"]
