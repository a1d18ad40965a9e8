"""Replay a scenario through the real product: the task service, the rules, the ladder, the
message builders and delivery through slack_sdk to the built-in Slack stand-in, with a
simulated clock. The demo and `simulate` both run this."""

from __future__ import annotations

import asyncio
import tempfile
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot import tasks as service
from bot.calendar import WorkCalendar
from bot.db import create_schema, make_engine, transaction
from bot.errors import Refused, UserError
from bot.models import Case, Event, Notification, Task
from bot.monitor import ladder, people
from bot.monitor.delivery import Sent
from bot.monitor.gateway import SlackGateway, make_client, slack_session
from bot.monitor.monitor import Monitor
from bot.monitor.sweep import SweepReport, run_sweep
from bot.sim.scenario import Away, Scenario, ScenarioTask, Update
from bot.standin import SlackStandIn

TOKEN = "xoxb-standin"
_WAKE = select(
    select(func.min(Task.next_check_at)).scalar_subquery(),
    select(func.min(Case.next_action_at)).where(Case.status == "open").scalar_subquery(),
    select(func.min(Notification.not_before))
    .where(Notification.status == "pending")
    .scalar_subquery(),
)


@dataclass(frozen=True)
class Message:
    at: datetime
    to: str
    kind: str  # dm, reminder, escalation, digest, update, resolution
    tasks: tuple[str, ...]  # the keys of every task it is about, in the order shown
    rules: tuple[str, ...]
    text: str
    edit: bool = False  # an earlier message changed in place, not a new one (notifies nobody)
    thread: bool = False  # a reply in a thread

    @property
    def task(self) -> str | None:
        """The one task it is about, or None when it is about several."""
        return self.tasks[0] if len(self.tasks) == 1 else None

    def as_json(self) -> dict:
        return {
            "at": self.at.isoformat(),
            "to": self.to,
            "kind": self.kind,
            "task": self.task,
            "tasks": list(self.tasks),
            "rules": list(self.rules),
            "edit": self.edit,
            "thread": self.thread,
            "text": self.text,
        }


@dataclass
class Action:
    at: datetime
    seq: int
    task: ScenarioTask
    update: Update | None = None  # None: create the task


@dataclass
class ReplayResult:
    scenario: Scenario
    messages: list[Message] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sweeps: int = 0  # sweeps of simulated time
    swept: int = 0  # of those, the ones that ran: the others had provably nothing to do
    task_ids: dict[str, int] = field(default_factory=dict)
    task_keys: dict[int, str] = field(default_factory=dict)
    final: dict[str, dict] = field(default_factory=dict)
    refused: list[dict] = field(default_factory=list)  # updates refused as Slack would


def calendar_for(scenario: Scenario) -> WorkCalendar:
    return WorkCalendar(
        scenario.timezone,
        scenario.holiday_country,
        scenario.policy.day_start,
        scenario.policy.day_end,
    )


def _timeline(scenario: Scenario) -> list[Action]:
    actions: list[Action] = []
    seq = 0
    for task in scenario.tasks:
        actions.append(Action(task.created, seq, task))
        seq += 1
        for update in task.updates:
            actions.append(Action(update.at, seq, task, update))
            seq += 1
    # Parents before subtasks at the same instant: a subtask needs its parent's id.
    depth = {t.key: 0 for t in scenario.tasks}
    by_key = {t.key: t for t in scenario.tasks}
    for t in scenario.tasks:
        cursor, d = t, 0
        while cursor.parent and d < 10:
            cursor, d = by_key[cursor.parent], d + 1
        depth[t.key] = d
    return sorted(actions, key=lambda a: (a.at, a.update is not None, depth[a.task.key], a.seq))


def _status_timeline(scenario: Scenario) -> list[tuple[datetime, str, Away | None]]:
    """Each away spell as two moments: the status set when it starts, cleared when it ends."""
    moments: list[tuple[datetime, str, Away | None]] = []
    for person in scenario.people:
        for away in person.away:
            moments.append((away.start, person.id, away))
            if away.until <= scenario.end:
                moments.append((away.until, person.id, None))
    return sorted(moments, key=lambda m: (m[0], m[2] is not None))


async def _tell_status(
    standin: SlackStandIn, monitor: Monitor, moments: list[tuple[datetime, str, Away | None]]
) -> None:
    """What Slack would know and say when a status changes: the profile (the stand-in's
    `users.info`) and a `user_change` event (the monitor's hook, when it has one)."""
    for at, user, away in moments:
        if away is None:
            event = standin.set_status(user, "", "", 0)
        else:
            event = standin.set_status(user, away.text, away.emoji, int(away.until.timestamp()))
        # As the bot's `user_change` listener records it.
        with transaction(monitor.engine) as session:
            people.record(session, people.Person.from_slack(event["user"]), at)


def _apply_all(m: Monitor, actions: list[Action], result: ReplayResult) -> None:
    """What people did since the last sweep, in one transaction. If an action cannot be done
    (it becomes a warning in the report), the batch is rolled back and replayed one action
    per transaction, so that the others still stand."""
    staged: dict[str, int] = {}
    failed = UserError  # Refused among them: Slack would refuse it, and so does a replay
    managers = frozenset(result.scenario.managers)
    try:
        with transaction(m.engine) as session:
            held = _load_tasks(session, actions, result.task_ids)  # noqa: F841 (kept alive)
            for action in actions:
                ids = ChainMap(staged, result.task_ids)
                created = _apply(session, m, action, ids, managers)
                if created is not None:
                    staged[action.task.key] = created
    except failed:
        staged = {}
        for action in actions:
            try:
                with transaction(m.engine) as session:
                    ids = ChainMap(staged, result.task_ids)
                    created = _apply(session, m, action, ids, managers)
            except failed as exc:
                _warn(result, action, exc)
                continue
            if created is not None:
                staged[action.task.key] = created
    for key, task_id in staged.items():
        result.task_ids[key] = task_id
        result.task_keys[task_id] = key


def _warn(result: ReplayResult, action: Action, exc: Exception) -> None:
    at = action.at.isoformat()
    if isinstance(exc, Refused) and action.update is not None:
        update = action.update
        result.warnings.append(
            f"{at} {action.task.key}: {describe(update)} by {update.by} refused: {exc.message}"
        )
        result.refused.append(
            {"at": at, "task": action.task.key, "by": update.by, "what": describe(update)}
        )
    else:
        result.warnings.append(f"{at} {action.task.key}: {exc}")


def describe(update: Update) -> str:
    """An update in a few words, as a warning names it: `progress 40, owner ULEE`."""
    c = update.changes
    parts = []
    for key in ("progress", "owner", "status", "snooze"):
        if key in c:
            parts.append(f"{key} {c[key]}")
    if "due" in c:
        parts.append(f"due {c['due'][0].isoformat()}")
    if "note" in c and "progress" not in c:
        parts.append("a note")
    return ", ".join(parts)


def _load_tasks(session, actions: list[Action], ids: Mapping[str, int]) -> list[Task]:  # type: ignore[no-untyped-def]
    """The tasks a batch touches, and their parents, read in one statement: each service call
    then finds its task in the session instead of flushing and reading it again. The caller
    holds the list, since the session keeps unchanged objects only while someone does."""
    wanted = {ids[a.task.key] for a in actions if a.task.key in ids}
    wanted |= {ids[a.task.parent] for a in actions if a.task.parent in ids}
    if not wanted:
        return []
    return list(session.execute(select(Task).where(Task.id.in_(wanted))).scalars())


def _apply(  # type: ignore[no-untyped-def]
    session, m: Monitor, action: Action, ids: Mapping[str, int], managers: frozenset[str]
) -> int | None:
    """One action through the same task service, and the same permission check, that the
    slash commands use; the new task's id when it creates one."""
    task, update = action.task, action.update
    if update is None:
        if task.parent and task.parent not in ids:
            raise UserError(f"its parent {task.parent} was never created")
        return service.create_task(
            session,
            title=task.title,
            creator=task.creator,
            owner=task.owner,
            due_at=task.due,
            due_has_time=task.due_has_time,
            parent_id=ids.get(task.parent) if task.parent else None,
            description=task.description,
            now=action.at,
            source_key=task.key,
        ).id
    if task.key not in ids:
        raise UserError(f"{describe(update)} by {update.by}: the task was never created")
    tid, by, at, c = ids[task.key], update.by, update.at, update.changes
    change = service.Change(
        owner=c.get("owner"),
        due=c.get("due"),
        progress=c.get("progress"),
        note=c.get("note"),
        status=c.get("status"),
        reason=c.get("reason"),
    )
    if change != service.Change():
        service.change_task(session, tid, change, by=by, now=at, managers=managers)
    if "snooze" in c:
        service.check_may_change(service.get_task(session, tid), by, managers)
        case = ladder.open_case(session, tid)
        if case is None or c["snooze"] not in ladder.open_rules(session, case.id):
            raise UserError(f"no open {c['snooze']} alert to snooze")
        ladder.snooze(
            session, case, m.policy.snooze_days, by=by, now=at, policy=m.policy, cal=m.cal
        )
    return None


def transcript_kind(sent: Sent) -> str:
    """The transcript's kind (product.md §6) of what delivery sent."""
    if sent.kind == "edit":
        return "update" if sent.rules else "resolution"
    if sent.kind == "thread":
        return "escalation" if sent.ref_kind == "digest" and sent.rules else "resolution"
    return sent.kind


def _record(report: SweepReport, result: ReplayResult, keys: dict[int, str]) -> None:
    for sent in report.sent:
        result.messages.append(
            Message(
                at=sent.at,
                to=sent.to,
                kind=transcript_kind(sent),
                tasks=tuple(keys.get(t, str(t)) for t in sent.task_ids),
                rules=sent.rules,
                text=sent.text,
                edit=sent.kind == "edit",
                thread=sent.kind == "thread",
            )
        )


async def _no_sleep(_seconds: float) -> None:
    await asyncio.sleep(0)


class _SteppingClock:
    """A monotonic clock that moves a second per reading: pacing never waits."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        self.t += 1.0
        return self.t


def final_state(engine, keys: dict[int, str]) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    """Every task as the replay left it, with its history: enough to recompute the report.
    Read as plain rows: a quarter of a large firm has hundreds of thousands of events."""
    history: dict[int, list[dict]] = {}
    with transaction(engine) as session:
        events = select(Event.task_id, Event.at, Event.actor, Event.kind, Event.old, Event.new)
        for task_id, at, actor, kind, old, new in session.execute(events.order_by(Event.id)):
            history.setdefault(task_id, []).append(
                {"at": at.isoformat(), "by": actor, "kind": kind, "old": old, "new": new}
            )
        tasks = select(
            Task.id,
            Task.title,
            Task.status,
            Task.progress,
            Task.owner_id,
            Task.parent_id,
            Task.block_reason,
            Task.created_at,
            Task.due_at,
            Task.closed_at,
        ).order_by(Task.id)
        return {
            keys.get(row.id, str(row.id)): {
                "id": row.id,
                "title": row.title,
                "status": row.status,
                "progress": row.progress,
                "owner": row.owner_id,
                "parent": keys.get(row.parent_id) if row.parent_id else None,
                "blocked_reason": row.block_reason,
                "created": row.created_at.isoformat(),
                "due": row.due_at.isoformat() if row.due_at else None,
                "closed_at": row.closed_at.isoformat() if row.closed_at else None,
                "history": history.get(row.id, []),
            }
            for row in session.execute(tasks)
        }


def _next_wake(engine) -> datetime | None:
    """The earliest instant at which a sweep would find anything to do: a task's next check,
    a finding's next ladder step, or a pending message's time. The same three conditions a
    sweep tests before it does any work, so every sweep before this instant is idle."""
    with engine.connect() as conn:
        times = conn.execute(_WAKE).one()
    times = [t for t in times if t is not None]
    return min(times) if times else None


def _sweep_at_or_after(moment: datetime, start: datetime, every: timedelta) -> datetime:
    """The first sweep instant (start + k * every) at or after `moment`."""
    steps = -((start - moment) // every)  # ceiling division on timedeltas
    return start + max(0, steps) * every


def _next_sweep(
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


def _sweep_count(scenario: Scenario) -> int:
    return (scenario.end - scenario.start) // scenario.sweep_every + 1


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
        for person in scenario.people:
            standin.add_user(person.id, name=person.name, tz=person.tz)
        standin.add_channel(scenario.channel, name="managers")
        await standin.start()
        http = slack_session()
        client = make_client(standin.token, standin.url, session=http)
        monitor = Monitor(
            engine=engine,
            cal=calendar_for(scenario),
            policy=scenario.policy,
            gateway=SlackGateway(client),
            manager_channel=scenario.channel,
            # Simulated sweeps are minutes apart: pacing within one costs nothing here.
            sleep=_no_sleep,
            monotonic=_SteppingClock(),
            db_in_thread=False,
            count_open_tasks=False,
            exclusive=True,
        )
        try:
            actions = _timeline(scenario)
            statuses = _status_timeline(scenario)
            keys = result.task_keys
            now: datetime | None = scenario.start
            clock = [scenario.start.timestamp()]
            standin.clock = lambda: clock[0]  # statuses expire on the simulated clock
            i = j = 0
            while now is not None and now <= scenario.end:
                clock[0] = now.timestamp()
                if j < len(statuses) and statuses[j][0] <= now:
                    told = [m for m in statuses[j:] if m[0] <= now]
                    j += len(told)
                    await _tell_status(standin, monitor, told)
                due_now = []
                while i < len(actions) and actions[i].at <= now:
                    due_now.append(actions[i])
                    i += 1
                if due_now:
                    _apply_all(monitor, due_now, result)
                if monitor_on:
                    report = await run_sweep(monitor, now)
                    result.swept += 1
                    _record(report, result, keys)
                upcoming = [a.at for a in actions[i : i + 1]] + [m[0] for m in statuses[j : j + 1]]
                now = _next_sweep(
                    now,
                    scenario,
                    min(upcoming) if upcoming else None,
                    engine if monitor_on else None,
                    skip_idle or not monitor_on,
                )
            if i < len(actions):
                # Done after the last sweep instant but before the end: no sweep sees it,
                # the final state does.
                _apply_all(monitor, actions[i:], result)
            result.sweeps = _sweep_count(scenario) if monitor_on else 0
            result.final = final_state(engine, keys)
        finally:
            await http.close()
            await standin.stop()
            engine.dispose()
    return result
