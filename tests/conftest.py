"""Shared fixtures: a real SQLite file, the Slack stand-in on a loopback port, and a monitor
wired to both through the real AsyncWebClient."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.calendar import WorkCalendar
from bot.db import create_schema, make_engine
from bot.monitor.gateway import SlackGateway, make_client
from bot.monitor.monitor import Monitor
from bot.standin import SlackStandIn
from tests.blockkit import block_errors

LONDON = ZoneInfo("Europe/London")
TOKEN = "xoxb-test"
MANAGERS = "CMANAGERS"


def london(text: str) -> datetime:
    """A London wall-clock time as an aware UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=LONDON).astimezone(UTC)


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'vigil.db'}")
    create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
async def standin():
    slack = SlackStandIn(token=TOKEN, block_validator=block_errors)
    slack.add_user("UDANA", name="Dana", tz="Europe/London")
    slack.add_user("UMARCUS", name="Marcus", tz="Europe/London")
    slack.add_user("ULEE", name="Lee", tz="America/New_York")
    slack.add_user("UTOM", name="Tom", tz="Europe/London")
    slack.add_channel(MANAGERS, name="managers")
    await slack.start()
    yield slack
    await slack.stop()


class FakeClock:
    """Monotonic time that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


@pytest.fixture
async def monitor(engine, standin):
    client = make_client(TOKEN, standin.url)
    clock = FakeClock()
    m = Monitor(
        engine=engine,
        cal=WorkCalendar("Europe/London", "GB"),
        gateway=SlackGateway(client),
        manager_channel=MANAGERS,
        sleep=clock.sleep,
        monotonic=clock.monotonic,
    )
    m.clock = clock  # type: ignore[attr-defined]
    yield m
    if client.session:
        await client.session.close()
