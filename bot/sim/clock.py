"""The replay's clocks: which sweep of simulated time comes next (skipping those that provably
have nothing to do), and the pacing clock and sleep a monitor is given so it never waits."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.models import Case, Notification, Task
from bot.sim.scenario.model import Scenario

WAKE = select(
    select(func.min(Task.next_check_at)).scalar_subquery(),
    select(func.min(Case.next_action_at)).where(Case.status == "open").scalar_subquery(),
    select(func.min(Notification.not_before))
    .where(Notification.status == "pending")
    .scalar_subquery(),
)


async def no_sleep(_seconds: float) -> None:
    await asyncio.sleep(0)


class SteppingClock:
    """A monotonic clock that moves a second per reading: pacing never waits."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        self.t += 1.0
        return self.t


def _next_wake(engine) -> datetime | None:
    """The earliest instant at which a sweep would find anything to do: a task's next check,
    a finding's next ladder step, or a pending message's time. The same three conditions a
    sweep tests before it does any work, so every sweep before this instant is idle."""
    with engine.connect() as conn:
        times = conn.execute(WAKE).one()
    times = [t for t in times if t is not None]
    return min(times) if times else None


def _sweep_at_or_after(moment: datetime, start: datetime, every: timedelta) -> datetime:
    """The first sweep instant (start + k * every) at or after `moment`."""
    steps = -((start - moment) // every)  # ceiling division on timedeltas
    return start + max(0, steps) * every


def next_sweep(
    now: datetime,
    scenario: Scenario,
    next_action: datetime | None,
    engine,  # type: ignore[no-untyped-def]
    skip_idle: bool,
) -> datetime | None:
    """The sweep after `now`: the next one, or with `skip_idle` the first that can have
    anything to do: none before the next thing someone does or the database's next wake-up
    (None: nothing will ever be due again). `engine` is None when no monitor runs."""
    following = now + scenario.sweep_every
    if not skip_idle:
        return following
    if next_action is not None and next_action <= following:
        return following  # nothing to skip: no need to ask the database
    wake = _next_wake(engine) if engine is not None else None
    wakes = [t for t in (next_action, wake) if t is not None]
    if not wakes:
        return None
    return max(following, _sweep_at_or_after(min(wakes), scenario.start, scenario.sweep_every))


def sweep_count(scenario: Scenario) -> int:
    return (scenario.end - scenario.start) // scenario.sweep_every + 1
