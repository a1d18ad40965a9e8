"""What people do in a scenario, in order, and each thing done through the same task service and
permission checks as the slash commands: tasks created and changed, alerts snoozed, Slack
statuses set and cleared."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from bot import tasks as service
from bot.db import transaction
from bot.errors import Refused, UserError
from bot.models import Task
from bot.monitor import ladder, people
from bot.monitor.monitor import Monitor
from bot.sim.scenario.model import Away, Scenario, ScenarioTask, Update
from bot.sim.transcript import ReplayResult
from bot.standin import SlackStandIn


@dataclass
class Action:
    at: datetime
    seq: int
    task: ScenarioTask
    update: Update | None = None  # None: create the task


def actions_of(scenario: Scenario) -> list[Action]:
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


def status_moments(scenario: Scenario) -> list[tuple[datetime, str, Away | None]]:
    """Each away spell as two moments: the status set when it starts, cleared when it ends."""
    moments: list[tuple[datetime, str, Away | None]] = []
    for person in scenario.people:
        for away in person.away:
            moments.append((away.start, person.id, away))
            if away.until <= scenario.end:
                moments.append((away.until, person.id, None))
    return sorted(moments, key=lambda m: (m[0], m[2] is not None))


async def tell_status(
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


def apply_all(m: Monitor, actions: list[Action], result: ReplayResult) -> None:
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
