"""Shared fixtures: a real SQLite file (and PostgreSQL where given), the Slack stand-in on a
loopback port, a monitor wired to both through the real AsyncWebClient, the app served on the
wire, and the one fake clock the tests move by hand."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.calendar import WorkCalendar
from bot.db import create_schema, make_engine, schema_of_its_own
from bot.monitor.gateway import SlackGateway, make_client
from bot.monitor.monitor import Monitor
from bot.standin import SlackStandIn
from bot.standin.wire import SlackWire
from tests.blockkit import block_errors

LONDON = ZoneInfo("Europe/London")
TOKEN = "xoxb-test"
MANAGERS = "CMANAGERS"


def london(text: str) -> datetime:
    """A London wall-clock time as an aware UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=LONDON).astimezone(UTC)


MONDAY = london("2026-01-12T09:00")  # where the `wire` fixture's clock starts


# A PostgreSQL database the tests may use, e.g. postgresql+psycopg://postgres@127.0.0.1/test
# (`.ci/run` sets it). Without it the PostgreSQL cases are skipped: SQLite needs no server.
POSTGRES_URL = os.environ.get("VIGIL_TEST_POSTGRES_URL")
needs_postgres = pytest.mark.skipif(
    not POSTGRES_URL, reason="VIGIL_TEST_POSTGRES_URL names no PostgreSQL database"
)


@contextmanager
def postgres_database() -> Iterator[str]:
    """A URL to a schema of its own in the PostgreSQL test database, dropped afterwards."""
    assert POSTGRES_URL
    with schema_of_its_own(POSTGRES_URL, "vigil_test") as url:
        yield url


@pytest.fixture(params=["sqlite", *(["postgres"] if POSTGRES_URL else [])])
def database_url(request, tmp_path) -> Iterator[str]:
    """Each test that takes it runs on a SQLite file, and on PostgreSQL where one is given."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'vigil.db'}"
        return
    with postgres_database() as url:
        yield url


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
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
    """The tests' one clock. Time moves only when a test moves it or the code under test
    sleeps: the wall clock (`clock()` is `clock.now`, set by the test) and a monotonic clock
    that `sleep` advances, recording what was slept."""

    def __init__(self, now: datetime = MONDAY) -> None:
        self.now = now
        self.t = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def timestamp(self) -> float:
        """The wall clock in seconds since the epoch, as the Slack stand-in reads it."""
        return self.now.timestamp()

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY)


@pytest.fixture
async def wire(standin, database_url, clock) -> AsyncIterator[SlackWire]:
    """The app on a loopback port, signed requests in, Web API calls to the stand-in, on each
    database; its wall clock is `clock`, at Monday 12 January 2026, 09:00 in London."""
    w = SlackWire(standin, database_url, clock.now)
    w.clock = clock  # type: ignore[assignment]  # read by the app from `start` on
    await w.start()
    yield w
    await w.stop()


@pytest.fixture
def paced(wire, clock) -> FakeClock:
    """The app's pacing (App Home rebuilds, a second apart per channel) on `clock` too: its
    waits move `clock.t` instead of passing."""
    wire.ctx.monitor.monotonic, wire.ctx.monitor.sleep = clock.monotonic, clock.sleep
    return clock


def monitor_of_its_own(engine, standin, clock: FakeClock | None = None, **kw) -> Monitor:  # type: ignore[no-untyped-def]
    """A monitor on `engine` with its own Slack client, as another process or replica has."""
    clock = clock or FakeClock()
    return Monitor(
        engine=engine,
        cal=WorkCalendar("Europe/London", "GB"),
        gateway=SlackGateway(make_client(TOKEN, standin.url)),
        manager_channel=MANAGERS,
        sleep=clock.sleep,
        monotonic=clock.monotonic,
        **kw,
    )


@pytest.fixture
async def monitor(engine, standin, clock):
    m = monitor_of_its_own(engine, standin, clock)
    client = m.gateway.client
    m.clock = clock  # type: ignore[attr-defined]
    yield m
    if client.session:
        await client.session.close()
