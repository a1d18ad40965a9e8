"""What every handler needs, built once by the app factory and passed to each `register`."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from bot.calendar import WorkCalendar
from bot.config import Settings
from bot.monitor.monitor import Monitor


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Context:
    settings: Settings
    engine: Engine
    cal: WorkCalendar
    monitor: Monitor
    clock: Callable[[], datetime] = _utcnow  # the only clock handlers read; tests hand their own
    managers: frozenset[str] = field(default_factory=frozenset)
    # Asks the monitor for a sweep soon, so that a fix shows as resolved within seconds.
    nudge: Callable[[], None] | None = None
    # Set by the scheduler: run the next sweep at this instant if sooner than planned.
    reschedule: Callable[[datetime], None] | None = None
    client: Any = None  # the AsyncWebClient, for work after a sweep

    background: set = field(default_factory=set)
    home_busy: set[str] = field(default_factory=set)
    home_dirty: set[str] = field(default_factory=set)
    home_at: dict[str, float] = field(default_factory=dict)  # the last rebuild (monotonic)
    _db_threads: ThreadPoolExecutor | None = None

    def db_threads(self) -> ThreadPoolExecutor:
        """Two threads for the handlers' database work: enough to overlap with Slack calls, few
        enough that they do not crowd the event loop off the interpreter while it should ack.
        Made on first use, not at import."""
        if self._db_threads is None:
            self._db_threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="vigil-db")
        return self._db_threads

    def is_manager(self, user_id: str) -> bool:
        return user_id in self.managers

    def spawn(self, coro):  # type: ignore[no-untyped-def]
        """Work after the reply (a handler after its ack, App Home republishing): kept
        referenced until it ends."""
        import asyncio

        task = asyncio.get_running_loop().create_task(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task
