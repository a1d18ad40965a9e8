"""Replay a scenario through the real product: the task service, the rules, the ladder, the
message builders and delivery through slack_sdk to the built-in Slack stand-in, with a
simulated clock. The demo and `simulate` both run this."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from bot.calendar import WorkCalendar
from bot.db import create_schema, make_engine
from bot.monitor.gateway import SlackGateway, make_client, slack_session
from bot.monitor.monitor import Monitor
from bot.monitor.sweep import run_sweep
from bot.sim.clock import SteppingClock, next_sweep, no_sleep, sweep_count
from bot.sim.scenario.model import Scenario
from bot.sim.timeline import actions_of, apply_all, status_moments, tell_status
from bot.sim.transcript import ReplayResult, final_state, record_sent
from bot.standin import SlackStandIn

TOKEN = "xoxb-standin"


def calendar_for(scenario: Scenario) -> WorkCalendar:
    return WorkCalendar(
        scenario.timezone,
        scenario.holiday_country,
        scenario.policy.day_start,
        scenario.policy.day_end,
    )


async def replay(
    scenario: Scenario,
    *,
    workdir: Path | None = None,
    standin: SlackStandIn | None = None,
    monitor_on: bool = True,
    skip_idle: bool = True,
) -> ReplayResult:
    """Replay `scenario`. `monitor_on=False` applies the history with no sweeps at all: the
    benchmark's baseline for what the monitor adds. `standin`: the Slack stand-in to talk to
    (started and stopped here), for a caller that wants to look at what it received.
    `skip_idle=False` runs every sweep of simulated time, even those with provably nothing
    to do; the transcript is the same."""
    result = ReplayResult(scenario)
    with tempfile.TemporaryDirectory(prefix="vigil-replay-") as tmp:
        db = (workdir or Path(tmp)) / "replay.db"
        db.unlink(missing_ok=True)
        engine = make_engine(f"sqlite:///{db}")
        create_schema(engine)
        if standin is None:
            standin = SlackStandIn(token=TOKEN)
        await _start_slack(standin, scenario)
        http = slack_session()
        client = make_client(standin.token, standin.url, session=http)
        monitor = _monitor(scenario, engine, client)
        try:
            await _run(scenario, monitor, standin, result, monitor_on, skip_idle)
            result.sweeps = sweep_count(scenario) if monitor_on else 0
            result.final = final_state(engine, result.task_keys)
        finally:
            await http.close()
            await standin.stop()
            engine.dispose()
    return result


async def _start_slack(standin: SlackStandIn, scenario: Scenario) -> None:
    for person in scenario.people:
        standin.add_user(person.id, name=person.name, tz=person.tz)
    standin.add_channel(scenario.channel, name="managers")
    await standin.start()


def _monitor(scenario: Scenario, engine, client) -> Monitor:  # type: ignore[no-untyped-def]
    return Monitor(
        engine=engine,
        cal=calendar_for(scenario),
        policy=scenario.policy,
        gateway=SlackGateway(client),
        manager_channel=scenario.channel,
        # Simulated sweeps are minutes apart: pacing within one costs nothing here.
        sleep=no_sleep,
        monotonic=SteppingClock(),
        db_in_thread=False,
        count_open_tasks=False,
        exclusive=True,
    )


async def _run(
    scenario: Scenario,
    monitor: Monitor,
    standin: SlackStandIn,
    result: ReplayResult,
    monitor_on: bool,
    skip_idle: bool,
) -> None:
    """Simulated time from start to end: at each sweep instant, first the statuses set or
    cleared and what people did since the last one, then the sweep."""
    actions = actions_of(scenario)
    statuses = status_moments(scenario)
    now: datetime | None = scenario.start
    clock = [scenario.start.timestamp()]
    standin.clock = lambda: clock[0]  # statuses expire on the simulated clock
    i = j = 0
    while now is not None and now <= scenario.end:
        clock[0] = now.timestamp()
        if j < len(statuses) and statuses[j][0] <= now:
            told = [m for m in statuses[j:] if m[0] <= now]
            j += len(told)
            await tell_status(standin, monitor, told)
        due_now = []
        while i < len(actions) and actions[i].at <= now:
            due_now.append(actions[i])
            i += 1
        if due_now:
            apply_all(monitor, due_now, result)
        if monitor_on:
            report = await run_sweep(monitor, now)
            result.swept += 1
            record_sent(report, result, result.task_keys)
        upcoming = [a.at for a in actions[i : i + 1]] + [m[0] for m in statuses[j : j + 1]]
        now = next_sweep(
            now,
            scenario,
            min(upcoming) if upcoming else None,
            monitor.engine if monitor_on else None,
            skip_idle or not monitor_on,
        )
    if i < len(actions):
        # Done after the last sweep instant but before the end: no sweep sees it, the final
        # state does.
        apply_all(monitor, actions[i:], result)
