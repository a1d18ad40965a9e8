"""The gateway's bounds: every Slack call ends within the configured timeout, however slowly
Slack answers, and a sweep moves on rather than waiting out a slow answer."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select

from bot import tasks as service
from bot.calendar import WorkCalendar
from bot.db import transaction
from bot.models import Notification
from bot.monitor.gateway import RETRY, DeliveryError, SlackGateway, make_client, slack_session
from bot.monitor.monitor import Monitor
from bot.monitor.sweep import run_sweep
from tests.conftest import MANAGERS, TOKEN, FakeClock, london, monitor_of_its_own
from tests.slackio import run_cli

SLOW = 5.0  # how long the slow Slack takes to answer
TIMEOUT = 0.5


@pytest.fixture
async def slow_slack():
    """A Web API that answers every call correctly, SLOW seconds late."""

    async def answer(request: web.Request) -> web.Response:
        await asyncio.sleep(SLOW)
        return web.json_response({"ok": True, "channel": "D1", "ts": "1.1"})

    app = web.Application()
    app.router.add_route("*", "/api/{method}", answer)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/api/"  # type: ignore[union-attr]
    await runner.cleanup()


async def test_a_call_through_a_shared_session_ends_within_the_timeout(slow_slack):
    async with slack_session(TIMEOUT) as http:
        gateway = SlackGateway(make_client(TOKEN, slow_slack, timeout=TIMEOUT, session=http))
        started = time.monotonic()
        with pytest.raises(DeliveryError) as failed:
            await gateway.post("C1", "hello", [])
        assert time.monotonic() - started < TIMEOUT + 1.0
        assert failed.value.kind == RETRY


async def test_a_session_that_would_wait_minutes_is_refused():
    async with aiohttp.ClientSession() as unbounded:
        with pytest.raises(ValueError, match="slack_session"):
            make_client(TOKEN, "http://127.0.0.1:1/api/", session=unbounded)
    async with slack_session(60) as too_long:
        with pytest.raises(ValueError, match="10 s"):
            make_client(TOKEN, "http://127.0.0.1:1/api/", session=too_long)


async def test_a_sweep_does_not_wait_out_a_slow_answer_and_keeps_the_message(slow_slack, engine):
    with transaction(engine) as s:
        service.create_task(
            s,
            title="Q3 filing",
            owner="UDANA",
            creator="UMARCUS",
            due_at=london("2026-01-31T00:00"),
            now=london("2026-01-05T09:00"),
        )
    clock = FakeClock()
    async with slack_session(TIMEOUT) as http:
        monitor = Monitor(
            engine=engine,
            cal=WorkCalendar("Europe/London", "GB"),
            gateway=SlackGateway(make_client(TOKEN, slow_slack, timeout=TIMEOUT, session=http)),
            manager_channel=MANAGERS,
            sleep=clock.sleep,
            monotonic=clock.monotonic,
        )
        started = time.monotonic()
        report = await run_sweep(monitor, london("2026-01-12T09:30"))
        took = time.monotonic() - started
    assert took < SLOW - 1.0, took
    assert report.sent == []
    with transaction(engine) as s:
        waiting = s.execute(
            select(func.count()).where(Notification.status == "pending")
        ).scalar_one()
    assert waiting >= 1  # not sent, not lost: the next sweep tries again


# -- Retry-After, for the whole method, across sweeps and processes -----------------------------
class Wall:
    def __init__(self, at) -> None:  # type: ignore[no-untyped-def]
        self.at = at

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.at


def three_stalled_owners(engine) -> None:
    for owner in ("UDANA", "UTOM", "UMARCUS"):
        with transaction(engine) as s:
            tid = service.create_task(
                s,
                title=f"Filing for {owner}",
                owner=owner,
                creator="UMARCUS",
                due_at=london("2026-01-31T00:00"),
                now=london("2026-01-05T09:00"),
            ).id
            service.set_progress(s, tid, 40, by=owner, now=london("2026-01-06T10:00"))


def posted(standin) -> int:
    return len(standin.calls_to("chat.postMessage"))


async def test_a_retry_after_holds_every_post_across_sweeps_and_processes(monitor, standin, engine):
    three_stalled_owners(engine)
    start = london("2026-01-12T09:30")
    wall = Wall(start)
    monitor.wall = wall
    standin.fail("chat.postMessage", status=429, retry_after=30)
    report = await run_sweep(monitor, start)
    assert report.sent == [] and posted(standin) == 1  # the one that got the 429

    # A nudge two seconds later: the other two DMs are due, and wait all the same.
    wall.at = start + timedelta(seconds=2)
    report = await run_sweep(monitor, wall.at)
    assert report.sent == [] and posted(standin) == 1

    # `python -m bot sweep` beside the bot: its own client and monitor, the same database.
    other_clock = FakeClock()
    other = Monitor(
        engine=engine,
        cal=WorkCalendar("Europe/London", "GB"),
        gateway=SlackGateway(make_client(TOKEN, standin.url)),
        manager_channel=MANAGERS,
        sleep=other_clock.sleep,
        monotonic=other_clock.monotonic,
        wall=Wall(start + timedelta(seconds=29)),
    )
    report = await run_sweep(other, start + timedelta(seconds=29))
    assert report.sent == [] and posted(standin) == 1

    # Once the 30 seconds have passed on the wall, every DM goes out, each once.
    wall.at = start + timedelta(minutes=1)
    await run_sweep(monitor, wall.at)
    wall.at = start + timedelta(minutes=5)
    await run_sweep(monitor, wall.at)
    owners = ("UDANA", "UTOM", "UMARCUS")
    assert [len(standin.messages(standin.dm_channel(u) or "-")) for u in owners] == [1, 1, 1]
    assert posted(standin) == 4


async def test_a_retry_after_on_one_method_leaves_the_others_alone(monitor, standin, engine):
    wall = Wall(london("2026-01-12T09:30"))
    monitor.wall = wall
    gateway = monitor.gateway
    standin.fail("chat.update", status=429, retry_after=30)
    with pytest.raises(DeliveryError):
        await gateway.update(MANAGERS, "1.1", "x", [])
    BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}]
    channel, _ts = await gateway.post(MANAGERS, "still allowed", BLOCKS)
    assert channel == MANAGERS
    with pytest.raises(DeliveryError) as held:
        await gateway.update(MANAGERS, "1.1", "x", [])
    assert held.value.error == "ratelimited" and 29 <= held.value.retry_after <= 30
    assert len(standin.calls_to("chat.update")) == 1  # the second was not sent to Slack


# -- a post whose answer was lost ---------------------------------------------------------------
@pytest.mark.parametrize("kind", ["reset", "timeout"])
async def test_a_post_slack_made_whose_answer_was_lost_is_found_not_posted_again(
    monitor, standin, engine, kind
):
    three_stalled_owners(engine)
    start = london("2026-01-12T09:30")
    standin.fail("chat.postMessage", kind=kind, after_effect=True, hold=0.2)
    if kind == "timeout":
        monitor.gateway = SlackGateway(make_client(TOKEN, standin.url, timeout=0.1))
        monitor.__post_init__()
    report = await run_sweep(monitor, start)
    assert report.sent == [] and posted(standin) == 1
    [first] = [c for c in standin.calls_to("chat.postMessage")]
    assert first.applied  # in the DM, though the bot never heard so

    # The next sweep is another process's: it looks before it posts again.
    report = await run_sweep(monitor_of_its_own(engine, standin), start + timedelta(hours=1))
    owners = ("UDANA", "UTOM", "UMARCUS")
    assert [len(standin.messages(standin.dm_channel(u) or "-")) for u in owners] == [1, 1, 1]
    assert posted(standin) == 3  # the lost one was not posted a second time
    assert len(standin.calls_to("conversations.history")) == 1  # only for the lost one
    with transaction(engine) as s:
        lost = s.get(Notification, first.params["metadata"]["event_payload"]["id"])
        assert lost.status == "sent" and lost.ts == standin.messages(lost.channel)[0].ts


async def test_a_post_whose_answer_was_lost_before_slack_made_it_is_posted_once(
    monitor, standin, engine
):
    three_stalled_owners(engine)
    start = london("2026-01-12T09:30")
    standin.fail("chat.postMessage", kind="reset", after_effect=False)
    await run_sweep(monitor, start)
    await run_sweep(monitor, start + timedelta(hours=1))
    owners = ("UDANA", "UTOM", "UMARCUS")
    assert [len(standin.messages(standin.dm_channel(u) or "-")) for u in owners] == [1, 1, 1]
    assert posted(standin) == 4 and len(standin.calls_to("conversations.history")) == 1


async def test_a_fresh_python_m_bot_sweep_honours_a_running_retry_after(monitor, standin, engine):
    """The Retry-After is in the database: a `python -m bot sweep` started after the 429, in a
    process of its own, holds back too, and asks Slack nothing it was told to wait for."""
    three_stalled_owners(engine)
    standin.fail("chat.postMessage", status=429, retry_after=60)
    await run_sweep(monitor, london("2026-01-12T09:30"))
    assert posted(standin) == 1
    env = {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_API_URL": standin.url,
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "MANAGER_CHANNEL": MANAGERS,
        "TEAM_TIMEZONE": "Europe/London",
    }
    code, out, err = await run_cli("sweep", "--now", "2026-01-12T10:30", env=env)
    assert code == 0, err
    assert "0 outside working hours, 1 waiting on Slack" in out
    assert posted(standin) == 1 and standin.calls_inside_retry_after == 0
