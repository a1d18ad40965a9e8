"""Scenario files: a firm, its people and tasks, and what they do over time (product.md §6).

`load_scenario` reads YAML or JSON and checks everything before anything runs; a problem is
reported as `ScenarioError` naming where it is (`tasks[2].updates[0].progress`) and what was
expected there.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from bot.calendar import UnknownHolidays, parse_holiday_code
from bot.monitor.policy import RULE_IDS, Policy, PolicyError

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
DURATION = re.compile(r"^(\d+)\s*(s|m|h|d)$")


class _Loader(yaml.SafeLoader):
    """Safe YAML that leaves dates as text, so that a bad date is reported by key, not as
    a bare ValueError from deep inside the YAML library."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class ScenarioError(ValueError):
    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where, self.problem = where, problem


@dataclass(frozen=True)
class Person:
    id: str
    tz: str
    name: str | None = None


@dataclass(frozen=True)
class Update:
    at: datetime
    by: str
    changes: dict[str, Any]  # progress, owner, due, status (+reason), snooze, note


@dataclass(frozen=True)
class ScenarioTask:
    key: str
    title: str
    creator: str
    created: datetime
    owner: str | None = None
    due: datetime | None = None
    due_has_time: bool = False
    parent: str | None = None
    description: str | None = None
    updates: tuple[Update, ...] = ()


@dataclass(frozen=True)
class Scenario:
    name: str
    timezone: str
    holiday_country: str | None
    channel: str
    managers: tuple[str, ...]
    people: tuple[Person, ...]
    start: datetime
    end: datetime
    sweep_every: timedelta
    policy: Policy
    tasks: tuple[ScenarioTask, ...] = field(default=())


def load_scenario(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Scenario:
    path = Path(path)
    try:
        raw_text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(str(path), f"cannot read the file ({exc.strerror})") from None
    try:
        if path.suffix.lower() == ".json":
            raw = json.loads(raw_text)
        else:
            raw = yaml.load(raw_text, Loader=_Loader)  # noqa: S506 (a safe loader)
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"{path}:{exc.lineno}", f"not valid JSON: {exc.msg}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ScenarioError(where, f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    return parse_scenario(raw, name=path.stem, overrides=overrides)


def _need(obj: Any, key: str, where: str, kind: type | tuple[type, ...], expected: str) -> Any:
    if not isinstance(obj, dict) or key not in obj or obj[key] is None:
        raise ScenarioError(f"{where}.{key}".lstrip("."), f"missing; expected {expected}")
    value = obj[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ScenarioError(f"{where}.{key}".lstrip("."), f"expected {expected}, got {value!r}")
    return value


def _known_keys(obj: dict, allowed: set[str], where: str) -> None:
    for key in obj:
        if key not in allowed:
            raise ScenarioError(
                f"{where}.{key}".lstrip("."),
                f"unknown key; expected one of {', '.join(sorted(allowed))}",
            )


def parse_scenario(
    raw: Any, *, name: str = "scenario", overrides: list[str] | tuple[str, ...] = ()
) -> Scenario:
    if not isinstance(raw, dict):
        raise ScenarioError("(top)", "expected a mapping with team, people, start, end, tasks")
    _known_keys(
        raw, {"team", "people", "start", "end", "sweep_every", "policy", "tasks", "name"}, ""
    )
    team = _need(raw, "team", "", dict, "a mapping: {timezone, holidays, channel, managers}")
    _known_keys(team, {"timezone", "holidays", "channel", "managers"}, "team")
    tz_name = team.get("timezone", "UTC")
    try:
        tz = ZoneInfo(str(tz_name))
    except (ZoneInfoNotFoundError, ValueError):
        raise ScenarioError(
            "team.timezone", f"expected an IANA time zone such as Europe/London, got {tz_name!r}"
        ) from None
    country = team.get("holidays")
    if country is not None:
        try:
            country = parse_holiday_code(str(country))
        except UnknownHolidays as exc:
            raise ScenarioError("team.holidays", str(exc)) from None
    channel = _need(team, "channel", "team", str, "a channel id such as CMANAGERS")
    if not CHANNEL_ID.match(channel):
        raise ScenarioError(
            "team.channel", f"expected a channel id such as CMANAGERS, got {channel!r}"
        )
    managers = team.get("managers", []) or []
    if not isinstance(managers, list):
        raise ScenarioError("team.managers", "expected a list of user ids")

    people_raw = _need(raw, "people", "", list, "a list of {id, tz}")
    people: list[Person] = []
    for i, p in enumerate(people_raw):
        where = f"people[{i}]"
        pid = _need(p, "id", where, str, "a user id such as UDANA")
        if not USER_ID.match(pid):
            raise ScenarioError(f"{where}.id", f"expected a user id such as UDANA, got {pid!r}")
        _known_keys(p, {"id", "tz", "name"}, where)
        ptz = str(p.get("tz") or tz_name)
        try:
            ZoneInfo(ptz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ScenarioError(f"{where}.tz", f"expected an IANA time zone, got {ptz!r}") from None
        people.append(Person(pid, ptz, p.get("name")))
    known = {p.id for p in people}
    for i, m in enumerate(managers):
        if m not in known:
            raise ScenarioError(f"team.managers[{i}]", f"{m!r} is not in people")

    start = _instant(raw.get("start"), "start", tz)
    end = _instant(raw.get("end"), "end", tz)
    if end <= start:
        raise ScenarioError("end", "must be after start")
    every = _duration(raw.get("sweep_every", "30m"), "sweep_every")

    policy_raw = raw.get("policy") or {}
    if not isinstance(policy_raw, dict):
        raise ScenarioError("policy", "expected a mapping such as {stall_days: 3}")
    pairs = [f"{k}={','.join(v) if isinstance(v, list) else v}" for k, v in policy_raw.items()]
    try:
        policy = Policy().with_overrides(pairs).with_overrides(list(overrides))
    except PolicyError as exc:
        raise ScenarioError("policy", str(exc)) from None

    tasks_raw = _need(raw, "tasks", "", list, "a list of tasks")
    keys = {
        t.get("key") for t in tasks_raw if isinstance(t, dict) and isinstance(t.get("key"), str)
    }
    tasks = [_task(t, f"tasks[{i}]", tz, known, keys, start, end) for i, t in enumerate(tasks_raw)]
    seen: set[str] = set()
    for i, t in enumerate(tasks):
        if t.key in seen:
            raise ScenarioError(f"tasks[{i}].key", f"{t.key!r} is used twice")
        seen.add(t.key)
    return Scenario(
        name=str(raw.get("name") or name),
        timezone=str(tz_name),
        holiday_country=country,
        channel=channel,
        managers=tuple(managers),
        people=tuple(people),
        start=start,
        end=end,
        sweep_every=every,
        policy=policy,
        tasks=tuple(tasks),
    )


def _instant(value: Any, where: str, tz: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time(0))
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ScenarioError(
                where, f"expected an ISO-8601 time such as 2026-01-05T09:00, got {value!r}"
            ) from None
    else:
        raise ScenarioError(
            where, f"expected an ISO-8601 time such as 2026-01-05T09:00, got {value!r}"
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(ZoneInfo("UTC"))


def _deadline(value: Any, where: str, tz: ZoneInfo) -> tuple[datetime, bool]:
    """A date means the end of that day in the team's zone; a date and time, that instant."""
    if isinstance(value, date) and not isinstance(value, datetime):
        day = value
    elif isinstance(value, str) and len(value) == 10:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise ScenarioError(
                where, f"expected a date such as 2026-01-30, got {value!r}"
            ) from None
    else:
        return _instant(value, where, tz), True
    end = datetime.combine(day + timedelta(days=1), time(0), tz)
    return end.astimezone(ZoneInfo("UTC")), False


def _duration(value: Any, where: str) -> timedelta:
    match = DURATION.match(str(value).strip())
    if not match:
        raise ScenarioError(where, f"expected a duration such as 30m, 1h or 15s, got {value!r}")
    n, unit = int(match.group(1)), match.group(2)
    if n <= 0:
        raise ScenarioError(where, "must be more than zero")
    return timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[unit]: n})


def _user(value: Any, where: str, known: set[str]) -> str:
    if not isinstance(value, str) or value not in known:
        raise ScenarioError(where, f"expected one of the people's ids, got {value!r}")
    return value


TASK_KEYS = {
    "key",
    "title",
    "owner",
    "creator",
    "created",
    "due",
    "parent",
    "description",
    "updates",
}
UPDATE_KEYS = {"at", "by", "progress", "owner", "due", "status", "reason", "snooze", "note"}
STATUSES = {"open", "blocked", "done", "cancelled"}


def _task(
    raw: Any,
    where: str,
    tz: ZoneInfo,
    known: set[str],
    keys: set[str],
    start: datetime,
    end: datetime,
) -> ScenarioTask:
    if not isinstance(raw, dict):
        raise ScenarioError(where, "expected a mapping with key, title, creator, created")
    _known_keys(raw, TASK_KEYS, where)
    key = _need(raw, "key", where, str, "a short name for the task, such as filing")
    title = _need(raw, "title", where, str, "the task's title")
    creator = _user(raw.get("creator"), f"{where}.creator", known)
    created = _instant(raw.get("created"), f"{where}.created", tz)
    owner = None if raw.get("owner") is None else _user(raw["owner"], f"{where}.owner", known)
    due, has_time = (None, False)
    if raw.get("due") is not None:
        due, has_time = _deadline(raw["due"], f"{where}.due", tz)
    parent = raw.get("parent")
    if parent is not None and (parent not in keys or parent == key):
        raise ScenarioError(f"{where}.parent", f"expected another task's key, got {parent!r}")
    updates = []
    for j, u in enumerate(raw.get("updates") or []):
        uw = f"{where}.updates[{j}]"
        if not isinstance(u, dict):
            raise ScenarioError(uw, "expected a mapping such as {at: ..., by: ..., progress: 40}")
        _known_keys(u, UPDATE_KEYS, uw)
        at = _instant(u.get("at"), f"{uw}.at", tz)
        if at < created:
            raise ScenarioError(f"{uw}.at", "is before the task was created")
        by = _user(u.get("by"), f"{uw}.by", known)
        changes: dict[str, Any] = {}
        if "progress" in u:
            p = u["progress"]
            if not isinstance(p, int) or isinstance(p, bool) or not 0 <= p <= 100:
                raise ScenarioError(
                    f"{uw}.progress", f"expected a whole number from 0 to 100, got {p!r}"
                )
            changes["progress"] = p
        if "owner" in u:
            changes["owner"] = _user(u["owner"], f"{uw}.owner", known)
        if "due" in u:
            changes["due"] = _deadline(u["due"], f"{uw}.due", tz)
        if "status" in u:
            status = u["status"]
            if status not in STATUSES:
                raise ScenarioError(
                    f"{uw}.status", f"expected one of {', '.join(sorted(STATUSES))}, got {status!r}"
                )
            if status == "blocked" and not u.get("reason"):
                raise ScenarioError(f"{uw}.reason", "a blocked status needs a reason")
            changes["status"] = status
            changes["reason"] = u.get("reason")
        if "snooze" in u:
            if u["snooze"] not in (*RULE_IDS, "blocked"):
                raise ScenarioError(
                    f"{uw}.snooze",
                    f"expected a rule id ({', '.join(RULE_IDS)}), got {u['snooze']!r}",
                )
            changes["snooze"] = u["snooze"]
        if "note" in u:
            changes["note"] = str(u["note"])
        if not changes:
            raise ScenarioError(
                uw, "changes nothing; give progress, owner, due, status, snooze or note"
            )
        updates.append(Update(at, by, changes))
    return ScenarioTask(
        key=key,
        title=title,
        creator=creator,
        created=created,
        owner=owner,
        due=due,
        due_has_time=has_time,
        parent=parent,
        description=raw.get("description"),
        updates=tuple(sorted(updates, key=lambda u: u.at)),
    )
