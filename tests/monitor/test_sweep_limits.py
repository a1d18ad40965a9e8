"""What a sweep may send: within its budget, and nothing once another sweep took its lease.
Real SQLite, the Slack stand-in, time injected."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from bot.db import transaction
from bot.monitor.sweep import run_sweep
from tests.conftest import london
from tests.monitor.test_sweep import create, dms_to, people, posts


async def test_the_send_budget_leaves_the_rest_for_the_next_sweep(monitor, standin, engine):
    for n, person in enumerate(people(standin, 5)):  # five people: five DMs
        create(engine, title=f"Unowned {n}", creator=person, due_at=london("2026-02-01T00:00"))
    monitor.policy = dataclasses.replace(monitor.policy, send_budget=2)
    report = await run_sweep(monitor, london("2026-01-05T09:05"))
    assert len(report.sent) == 2 and report.delivery.left == 3
    assert "3 over the budget" in report.summary()
    report = await run_sweep(monitor, london("2026-01-05T09:10"))
    assert len(report.sent) == 2 and report.delivery.left == 1
    await run_sweep(monitor, london("2026-01-05T09:15"))
    assert all(len(dms_to(standin, p)) == 1 for p in people(standin, 5))
    assert len(posts(standin)) == 5


async def test_a_sweep_that_lost_its_lease_stops_sending_and_nothing_goes_twice(
    monitor, standin, engine
):
    """A sweep that outlives its lease (Slack slow for ten minutes) may find that another
    replica took over: it sends nothing more, and the other sends the rest, once."""
    from bot.monitor import lease
    from bot.monitor.gateway import SlackGateway

    everyone = people(standin, 3)
    for n, person in enumerate(everyone):  # three creators: three DMs
        create(engine, title=f"Unowned {n}", creator=person, due_at=london("2026-02-27T00:00"))
    wall = [london("2026-01-05T09:05")]
    monitor.wall = lambda: wall[0]

    class SlowSlack(SlackGateway):
        async def post(self, *args, **kwargs):
            answer = await super().post(*args, **kwargs)
            if wall[0] == london("2026-01-05T09:05"):  # the first post took eleven minutes
                wall[0] += timedelta(minutes=11)
                with transaction(engine) as s:  # and another replica took the lease
                    assert lease.take(lease.locked(s), "the other replica", monitor)
            return answer

    monitor.gateway = SlowSlack(monitor.gateway.client)
    report = await run_sweep(monitor, london("2026-01-05T09:05"))
    assert len(report.sent) == 1 and report.delivery.left == 2
    assert "another sweep sends the rest" in report.summary()

    with transaction(engine) as s:  # the other replica's sweep ends
        lease.release(s, "the other replica")
    report = await run_sweep(monitor, london("2026-01-05T09:20"))
    assert len(report.sent) == 2
    assert [len(dms_to(standin, p)) for p in everyone] == [1, 1, 1]  # each once
