"""What a sweep needs, in one value: the database, the rules' settings, the way to Slack,
and the clocks. Built once by the entry point; tests and the demo build their own."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from bot.calendar import WorkCalendar
from bot.monitor.gateway import SlackGateway
from bot.monitor.policy import Policy


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
    lease_seconds: int = 600
