"""An Events API event delivered again (Slack's retry, the same `event_id`) has one effect: in
the same process, after a restart, and on another replica sharing the database."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.app.once import PREFIX, EventsOnce
from bot.db import transaction
from bot.models import State
from bot.standin.wire import SlackWire, settle
from tests.conftest import MONDAY

HOME = {"type": "app_home_opened", "user": "UDANA", "tab": "home"}


def delivery(event_id: str) -> str:
    return json.dumps(
        {
            "token": "legacy",
            "team_id": "T0STANDIN",
            "api_app_id": "A0VIGIL",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": HOME,
        }
    )


def homes(w: SlackWire) -> int:
    return len(w.standin.calls_to("views.publish"))


async def deliver(w: SlackWire, event_id: str, retry: int = 0) -> None:
    headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
    resp = await w.post(delivery(event_id), "application/json", headers=headers if retry else {})
    assert resp.status == 200
    await settle(lambda: False, limit=0.1)


@pytest.fixture
async def wire(standin, database_url):
    w = SlackWire(standin, database_url, MONDAY)
    await w.start()
    yield w
    await w.stop()


async def test_a_retried_event_is_acted_on_once_even_after_a_restart(wire, standin, database_url):
    await deliver(wire, "Ev0ONCE")
    assert homes(wire) == 1
    await deliver(wire, "Ev0ONCE", retry=1)
    await deliver(wire, "Ev0ONCE", retry=2)
    assert homes(wire) == 1

    # The bot restarts (or another replica answers the third retry): still once.
    other = SlackWire(standin, database_url, MONDAY)
    await other.start()
    try:
        await deliver(other, "Ev0ONCE", retry=3)
        assert homes(other) == 1
        await deliver(other, "Ev0TWICE")  # a new event is a new event
        assert homes(other) == 2
    finally:
        await other.stop()


def test_what_was_seen_is_forgotten_after_a_day(engine):
    wall = [MONDAY]
    once = EventsOnce(engine, wall=lambda: wall[0])
    assert once.claim("Ev1") and not once.claim("Ev1")
    wall[0] = MONDAY + timedelta(days=1, hours=2)
    assert once.claim("Ev2")  # and the day-old row goes
    with transaction(engine) as s:
        keys = s.execute(select(State.key).where(State.key.startswith(PREFIX))).scalars().all()
        assert keys == [PREFIX + "Ev2"]
        assert s.execute(select(func.count()).select_from(State)).scalar_one() == 1
