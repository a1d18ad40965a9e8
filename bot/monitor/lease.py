"""The sweep lease: one sweep at a time, across processes and replicas.

A row in `state` names the sweep that holds it and until when. Taking it locks the row
(`SELECT ... FOR UPDATE` on PostgreSQL; SQLite's write lock, taken at `BEGIN IMMEDIATE`), so
two replicas can never both see it free. A sweep that holds it renews it before it runs out,
and before each message it sends: a sweep that has lost it (it outlived its expiry and
another replica took over) stops sending, so no message can be sent by two sweeps.

The lease is short (Monitor.lease_seconds, a minute) and renewed at half-life, also while the
sweep judges: a live sweep keeps it as long as it runs, and after a crash the next sweep
starts within a minute instead of waiting out a long lease.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from bot.db import transaction
from bot.models import State
from bot.monitor.gateway import SLACK_TIMEOUT
from bot.monitor.monitor import Monitor

LEASE_KEY = "sweep.lease"
RENEW_CHECK_SECONDS = 1.0  # how often a sweep busy judging looks at its lease
# A sweep checks its lease before each message, then waits up to a second of pacing and one
# Slack call: the half of the lease left after a renewal must outlast both, with room.
SHORTEST_LEASE = int(2 * (SLACK_TIMEOUT + 2))
LONGEST_LEASE = 60
T = TypeVar("T")


def lease_for(interval_seconds: int) -> int:
    """A lease no longer than a sweep interval (between the shortest safe one and a minute):
    replicas sweep at every interval and, finding the lease held, try again as it runs out,
    so a leader that dies is replaced within two intervals."""
    return max(SHORTEST_LEASE, min(LONGEST_LEASE, interval_seconds))


def locked(session: Session) -> State:
    """The lease row, locked for this transaction; created if this database has none yet.
    Two replicas starting at once both insert it: the second insert does nothing, waits for
    the first to commit, and then both lock the one row."""
    lease = session.get(State, LEASE_KEY, with_for_update=True)
    if lease is None:
        dialect = session.get_bind().dialect.name
        insert = postgres_insert if dialect == "postgresql" else sqlite_insert
        session.execute(insert(State).values(key=LEASE_KEY).on_conflict_do_nothing())
        lease = session.get(State, LEASE_KEY, with_for_update=True, populate_existing=True)
    return lease


def take(lease: State, holder: str, m: Monitor) -> datetime | None:
    """Take the locked lease for `holder`: its expiry, or None while another sweep holds it."""
    wall = m.wall()
    if lease.holder not in (None, holder) and lease.until and lease.until > wall:
        return None
    lease.holder, lease.until = holder, wall + timedelta(seconds=m.lease_seconds)
    return lease.until


def release(session: Session, holder: str) -> None:
    lease = session.get(State, LEASE_KEY, with_for_update=True)
    if lease is not None and lease.holder == holder:
        lease.holder, lease.until = None, None


class Held:
    """The lease as a running sweep holds it."""

    def __init__(self, m: Monitor, holder: str, until: datetime) -> None:
        self.m, self.holder, self.until = m, holder, until

    async def keep(self) -> bool:
        """Whether this sweep may go on: True while the lease has at least half its time
        left, else after renewing it; False once another sweep has taken it."""
        if self.m.wall() < self.until - timedelta(seconds=self.m.lease_seconds / 2):
            return True
        return await self.m.db(self._renew)

    async def during(self, work: Awaitable[T]) -> T:
        """`work`'s result, the lease kept alive while it runs (judging can outlast a lease).
        A lost lease is not an error here: delivery checks before each message, and stops."""
        task = asyncio.ensure_future(work)
        while True:
            done, _ = await asyncio.wait({task}, timeout=RENEW_CHECK_SECONDS)
            if done:
                return task.result()
            await self.keep()

    def _renew(self) -> bool:
        with transaction(self.m.engine) as session:
            lease = locked(session)
            if lease.holder != self.holder:
                return False  # it ran out and another sweep took it (and maybe let it go)
            self.until = take(lease, self.holder, self.m) or self.until
            return True
