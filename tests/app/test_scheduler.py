"""The bot's schedule: a replica that finds the lease held tries again as it runs out, not an
interval later, so a leader that died is replaced within the lease."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot import tasks as service
from bot.app.factory import build_context
from bot.app.scheduler import sweep_now
from bot.config import Settings
from bot.db import transaction
from bot.monitor import lease
from bot.monitor.gateway import make_client
from tests.conftest import TOKEN

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


async def test_a_sweep_finding_the_lease_held_is_tried_again_as_it_runs_out(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'vigil.db'}")
    ctx = build_context(settings, make_client(TOKEN, "http://127.0.0.1:1/api/"), clock=lambda: NOW)
    asked: list[datetime] = []
    ctx.reschedule = asked.append
    with transaction(ctx.engine) as s:
        service.create_task(s, title="Payroll", creator="UMARCUS", now=NOW)
        # Another replica's sweep holds the lease, and died holding it.
        until = lease.take(lease.locked(s), "host/4242/dead", ctx.monitor)
    await sweep_now(ctx)
    assert asked == [until + timedelta(seconds=1)]
    assert until - ctx.monitor.wall() <= timedelta(seconds=ctx.monitor.lease_seconds)
    ctx.engine.dispose()
