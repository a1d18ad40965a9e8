"""Message metadata, channel history and threads, as a caller of AsyncWebClient sees them."""

import json

import pytest
from slack_sdk.errors import SlackApiError

from bot.monitor.gateway import make_client
from tests.conftest import MANAGERS, TOKEN

FOLLOW_UP = {"event_type": "vigil_follow_up", "event_payload": {"task_id": 7, "step": 2}}


@pytest.fixture
async def client(standin):
    client = make_client(TOKEN, standin.url)
    yield client
    if client.session:
        await client.session.close()


async def _post(client, n: int, **kwargs) -> list[str]:
    return [
        (await client.chat_postMessage(channel=MANAGERS, text=f"m{i}", **kwargs))["ts"]
        for i in range(n)
    ]


async def test_metadata_is_kept_and_shown_only_when_asked_for(client, standin):
    await client.chat_postMessage(channel=MANAGERS, text="plain")
    await client.chat_postMessage(channel=MANAGERS, text="tagged", metadata=FOLLOW_UP)
    assert standin.messages(MANAGERS)[1].metadata == FOLLOW_UP

    with_metadata = await client.conversations_history(channel=MANAGERS, include_all_metadata=True)
    assert [(m["text"], m.get("metadata")) for m in with_metadata["messages"]] == [
        ("tagged", FOLLOW_UP),
        ("plain", None),
    ]
    without = await client.conversations_history(channel=MANAGERS)
    assert all("metadata" not in m for m in without["messages"])


async def test_metadata_as_a_json_string_in_a_form_body(client, standin):
    await client.api_call(
        "chat.postMessage",
        data={"channel": MANAGERS, "text": "form", "metadata": json.dumps(FOLLOW_UP)},
    )
    assert standin.messages(MANAGERS)[0].metadata == FOLLOW_UP


async def test_chat_update_replaces_the_metadata_and_keeps_it_when_left_out(client, standin):
    ts = (await client.chat_postMessage(channel=MANAGERS, text="a", metadata=FOLLOW_UP))["ts"]
    await client.chat_update(channel=MANAGERS, ts=ts, text="b")
    assert standin.messages(MANAGERS)[0].metadata == FOLLOW_UP
    resolved = {"event_type": "vigil_resolved", "event_payload": {"task_id": 7}}
    await client.chat_update(channel=MANAGERS, ts=ts, text="c", metadata=resolved)
    [message] = (await client.conversations_history(channel=MANAGERS, include_all_metadata=True))[
        "messages"
    ]
    assert (message["text"], message["metadata"]) == ("c", resolved)


@pytest.mark.parametrize(
    "metadata",
    [
        {"event_type": "x"},
        {"event_payload": {}},
        {"event_type": "", "event_payload": {}},
        {"event_type": "x", "event_payload": "not an object"},
    ],
)
async def test_malformed_metadata_is_refused_and_nothing_is_posted(client, standin, metadata):
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel=MANAGERS, text="x", metadata=metadata)
    assert caught.value.response["error"] == "invalid_metadata_format"
    assert standin.messages(MANAGERS) == []


async def test_history_is_newest_first_and_pages_by_cursor(client):
    posted = await _post(client, 5)
    seen, cursor, pages = [], None, 0
    while True:
        page = await client.conversations_history(channel=MANAGERS, limit=2, cursor=cursor)
        seen += [m["ts"] for m in page["messages"]]
        pages += 1
        cursor = page["response_metadata"]["next_cursor"]
        assert page["has_more"] is bool(cursor)
        if not cursor:
            break
    assert seen == posted[::-1] and pages == 3


async def test_history_between_oldest_and_latest(client):
    posted = await _post(client, 5)
    page = await client.conversations_history(channel=MANAGERS, oldest=posted[1], latest=posted[4])
    assert [m["ts"] for m in page["messages"]] == [posted[3], posted[2]]
    page = await client.conversations_history(
        channel=MANAGERS, oldest=posted[1], latest=posted[4], inclusive=True
    )
    assert [m["ts"] for m in page["messages"]] == posted[4:0:-1]


async def test_thread_replies_stay_out_of_history_and_come_back_with_replies(client):
    parent = (await client.chat_postMessage(channel=MANAGERS, text="parent"))["ts"]
    first = await client.chat_postMessage(channel=MANAGERS, text="r1", thread_ts=parent)
    await client.chat_postMessage(channel=MANAGERS, text="r2", thread_ts=parent)
    await client.chat_postMessage(
        channel=MANAGERS, text="r3 also to channel", thread_ts=parent, reply_broadcast=True
    )
    await client.chat_postMessage(channel=MANAGERS, text="after")

    history = (await client.conversations_history(channel=MANAGERS))["messages"]
    assert [m["text"] for m in history] == ["after", "r3 also to channel", "parent"]
    assert (history[2]["reply_count"], history[2]["thread_ts"]) == (3, parent)

    thread = await client.conversations_replies(channel=MANAGERS, ts=parent)
    assert [m["text"] for m in thread["messages"]] == ["parent", "r1", "r2", "r3 also to channel"]
    from_a_reply = await client.conversations_replies(channel=MANAGERS, ts=first["ts"])
    assert from_a_reply["messages"] == thread["messages"]
    page = await client.conversations_replies(channel=MANAGERS, ts=parent, limit=3)
    assert len(page["messages"]) == 3 and page["has_more"]
    rest = await client.conversations_replies(
        channel=MANAGERS, ts=parent, cursor=page["response_metadata"]["next_cursor"]
    )
    assert [m["text"] for m in rest["messages"]] == ["r3 also to channel"]


async def test_a_lone_message_is_its_own_thread(client):
    ts = (await client.chat_postMessage(channel=MANAGERS, text="alone", metadata=FOLLOW_UP))["ts"]
    thread = await client.conversations_replies(channel=MANAGERS, ts=ts, include_all_metadata=True)
    assert [(m["text"], m["metadata"]) for m in thread["messages"]] == [("alone", FOLLOW_UP)]
    assert thread["has_more"] is False


async def test_an_archived_channel_can_still_be_read(client, standin):
    await _post(client, 1)
    standin.add_channel(MANAGERS, archived=True)
    assert len((await client.conversations_history(channel=MANAGERS))["messages"]) == 1


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda c: c.conversations_history(channel="CNOWHERE"), "channel_not_found"),
        (lambda c: c.conversations_history(channel=MANAGERS, cursor="bm9wZQ=="), "invalid_cursor"),
        (lambda c: c.conversations_history(channel=MANAGERS, latest="soon"), "invalid_ts_latest"),
        (lambda c: c.conversations_history(channel=MANAGERS, oldest="-1"), "invalid_ts_oldest"),
        (lambda c: c.conversations_replies(channel="CNOWHERE", ts="1.000001"), "channel_not_found"),
        (lambda c: c.conversations_replies(channel=MANAGERS, ts="1.000001"), "thread_not_found"),
    ],
)
async def test_history_and_replies_errors_as_slack(client, call, error):
    with pytest.raises(SlackApiError) as caught:
        await call(client)
    assert caught.value.response["error"] == error
