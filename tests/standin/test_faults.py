"""Faults as a caller of AsyncWebClient meets them: refusals before the method takes effect,
answers lost after it did, random faults from a seed, and Retry-After bookkeeping."""

import asyncio
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError

from bot.monitor.gateway import make_client
from bot.standin import SlackStandIn
from tests.conftest import MANAGERS, TOKEN

CLIENT_TIMEOUT = 0.2  # seconds; the stand-in holds a `timeout` fault longer than this
HOLD = 0.5


@pytest.fixture
async def slack(clock):
    clock.now = datetime.fromtimestamp(1_000_000.0, UTC)
    standin = SlackStandIn(token=TOKEN, clock=clock.timestamp)
    standin.add_channel(MANAGERS)
    await standin.start()
    client = make_client(TOKEN, standin.url)
    client.timeout = CLIENT_TIMEOUT
    yield standin, client
    if client.session:
        await client.session.close()
    await standin.stop()


async def _outcome(client, text: str = "x") -> str:
    """What the caller saw: "ok", the HTTP status of a refusal, "timeout" or "reset"."""
    try:
        await client.chat_postMessage(channel=MANAGERS, text=text)
    except SlackApiError as exc:
        return str(exc.response.status_code)
    except TimeoutError:
        return "timeout"
    except aiohttp.ClientConnectionError:
        return "reset"
    return "ok"


@pytest.mark.parametrize("after_effect", [False, True], ids=["before", "after"])
@pytest.mark.parametrize("kind", ["timeout", "reset"])
async def test_a_lost_answer_may_come_before_or_after_the_post_took_effect(
    slack, kind, after_effect
):
    standin, client = slack
    standin.fail("chat.postMessage", kind=kind, after_effect=after_effect, hold=HOLD)
    assert await _outcome(client, "lost?") == kind
    assert [m.text for m in standin.messages(MANAGERS)] == (["lost?"] if after_effect else [])
    [call] = standin.calls
    assert (call.fault, call.applied, call.status) == (kind, after_effect, 0)
    assert await _outcome(client) == "ok"  # the fault is used up


async def test_a_reset_is_a_server_disconnect(slack):
    standin, client = slack
    standin.fail("*", kind="reset")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await client.auth_test()


async def test_stopping_does_not_wait_for_a_held_request():
    standin = SlackStandIn(token=TOKEN)
    await standin.start()
    standin.fail("*", kind="timeout", hold=60)
    client = make_client(TOKEN, standin.url)
    client.timeout = CLIENT_TIMEOUT
    with pytest.raises(TimeoutError):
        await client.auth_test()
    await asyncio.wait_for(standin.stop(), 5)  # would take 60 s if the hold were kept


async def test_random_faults_follow_the_seed_and_are_counted(slack):
    standin, client = slack

    async def run(seed: int) -> list[str]:
        standin.reset()
        standin.fail_randomly(0.5, seed, hold=HOLD, after_effect=0.5)
        return [await _outcome(client, f"m{i}") for i in range(30)]

    first = await run(10)  # a seed that draws every kind, lost answers early and late
    counts = dict(standin.fault_counts)
    assert await run(10) == first
    assert set(first) == {"ok", "429", "500", "503", "timeout", "reset"}
    assert counts["calls"] == 30
    for kind in ("429", "500", "503", "timeout", "reset"):
        assert counts[kind] == first.count(kind)
    lost_after = [c for c in standin.calls if c.fault in ("timeout", "reset") and c.applied]
    lost_before = [c for c in standin.calls if c.fault in ("timeout", "reset") and not c.applied]
    assert counts["lost_after_effect"] == len(lost_after) > 0 and lost_before
    # What reached the channel: every answered post and every post whose answer was lost late.
    posted = {c.params["text"] for c in standin.calls if c.applied}
    assert {m.text for m in standin.messages(MANAGERS)} == posted
    assert counts["applied"] == len(posted) == first.count("ok") + len(lost_after)


async def test_random_faults_only_of_the_kinds_and_methods_asked_for(slack):
    standin, client = slack
    standin.fail_randomly(1.0, 1, kinds=(503,), methods=["chat.postMessage"])
    assert await _outcome(client) == "503"
    assert (await client.auth_test())["ok"]
    standin.stop_failing_randomly()
    assert await _outcome(client) == "ok"
    with pytest.raises(ValueError):
        standin.fail_randomly(0.5, 1, kinds=("404",))


async def test_calls_inside_a_retry_after_are_counted(slack, clock):
    standin, client = slack
    standin.fail("chat.postMessage", status=429, retry_after=30)
    assert await _outcome(client) == "429"
    assert standin.retry_after_until["chat.postMessage"] == clock.timestamp() + 30
    clock.now += timedelta(seconds=29)
    assert await _outcome(client) == "ok"  # too early: answered, but counted
    assert (await client.auth_test())["ok"]  # another method is not limited
    clock.now += timedelta(seconds=1)
    assert await _outcome(client) == "ok"
    assert standin.calls_inside_retry_after == 1
    assert [c.inside_retry_after for c in standin.calls_to("chat.postMessage")] == [
        False,
        True,
        False,
    ]


async def test_random_faults_switched_on_and_off_from_another_process(slack, clock):
    standin, client = slack
    control = standin.url.removesuffix("api/") + "_standin/faults"
    async with aiohttp.ClientSession() as http:
        on = {"rate": 1, "seed": 3, "kinds": ["429"], "retry_after": 5}
        async with http.post(control, json=on) as resp:
            assert resp.status == 200
        assert await _outcome(client) == "429"
        async with http.get(control) as resp:
            report = await resp.json()
        assert report["on"] and report["counts"]["429"] == 1
        assert report["retry_after_until"]["chat.postMessage"] == clock.timestamp() + 5
        async with http.post(control, json={"rate": 0}) as resp:
            assert resp.status == 200
        assert await _outcome(client) == "ok"
        async with http.post(control, json={"rate": 1, "kinds": ["teapot"]}) as resp:
            assert resp.status == 400 and "teapot" in (await resp.json())["error"]


async def test_a_slowed_method_takes_effect_before_its_answer_comes(slack):
    """The window a kill loop aims at: the post is in the channel, the caller not yet told."""
    standin, client = slack
    control = standin.url.removesuffix("api/") + "_standin/slow"
    async with aiohttp.ClientSession() as http:
        slow = {"methods": ["chat.postMessage"], "seconds": 0.15}
        async with http.post(control, json=slow) as resp:
            assert resp.status == 200
        answer = asyncio.ensure_future(client.chat_postMessage(channel=MANAGERS, text="slow"))
        for _ in range(200):
            if standin.messages(MANAGERS):
                break
            await asyncio.sleep(0.005)
        assert [m.text for m in standin.messages(MANAGERS)] == ["slow"]
        assert not answer.done()
        assert (await answer)["ok"]
        async with http.post(control, json={"methods": ["chat.postMessage"], "seconds": 0}) as resp:
            assert (await resp.json())["slow"] == {}
        async with http.post(control, json={"methods": "chat.postMessage"}) as resp:
            assert resp.status == 400 and "Name the methods" in (await resp.json())["error"]
