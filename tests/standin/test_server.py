"""The stand-in answers as Slack does, through the real AsyncWebClient."""

import pytest
from slack_sdk.errors import SlackApiError

from bot.monitor.gateway import make_client
from tests.conftest import MANAGERS, TOKEN


@pytest.fixture
async def client(standin):
    client = make_client(TOKEN, standin.url)
    yield client
    if client.session:
        await client.session.close()


async def test_post_then_update_changes_the_message_in_place(client, standin):
    posted = await client.chat_postMessage(channel=MANAGERS, text="hello")
    await client.chat_update(channel=MANAGERS, ts=posted["ts"], text="edited")
    [message] = standin.messages(MANAGERS)
    assert (message.text, message.edits) == ("edited", 1)


async def test_dm_via_conversations_open_and_users_info_gives_the_time_zone(client, standin):
    channel = (await client.conversations_open(users="ULEE"))["channel"]["id"]
    await client.chat_postMessage(channel=channel, text="hi")
    assert standin.dm_channel("ULEE") == channel and standin.messages(channel)[0].text == "hi"
    assert (await client.users_info(user="ULEE"))["user"]["tz"] == "America/New_York"


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda c: c.users_info(user="UNOBODY"), "user_not_found"),
        (lambda c: c.chat_postMessage(channel="CNOWHERE", text="x"), "channel_not_found"),
        (
            lambda c: c.chat_postMessage(
                channel=MANAGERS, text="x", blocks=[{"type": "divider"}] * 51
            ),
            "invalid_blocks",
        ),
        (lambda c: c.chat_postMessage(channel=MANAGERS), "no_text"),
        (lambda c: c.chat_update(channel=MANAGERS, ts="1.000001", text="x"), "message_not_found"),
    ],
)
async def test_slacks_error_codes(client, call, error):
    with pytest.raises(SlackApiError) as caught:
        await call(client)
    assert caught.value.response["error"] == error


async def test_wrong_token_is_invalid_auth(standin):
    client = make_client("xoxb-wrong", standin.url)
    with pytest.raises(SlackApiError) as caught:
        await client.auth_test()
    assert caught.value.response["error"] == "invalid_auth"
    await client.session.close() if client.session else None


async def test_429_carries_retry_after_and_failures_are_used_up(client, standin):
    standin.fail("chat.postMessage", status=429, retry_after=30)
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel=MANAGERS, text="x")
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "30"
    assert standin.messages(MANAGERS) == []
    await client.chat_postMessage(channel=MANAGERS, text="x")
    assert len(standin.messages(MANAGERS)) == 1


async def test_500_stores_nothing(client, standin):
    standin.fail("*", status=500)
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel=MANAGERS, text="x")
    assert caught.value.response.status_code == 500
    assert standin.messages(MANAGERS) == []
    assert [c.status for c in standin.calls] == [500]


def _sections(n: int) -> list[dict]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": f"line {i}"}} for i in range(n)]


def _modal(n: int) -> dict:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Vigil"},
        "blocks": _sections(n),
    }


@pytest.mark.parametrize(
    "call",
    [
        lambda c, n: c.views_publish(
            user_id="UDANA", view={"type": "home", "blocks": _sections(n)}
        ),
        lambda c, n: c.views_open(trigger_id="t1", view=_modal(n)),
        lambda c, n: c.views_update(view_id="V1", view=_modal(n)),
    ],
    ids=["views.publish", "views.open", "views.update"],
)
async def test_views_hold_100_blocks_where_messages_hold_50(client, call):
    assert (await call(client, 51))["ok"] and (await call(client, 100))["ok"]
    with pytest.raises(SlackApiError) as caught:
        await call(client, 101)
    assert caught.value.response["error"] == "invalid_blocks"
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel=MANAGERS, text="x", blocks=_sections(51))
    assert caught.value.response["error"] == "invalid_blocks"


async def test_a_response_url_replaces_or_deletes_the_message_it_came_from(client, standin):
    import aiohttp

    kept = await client.chat_postMessage(channel=MANAGERS, text="keep me")
    posted = await client.chat_postMessage(channel=MANAGERS, text="click me")
    url = standin.response_url("k1", channel=MANAGERS, ts=posted["ts"])
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"replace_original": True, "text": "clicked"}) as resp:
            assert resp.status == 200
        assert [m.text for m in standin.messages(MANAGERS)] == ["keep me", "clicked"]
        async with http.post(url, json={"text": "only you can see this"}) as resp:
            assert resp.status == 200  # ephemeral: recorded, the message stays
        async with http.post(url, json={"blocks": [{"type": "nonsense"}]}) as resp:
            assert resp.status == 400
        async with http.post(url, json={"delete_original": True}) as resp:
            assert resp.status == 200
    assert [m.ts for m in standin.messages(MANAGERS)] == [kept["ts"]]
    assert [r.get("text") for r in standin.responses_to("k1")] == [
        "clicked",
        "only you can see this",
        None,
    ]
