"""Slack's `Retry-After`, honoured for a whole method, across sweeps and processes.

Slack rate-limits per method and workspace: a 429 on `chat.postMessage` says that no message
may be posted for so many seconds, by anyone holding this token. The wait is kept in the
`state` table (`slack.retry_after.<method>`, `until` = the wall-clock instant it ends), so a
sweep two seconds later, `python -m bot sweep` beside the bot, or another replica sees it and
holds back too, without asking Slack again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.db import reading, transaction
from bot.models import State

PREFIX = "slack.retry_after."
Run = Callable[..., Awaitable[Any]]  # how database work runs: in a thread, or inline


def key(method: str) -> str:
    return PREFIX + method


class RetryGate:
    def __init__(self, engine: Engine, wall: Callable[[], datetime], run: Run) -> None:
        self.engine, self.wall, self.run = engine, wall, run

    async def wait(self, method: str) -> float:
        """Seconds until `method` may be called again; 0 when it may be called now."""
        until = await self.run(self._until, method)
        if until is None:
            return 0.0
        return max(0.0, (until - self.wall()).total_seconds())

    async def hold(self, method: str, seconds: float) -> None:
        """Slack asked for `seconds` without `method`, counted from now."""
        await self.run(self._hold, method, self.wall() + timedelta(seconds=seconds))

    def _until(self, method: str) -> datetime | None:
        with reading(self.engine) as session:
            row = session.get(State, key(method))
            return row.until if row is not None else None

    def _hold(self, method: str, until: datetime) -> None:
        with transaction(self.engine) as session:
            dialect = session.get_bind().dialect.name
            insert = postgres_insert if dialect == "postgresql" else sqlite_insert
            session.execute(
                insert(State).values(key=key(method), value=method).on_conflict_do_nothing()
            )
            row = session.get(State, key(method), with_for_update=True, populate_existing=True)
            # Two 429s in flight at once: the later end wins, never an earlier one.
            if row.until is None or row.until < until:
                row.until = until
