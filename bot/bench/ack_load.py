"""The load of `python -m bot.bench.ack`, run in a process of its own so that sending never
waits on the app: signed slash commands and button clicks as Slack sends them, on an open-loop
schedule, each timed to its HTTP answer and (with `replies`) to the app's reply on its response
URL."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

from bot.slack import ids

SECRET = "bench-signing-secret"
TOKEN = "xoxb-standin"
USER = "UP0001"


async def load(
    url: str, rate: int, seconds: int, task_ids: list[int], standin: str, replies: bool
) -> dict:
    """Requests on an open-loop schedule, each timed to its HTTP answer. `standin` is the
    Slack stand-in's address: it runs in a process of its own, so that answering the app's
    Web API calls and replies never delays this process's requests or its stopwatch."""
    verifier = SignatureVerifier(SECRET)
    latencies: dict[str, list[float]] = {"command": [], "click": []}
    sent_at: dict[str, float] = {}  # response URL key -> when its request left (wall clock)
    errors = 0

    async def one(http: aiohttp.ClientSession, n: int) -> None:
        nonlocal errors
        kind, body = _request(n, task_ids, standin)
        sent_at[f"{'c' if kind == 'click' else 'r'}{n}"] = time.time()
        started = time.perf_counter()
        try:
            async with http.post(
                url, data=body, headers=_signed(verifier, body, "application/x-www-form-urlencoded")
            ) as resp:
                await resp.read()
                ok = resp.status == 200
        except aiohttp.ClientError:
            ok = False
        if ok:
            latencies[kind].append((time.perf_counter() - started) * 1000)
        else:
            errors += 1

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as http:
        before = await counts(http, standin)
        pending = []
        start = time.perf_counter()
        for n in range(rate * seconds):
            # An open-loop schedule: requests leave on time whether or not earlier ones returned.
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            pending.append(asyncio.create_task(one(http, n)))
        await asyncio.gather(*pending)
        # Vigil answers each request through its response URL after the ack, and while a
        # sweep holds the database that can be seconds later. The run waits for every reply
        # (and the Web API calls after them) rather than walk away from them.
        answers = {}
        if replies:
            await until_answered(http, standin, before["responses"] + rate * seconds - errors)
            async with http.get(f"{standin}/_standin/response_times") as resp:
                for key, at, text in await resp.json():
                    answers.setdefault(key, (at, text))  # the first answer to each request
    return _summary(latencies, errors, rate * seconds, sent_at, answers if replies else None)


def _signed(verifier: SignatureVerifier, body: str, content_type: str) -> dict:
    ts = str(int(time.time()))
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": verifier.generate_signature(timestamp=ts, body=body),
    }


def _request(n: int, task_ids: list[int], standin: str) -> tuple[str, str]:
    """The `n`th request of the load: a third are clicks on a progress menu, the rest
    commands (`progress`, `list`)."""
    tid = task_ids[n % len(task_ids)]
    if n % 3 == 2:
        payload = {
            "type": "block_actions",
            "user": {"id": USER},
            "team": {"id": "T0STANDIN"},
            "api_app_id": "A0VIGIL",
            "trigger_id": uuid.uuid4().hex,
            "response_url": f"{standin}/response/c{n}",
            "container": {"type": "message", "channel_id": "D0BENCH", "message_ts": "1.000001"},
            "message": {"ts": "1.000001", "text": "x", "blocks": []},
            "actions": [
                {
                    "action_id": ids.ACTION_PROGRESS_SELECT,
                    "block_id": ids.context_block_id(tid, None, "bench"),
                    "type": "static_select",
                    "selected_option": {"value": str(10 * (n % 10))},
                }
            ],
        }
        return "click", urlencode({"payload": json.dumps(payload)})
    text = f"progress {tid} {n % 100}" if n % 3 == 0 else "list"
    return "command", urlencode(
        {
            "command": "/task",
            "text": text,
            "user_id": USER,
            "team_id": "T0STANDIN",
            "channel_id": "C0GENERAL",
            "trigger_id": uuid.uuid4().hex,
            "response_url": f"{standin}/response/r{n}",
        }
    )


def _summary(
    latencies: dict[str, list[float]],
    errors: int,
    requests: int,
    sent_at: dict[str, float],
    answers: dict[str, tuple[float, str]] | None,
) -> dict:
    """The acks' latencies, and with `answers` (the first reply to each request) how long
    the replies took."""
    every = sorted(latencies["command"] + latencies["click"])
    result = {
        "requests": requests,
        "errors": errors,
        "p50": statistics.median(every),
        "p99": percentile(every, 0.99),
        "max": every[-1],
    }
    if answers is not None:
        waits = sorted((answers[k][0] - t) * 1000 for k, t in sent_at.items() if k in answers)
        result |= {
            "answered": len(waits),
            "failed": sum(1 for _, text in answers.values() if "went wrong" in text),
            "reply_p50": statistics.median(waits),
            "reply_p99": percentile(waits, 0.99),
        }
    return result


def percentile(ordered: list[float], share: float) -> float:
    return ordered[max(0, int(len(ordered) * share) - 1)]


async def counts(http: aiohttp.ClientSession, standin: str) -> dict:
    async with http.get(f"{standin}/_standin/counts") as resp:
        return await resp.json()


async def until_answered(
    http: aiohttp.ClientSession, standin: str, expected: int, limit: float = 120.0
) -> None:
    """Until `expected` replies reached the stand-in's response URLs and nothing else has
    arrived for a moment (at most `limit` seconds in all)."""
    started = last_change = time.monotonic()
    seen = await counts(http, standin)
    while time.monotonic() - started < limit:
        await asyncio.sleep(0.1)
        now = await counts(http, standin)
        if now != seen:
            seen, last_change = now, time.monotonic()
        elif seen["responses"] >= expected and time.monotonic() - last_change >= 0.5:
            return
