"""A scenario's tasks and the updates people make to them: each checked with the task
service's own limits (title, description, progress, depth of subtasks) and against the rest of
the file (people, other tasks' keys, the span of time)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.monitor.rulebook import RULE_IDS
from bot.sim.scenario import fields
from bot.sim.scenario.model import Person, ScenarioTask, Update
from bot.sim.scenario.source import ScenarioError
from bot.tasks import MAX_DEPTH, check_description, check_progress, check_title

TASK_KEYS = (
    "key",
    "title",
    "owner",
    "creator",
    "created",
    "due",
    "parent",
    "description",
    "updates",
)
UPDATE_KEYS = ("at", "by", "progress", "owner", "due", "status", "reason", "snooze", "note")
STATUSES = ("open", "blocked", "done", "cancelled")


def read_tasks(
    value: Any, tz: ZoneInfo, known: dict[str, Person], span: tuple[datetime, datetime]
) -> list[ScenarioTask]:
    """Every task, once each key is known to be given once: a parent may come later in the file."""
    tasks_raw = fields.sequence(value, "tasks", "a list of tasks")
    first_use: dict[str, int] = {}
    for i, t in enumerate(tasks_raw):
        if not isinstance(t, dict):
            raise ScenarioError(
                f"tasks[{i}]",
                f"expected a mapping {{key, title, creator, created}}, got {fields.show(t)}",
            )
        key = fields.text(
            t.get("key"), f"tasks[{i}].key", "a short name for the task, such as filing"
        )
        if key in first_use:
            raise ScenarioError(
                f"tasks[{i}].key", f"{key!r} is used twice (also by tasks[{first_use[key]}])"
            )
        first_use[key] = i
    tasks = [_task(t, f"tasks[{i}]", tz, known, first_use, span) for i, t in enumerate(tasks_raw)]
    _check_parents(tasks, tz)
    return tasks


def _task(
    raw: dict,
    where: str,
    tz: ZoneInfo,
    known: dict[str, Person],
    keys: dict[str, int],
    span: tuple[datetime, datetime],
) -> ScenarioTask:
    fields.known_keys(raw, TASK_KEYS, where)
    key = raw["key"]
    title = fields.checked(
        check_title,
        fields.text(raw.get("title"), f"{where}.title", "the task's title"),
        f"{where}.title",
    )
    description = fields.checked(
        check_description,
        fields.text(raw.get("description"), f"{where}.description", "text", optional=True),
        f"{where}.description",
    )
    creator = fields.user(raw.get("creator"), f"{where}.creator", known)
    created = fields.instant(raw.get("created"), f"{where}.created", tz)
    fields.within(created, f"{where}.created", span, tz)
    owner = None if raw.get("owner") is None else fields.user(raw["owner"], f"{where}.owner", known)
    due, has_time = None, False
    if raw.get("due") is not None:
        due, has_time = fields.deadline(raw["due"], f"{where}.due", tz)
        if due < created:
            raise ScenarioError(
                f"{where}.due", f"is before the task is created ({fields.local(created, tz)})"
            )
    parent = raw.get("parent")
    if parent is not None and (not isinstance(parent, str) or parent not in keys or parent == key):
        raise ScenarioError(
            f"{where}.parent", f"expected another task's key, got {fields.show(parent)}"
        )
    updates = [
        _update(u, f"{where}.updates[{j}]", tz, known, created, span)
        for j, u in enumerate(
            fields.sequence(
                raw.get("updates"), f"{where}.updates", "a list of updates", optional=True
            )
        )
    ]
    return ScenarioTask(
        key=key,
        title=title,
        creator=creator,
        created=created,
        owner=owner,
        due=due,
        due_has_time=has_time,
        parent=parent,
        description=description,
        updates=tuple(sorted(updates, key=lambda u: u.at)),
    )


def _update(
    u: Any,
    uw: str,
    tz: ZoneInfo,
    known: dict[str, Person],
    created: datetime,
    span: tuple[datetime, datetime],
) -> Update:
    if not isinstance(u, dict):
        raise ScenarioError(
            uw,
            f"expected a mapping such as {{at: ..., by: ..., progress: 40}}, got {fields.show(u)}",
        )
    fields.known_keys(u, UPDATE_KEYS, uw)
    at = fields.instant(u.get("at"), f"{uw}.at", tz)
    if at < created:
        raise ScenarioError(
            f"{uw}.at", f"is before the task is created ({fields.local(created, tz)})"
        )
    fields.within(at, f"{uw}.at", span, tz)
    by = fields.user(u.get("by"), f"{uw}.by", known)
    changes = {
        **_progress_owner_due(u, uw, tz, known, at),
        **_status(u, uw),
        **_snooze_note(u, uw),
    }
    if not changes:
        raise ScenarioError(
            uw, "changes nothing; give progress, owner, due, status, snooze or note"
        )
    return Update(at, by, changes)


def _progress_owner_due(
    u: dict, uw: str, tz: ZoneInfo, known: dict[str, Person], at: datetime
) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if "progress" in u:
        p = u["progress"]
        if not isinstance(p, int) or isinstance(p, bool):
            raise ScenarioError(
                f"{uw}.progress", f"expected a whole number from 0 to 100, got {fields.show(p)}"
            )
        changes["progress"] = fields.checked(check_progress, p, f"{uw}.progress")
    if "owner" in u:
        changes["owner"] = fields.user(u["owner"], f"{uw}.owner", known)
    if "due" in u:
        due = fields.deadline(u["due"], f"{uw}.due", tz)
        if due[0] < at:
            raise ScenarioError(
                f"{uw}.due", f"is before the update is made ({fields.local(at, tz)})"
            )
        changes["due"] = due
    return changes


def _status(u: dict, uw: str) -> dict[str, Any]:
    """A status, and the reason a blocked one needs (and only a blocked one takes)."""
    changes: dict[str, Any] = {}
    if "status" in u:
        status = u["status"]
        if status not in STATUSES or not isinstance(status, str):
            raise ScenarioError(
                f"{uw}.status", f"expected one of {', '.join(STATUSES)}, got {fields.show(status)}"
            )
        changes["status"] = status
    if "reason" in u:
        if changes.get("status") != "blocked":
            raise ScenarioError(f"{uw}.reason", "goes with status: blocked")
        reason = fields.text(u["reason"], f"{uw}.reason", "what blocks the task")
        if not reason.strip():
            raise ScenarioError(f"{uw}.reason", "is empty; say what blocks the task")
        changes["reason"] = reason
    elif changes.get("status") == "blocked":
        raise ScenarioError(f"{uw}.reason", "missing; a blocked status needs a reason")
    return changes


def _snooze_note(u: dict, uw: str) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if "snooze" in u:
        rule = u["snooze"]
        if not isinstance(rule, str) or rule not in (*RULE_IDS, "blocked"):
            raise ScenarioError(
                f"{uw}.snooze",
                f"expected a rule id ({', '.join(RULE_IDS)}), got {fields.show(rule)}",
            )
        changes["snooze"] = rule
    if "note" in u:
        changes["note"] = fields.text(u["note"], f"{uw}.note", "text")
    return changes


def _check_parents(tasks: list[ScenarioTask], tz: ZoneInfo) -> None:
    """No cycles, no deeper than the task service allows, and a parent exists before its
    subtasks: each of these would otherwise surface halfway through the replay."""
    by_key = {t.key: (i, t) for i, t in enumerate(tasks)}
    for i, task in enumerate(tasks):
        if task.parent is None:
            continue
        where = f"tasks[{i}].parent"
        chain = [task.key]
        cursor = task
        while cursor.parent is not None:
            if cursor.parent in chain:
                loop = " → ".join([*chain[chain.index(cursor.parent) :], cursor.parent])
                raise ScenarioError(where, f"makes a cycle: {loop}")
            chain.append(cursor.parent)
            cursor = by_key[cursor.parent][1]
        if len(chain) > MAX_DEPTH:
            raise ScenarioError(
                where,
                f"subtasks go {MAX_DEPTH} levels deep at most; this is {len(chain)}: "
                + " under ".join(chain),
            )
        parent = by_key[task.parent][1]
        if task.created < parent.created:
            raise ScenarioError(
                f"tasks[{i}].created",
                f"is before its parent {parent.key!r} is created ({fields.local(parent.created, tz)})",
            )
