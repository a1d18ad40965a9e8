"""The sweep lease is short and kept alive by the sweep that holds it: after a crash, the next
sweep runs within a minute, while a sweep that is alive (judging a long page, or sending)
keeps every other one out however long it takes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot import tasks as service
from bot.db import transaction
from bot.monitor import judging, lease
from bot.monitor.gateway import SLACK_TIMEOUT
from bot.monitor.monitor import Monitor
from bot.monitor.sweep import SweepReport, run_sweep
from tests.conftest import london, monitor_of_its_own

START = london("2026-01-05T09:05")


class Wall:
    def __init__(self, at) -> None:  # type: ignore[no-untyped-def]
        self.at = at

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.at


def unowned_task(engine) -> None:
    with transaction(engine) as s:
        service.create_task(
            s,
            title="Renew insurance",
            creator="UMARCUS",
            due_at=START + timedelta(days=30),
            now=START,
        )


def crash_holding_the_lease(m: Monitor) -> None:
    """A sweep took the lease and its process died: nobody will release it."""
    with transaction(m.engine) as s:
        assert lease.take(lease.locked(s), "a crashed process", m)


def dms_to_creator(standin) -> int:
    channel = standin.dm_channel("UMARCUS")
    return len(standin.messages(channel)) if channel else 0


async def test_after_a_crash_the_next_sweep_runs_within_a_minute(monitor, standin, engine):
    unowned_task(engine)
    wall = Wall(START)
    monitor.wall = wall
    crash_holding_the_lease(monitor)

    wall.at = START + timedelta(seconds=30)  # the restarted bot's first sweep: still held
    report = await run_sweep(monitor, wall.at)
    assert report.skipped == "another sweep holds the lease" and dms_to_creator(standin) == 0
    # When to try again: as the crashed sweep's lease runs out (the bot's scheduler does).
    assert report.busy_until == START + timedelta(seconds=monitor.lease_seconds)

    wall.at = START + timedelta(seconds=61)  # a minute after the crash, not ten
    report = await run_sweep(monitor, wall.at)
    assert report.skipped is None and dms_to_creator(standin) == 1


async def test_a_sweep_judging_for_minutes_keeps_the_lease(monitor, standin, engine, monkeypatch):
    """Judging that takes five minutes of wall time (a cold sweep over a huge database) renews
    the lease as it goes: a sweep started meanwhile elsewhere stays out, and one message goes."""
    monkeypatch.setattr(lease, "RENEW_CHECK_SECONDS", 0.001)
    unowned_task(engine)
    wall = Wall(START)
    monitor.wall = wall
    others: list = []

    class SlowJudge:
        """The worker process, judging slowly; meanwhile another replica tries to sweep."""

        async def decide(self, now):  # type: ignore[no-untyped-def]
            for _ in range(30):  # five minutes of wall time, ten seconds at a time
                wall.at += timedelta(seconds=10)
                await asyncio.sleep(0.002)  # the holder's renewal gets its turn
                others.append(await run_sweep(monitor_of_its_own(engine, standin, wall=wall), wall.at))
            report = SweepReport(now=now)
            await monitor.db(judging.decide_and_commit, now, monitor, report)
            return report.checked, report.opened, report.resolved

    monitor.worker = SlowJudge()
    report = await run_sweep(monitor, START)
    assert [o.skipped for o in others] == ["another sweep holds the lease"] * 30
    assert report.skipped is None and dms_to_creator(standin) == 1


def test_the_lease_is_no_longer_than_an_interval_so_a_dead_leader_is_replaced_within_two():
    """Replicas find the lease held, try again as it runs out, and sweep at every interval
    anyway: with a lease no longer than the interval, a leader that died is replaced within two
    intervals. Never shorter than a message's pacing and Slack call take, twice over."""
    assert lease.lease_for(300) == 60  # the default interval: a minute
    assert lease.lease_for(45) == 45
    for interval in range(lease.SHORTEST_LEASE, 400):
        assert lease.lease_for(interval) <= interval
    assert lease.lease_for(1) == lease.SHORTEST_LEASE >= 2 * (SLACK_TIMEOUT + 1)
