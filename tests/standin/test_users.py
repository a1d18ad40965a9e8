"""People's status and deactivation as a caller of users.info sees them, and the
`user_change` event Slack sends the app when either changes."""

import json
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from bot.monitor.gateway import make_client
from bot.standin import SlackStandIn
from tests.conftest import TOKEN

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
NOW = START.timestamp()
SECRET = "s3cret-for-events"


@pytest.fixture
async def slack(clock):
    clock.now = START
    standin = SlackStandIn(token=TOKEN, clock=clock.timestamp)
    standin.add_user("UDANA", name="Dana", tz="Europe/London")
    await standin.start()
    client = make_client(TOKEN, standin.url)
    yield standin, client
    if client.session:
        await client.session.close()
    await standin.stop()


async def test_users_info_carries_the_status_as_slack_has_it(slack):
    standin, client = slack
    profile = (await client.users_info(user="UDANA"))["user"]["profile"]
    assert (profile["status_text"], profile["status_emoji"], profile["status_expiration"]) == (
        "",
        "",
        0,
    )
    standin.set_status("UDANA", "On holiday", ":palm_tree:", int(NOW) + 3600)
    profile = (await client.users_info(user="UDANA"))["user"]["profile"]
    assert profile["status_text"] == "On holiday"
    assert profile["status_emoji"] == ":palm_tree:"
    assert profile["status_expiration"] == int(NOW) + 3600


async def test_a_status_clears_when_its_expiration_passes_and_zero_never_expires(slack, clock):
    standin, client = slack
    standin.set_status("UDANA", "In a meeting", ":calendar:", int(NOW) + 60)
    clock.now = START + timedelta(seconds=60)
    profile = (await client.users_info(user="UDANA"))["user"]["profile"]
    assert (profile["status_text"], profile["status_expiration"]) == ("", 0)

    standin.set_status("UDANA", "Working remotely", ":house:", 0)
    clock.now = START + timedelta(seconds=10 * 365 * 86400)
    profile = (await client.users_info(user="UDANA"))["user"]["profile"]
    assert profile["status_text"] == "Working remotely"


async def test_a_deactivated_user_is_deleted_and_cannot_be_messaged(slack):
    standin, client = slack
    standin.set_deleted("UDANA")
    assert (await client.users_info(user="UDANA"))["user"]["deleted"] is True
    with pytest.raises(SlackApiError) as caught:
        await client.conversations_open(users="UDANA")
    assert caught.value.response["error"] == "user_disabled"
    standin.set_deleted("UDANA", False)
    assert (await client.users_info(user="UDANA"))["user"]["deleted"] is False


async def test_user_change_event_carries_the_user_as_users_info_returns_it(slack):
    standin, client = slack
    event = standin.set_status("UDANA", "Sick", ":face_with_thermometer:", 0)
    assert event["type"] == "user_change"
    assert event["user"] == (await client.users_info(user="UDANA"))["user"]
    assert event["cache_ts"] == int(NOW) and float(event["event_ts"]) == NOW
    with pytest.raises(KeyError):
        standin.set_status("UNOBODY", "x")


@pytest.fixture
async def app_endpoint():
    """A stand-in for the app's request URL: keeps each request that carries a valid
    Slack signature, and answers 401 to any that does not."""
    received: list[dict] = []
    verifier = SignatureVerifier(SECRET)

    async def events(request: web.Request) -> web.Response:
        body = await request.text()
        if not verifier.is_valid_request(body, dict(request.headers)):
            return web.Response(status=401)
        received.append(json.loads(body))
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/slack/events", events)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/slack/events", received
    await runner.cleanup()


async def test_the_event_reaches_the_app_signed_as_an_events_api_body(slack, app_endpoint):
    standin, _ = slack
    url, received = app_endpoint
    event = standin.set_deleted("UDANA")
    assert await standin.deliver_event(event, url=url, signing_secret=SECRET) == 200
    [body] = received
    assert body["type"] == "event_callback" and body["team_id"] == "T0STANDIN"
    assert body["event"] == event and body["event"]["user"]["deleted"] is True
    assert await standin.deliver_event(event, url=url, signing_secret="wrong") == 401


async def test_the_event_reaches_a_socket_mode_app_as_an_events_api_envelope(slack):
    standin, client = slack
    socket_url = (await client.apps_connections_open(app_token="xapp-standin"))["url"]
    async with aiohttp.ClientSession() as http, http.ws_connect(socket_url) as ws:
        assert (await ws.receive_json())["type"] == "hello"
        event = standin.set_status("UDANA", "Lunch", ":sandwich:", int(NOW) + 1800)
        await standin.deliver_event(event, socket=True)
        envelope = await ws.receive_json()
    assert envelope["type"] == "events_api"
    assert envelope["accepts_response_payload"] is False
    assert envelope["payload"]["event"]["user"]["profile"]["status_text"] == "Lunch"


async def test_status_set_from_another_process_through_the_control_endpoint(slack, app_endpoint):
    standin, client = slack
    url, received = app_endpoint
    control = standin.url.removesuffix("api/") + "_standin/status"
    async with aiohttp.ClientSession() as http:
        body = {
            "user": "UDANA",
            "text": "Off sick",
            "emoji": ":face_with_thermometer:",
            "expiration": 0,
            "events_url": url,
            "signing_secret": SECRET,
        }
        async with http.post(control, json=body) as resp:
            answer = await resp.json()
        assert resp.status == 200 and answer["app_status"] == 200
        unsigned = {"user": "UDANA", "text": "Never stored", "events_url": url}
        async with http.post(control, json=unsigned) as resp:
            assert resp.status == 400 and "signing_secret" in (await resp.json())["error"]
        async with http.post(control, json={"user": "UNOBODY", "text": "x"}) as resp:
            assert resp.status == 400 and "UNOBODY" in (await resp.json())["error"]
        async with http.post(control, json={"user": "UDANA", "deleted": True}) as resp:
            assert resp.status == 200
    user = (await client.users_info(user="UDANA"))["user"]
    assert user["profile"]["status_text"] == "Off sick" and user["deleted"] is True
    assert [b["event"]["user"]["profile"]["status_text"] for b in received] == ["Off sick"]
