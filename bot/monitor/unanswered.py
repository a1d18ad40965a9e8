"""Posts whose answer never came: Slack may have posted them.

A read timeout or a dropped connection after the request went out says nothing about whether
Slack applied it. Posting again could show the message twice, so the gateway remembers such a
post here (`state`, `slack.unanswered.<notification id>`, the channel as its value) and, before
the next attempt, looks in the conversation for a message carrying that notification's id in
its metadata. Kept in the database, like the Retry-After, so a retry by another process or
replica looks too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import Engine, delete
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.db import reading, transaction
from bot.models import State

PREFIX = "slack.unanswered."
Run = Callable[..., Awaitable[Any]]  # how database work runs: in a thread, or inline


def key(note_id: int) -> str:
    return f"{PREFIX}{note_id}"


class UnansweredPosts:
    def __init__(self, engine: Engine, run: Run) -> None:
        self.engine, self.run = engine, run

    async def remember(self, note_id: int, channel: str) -> None:
        await self.run(self._remember, note_id, channel)

    async def was_unanswered(self, note_id: int) -> bool:
        return bool(await self.run(self._known, note_id))

    async def forget(self, note_id: int) -> None:
        await self.run(self._forget, note_id)

    def _remember(self, note_id: int, channel: str) -> None:
        with transaction(self.engine) as session:
            dialect = session.get_bind().dialect.name
            insert = postgres_insert if dialect == "postgresql" else sqlite_insert
            session.execute(
                insert(State).values(key=key(note_id), value=channel).on_conflict_do_nothing()
            )

    def _known(self, note_id: int) -> bool:
        with reading(self.engine) as session:
            return session.get(State, key(note_id)) is not None

    def _forget(self, note_id: int) -> None:
        with transaction(self.engine) as session:
            session.execute(delete(State).where(State.key == key(note_id)))
