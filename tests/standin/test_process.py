"""`python -m bot standin`: the stand-in as a process of its own, driven through the Web API
and its control endpoints as the benchmarks and `python -m bot slack` drive it."""

import asyncio
import socket
import sys

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError

from bot.monitor.gateway import make_client


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def process_url():
    port = _free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "bot", "standin", "--port", str(port)),
        *("--user", "UDANA:Europe/London", "--user", "ULEE:America/New_York:Lee Park"),
        *("--channel", "CMANAGERS"),
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout
    ready = await asyncio.wait_for(proc.stdout.readline(), 30)
    assert b"2 users, 1 channels" in ready
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    await proc.wait()


async def test_the_process_answers_as_the_stand_in_does(process_url):
    client = make_client("xoxb-standin", process_url + "/api/")
    try:
        dana = (await client.users_info(user="UDANA"))["user"]
        lee = (await client.users_info(user="ULEE"))["user"]
        assert (dana["name"], dana["tz"]) == ("dana", "Europe/London")
        assert (lee["name"], lee["tz"]) == ("Lee Park", "America/New_York")
        await client.chat_postMessage(channel="CMANAGERS", text="hello")
        history = await client.conversations_history(channel="CMANAGERS")
        assert [m["text"] for m in history["messages"]] == ["hello"]

        async with aiohttp.ClientSession() as http:
            status = {"user": "UDANA", "text": "On holiday", "emoji": ":palm_tree:"}
            async with http.post(process_url + "/_standin/status", json=status) as resp:
                assert resp.status == 200
            faults = {"rate": 1, "seed": 1, "kinds": ["500"], "methods": ["chat.postMessage"]}
            async with http.post(process_url + "/_standin/faults", json=faults) as resp:
                assert resp.status == 200
        profile = (await client.users_info(user="UDANA"))["user"]["profile"]
        assert profile["status_text"] == "On holiday"
        with pytest.raises(SlackApiError) as caught:
            await client.chat_postMessage(channel="CMANAGERS", text="refused")
        assert caught.value.response.status_code == 500
    finally:
        if client.session:
            await client.session.close()
