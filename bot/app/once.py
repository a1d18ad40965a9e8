"""Each Events API event acted on once: Slack delivers an event again when it did not see a
quick 2xx (`X-Slack-Retry-Num`), and Socket Mode delivers an envelope again after a reconnect.

The first delivery of an `event_id` claims it with a row in `state` (`event:<id>`, `until`
a day later), inserted only if absent, so a second delivery to the same process, after a
restart, or to another replica finds the row and does nothing. Slack retries within minutes;
rows older than a day are pruned.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from slack_bolt.response import BoltResponse
from sqlalchemy import Engine, delete
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.db import transaction
from bot.models import State

log = logging.getLogger(__name__)
PREFIX = "event:"
KEEP = timedelta(days=1)
PRUNE_EVERY = timedelta(hours=1)


def _wall() -> datetime:
    return datetime.now(UTC)


class EventsOnce:
    def __init__(self, engine: Engine, wall: Callable[[], datetime] = _wall) -> None:
        self.engine, self.wall = engine, wall
        self._pruned: datetime | None = None

    def claim(self, event_id: str) -> bool:
        """True for the first delivery of `event_id`, False for every later one."""
        now = self.wall()
        with transaction(self.engine) as session:
            dialect = session.get_bind().dialect.name
            insert = postgres_insert if dialect == "postgresql" else sqlite_insert
            added = session.execute(
                insert(State)
                .values(key=PREFIX + event_id, value="seen", until=now + KEEP)
                .on_conflict_do_nothing()
                .returning(State.key)  # rowcount is not to be trusted with ON CONFLICT
            ).first()
            if self._pruned is None or now - self._pruned >= PRUNE_EVERY:
                session.execute(
                    delete(State).where(State.key.startswith(PREFIX), State.until < now)
                )
                self._pruned = now
        return added is not None

    def middleware(self) -> Callable[..., Awaitable[BoltResponse | None]]:
        """Bolt global middleware, for HTTP and Socket Mode alike."""

        async def once_per_event(body: dict, next) -> BoltResponse | None:  # noqa: A002 (Bolt's name)
            event_id = body.get("event_id") if body.get("type") == "event_callback" else None
            if isinstance(event_id, str) and event_id:
                if not await asyncio.to_thread(self.claim, event_id[:200]):
                    log.info("event %s delivered again: already acted on", event_id)
                    return BoltResponse(status=200, body="")
            return await next()

        return once_per_event
