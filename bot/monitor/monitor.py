"""What a sweep needs, in one value: the database, the rules' settings, the way to Slack,
and the clocks. Built once by the entry point; tests and the demo build their own."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy import Engine

from bot.calendar import WorkCalendar
from bot.monitor.gateway import SlackGateway
from bot.monitor.policy import Policy
from bot.monitor.ratelimit import RetryGate
from bot.monitor.unanswered import UnansweredPosts

T = TypeVar("T")


def _wall() -> datetime:
    return datetime.now(UTC)


@dataclass
class Monitor:
    engine: Engine
    cal: WorkCalendar
    policy: Policy = field(default_factory=Policy)
    gateway: SlackGateway | None = None
    manager_channel: str | None = None
    # Pacing: at most one message a second per channel. Tests and the demo pass a fake sleep.
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    monotonic: Callable[[], float] = time.monotonic
    wall: Callable[[], datetime] = _wall  # the sweep lease runs on real time, whatever `now` is
    page_size: int = 2000
    user_cache_ttl: timedelta = timedelta(days=1)
    # Short, and renewed at half-life by the sweep holding it: a crash keeps others out for
    # at most this long (bot/monitor/lease.py).
    lease_seconds: int = 60
    # Database work runs in a worker thread so the bot's event loop keeps acking Slack; a
    # replay has no one else on its loop and runs it inline.
    db_in_thread: bool = True
    count_open_tasks: bool = True  # for the sweep's report; a replay does not need it
    # No one else writes to this database while a sweep runs (a replay's own file): pages are
    # judged inside their write transaction, one transaction a page instead of two.
    exclusive: bool = False
    # Set by the bot: the deciding step runs in a worker process (bot/monitor/worker.py).
    worker: object | None = None
    settings_checked: bool = False
    last_sweep: datetime | None = None  # the `now` of the last completed sweep
    # users.info answers, kept for `user_cache_ttl`: {user id: (tz, deleted, fetched at)}
    users: dict[str, tuple[str | None, bool, datetime]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.gateway is not None and self.gateway.gate is None:
            # Slack's Retry-After, kept in the database so other sweeps and processes see it;
            # on the wall clock, like the lease, whatever instant a sweep judges for.
            self.gateway.gate = RetryGate(self.engine, lambda: self.wall(), self.db)
        if self.gateway is not None and self.gateway.unanswered is None:
            self.gateway.unanswered = UnansweredPosts(self.engine, self.db)

    async def db(self, fn: Callable[..., T], *args: object) -> T:
        if self.db_in_thread:
            return await asyncio.to_thread(fn, *args)
        return fn(*args)
