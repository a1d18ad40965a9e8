"""Scenario files: a firm, its people and tasks, and what they do over time (product.md §6).

`load_scenario` reads YAML or JSON and checks everything that can be known before anything
runs; a problem is reported as `ScenarioError` naming the file, the line, the place
(`tasks[2].updates[0].progress`) and what was expected there. What depends on how the replay
unfolds (a snooze with no alert open, progress on a task already done) is left to the replay,
which reports it as a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.calendar import UnknownHolidays, parse_holiday_code
from bot.errors import UserError
from bot.monitor.policy import Policy, PolicyError
from bot.monitor.rulebook import RULE_IDS
from bot.sim.source import ScenarioError, child, read_source
from bot.tasks import MAX_DEPTH, check_description, check_progress, check_title

__all__ = ["Away", "Person", "Scenario", "ScenarioError", "ScenarioTask", "Update", "load_scenario"]

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
DURATION = re.compile(r"^(\d+)\s*(s|m|h|d)$")
MIN_SWEEP_EVERY = timedelta(minutes=1)
MAX_SWEEPS = 100_000
UTC = ZoneInfo("UTC")
AN_INSTANT = "an ISO-8601 time such as 2026-01-05T09:00"
A_DEADLINE = "a date such as 2026-01-30, or a date and time"


@dataclass(frozen=True)
class Away:
    """A Slack status that says the person is away, set at `start` and expiring at `until`."""

    start: datetime
    until: datetime
    emoji: str = ""
    text: str = ""


@dataclass(frozen=True)
class Person:
    id: str
    tz: str
    name: str | None = None
    away: tuple[Away, ...] = ()


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
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise ScenarioError("", f"cannot read the file ({why})", source=str(path)) from None
    try:
        source = read_source(text, is_json=path.suffix.lower() == ".json")
    except ScenarioError as exc:
        raise exc.located(str(path), None) from None
    try:
        return parse_scenario(source.data, name=path.stem, overrides=overrides)
    except ScenarioError as exc:
        raise exc.located(str(path), source.line_of(exc.where)) from None


# -- small checks --------------------------------------------------------------------------
def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _missing(value: Any) -> bool:
    return value is None


def _mapping(value: Any, where: str, expected: str) -> dict:
    if _missing(value):
        raise ScenarioError(where, f"missing; expected {expected}")
    if not isinstance(value, dict):
        raise ScenarioError(where, f"expected {expected}, got {_show(value)}")
    return value


def _list(value: Any, where: str, expected: str, *, optional: bool = False) -> list:
    if _missing(value) and optional:
        return []
    if _missing(value):
        raise ScenarioError(where, f"missing; expected {expected}")
    if not isinstance(value, list):
        raise ScenarioError(where, f"expected {expected}, got {_show(value)}")
    return value


def _text(value: Any, where: str, expected: str, *, optional: bool = False) -> str | None:
    if _missing(value) and optional:
        return None
    if _missing(value):
        raise ScenarioError(where, f"missing; expected {expected}")
    if not isinstance(value, str):
        raise ScenarioError(where, f"expected {expected}, got {_show(value)}")
    return value


def _checked(check, value: Any, where: str) -> Any:  # type: ignore[no-untyped-def]
    """`check(value)` from the task service: the same limits, in its words, at this place."""
    try:
        return check(value)
    except UserError as exc:
        raise ScenarioError(where, exc.message) from None


def _known_keys(obj: dict, allowed: set[str] | tuple[str, ...], where: str) -> None:
    for key in obj:
        if key not in allowed:
            raise ScenarioError(
                child(where, key), f"unknown key; expected one of {', '.join(sorted(allowed))}"
            )


def _zone(value: Any, where: str) -> str:
    name = _text(value, where, "an IANA time zone such as Europe/London")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScenarioError(
            where, f"expected an IANA time zone such as Europe/London, got {_show(name)}"
        ) from None
    return name


def _user(value: Any, where: str, known: dict[str, Any]) -> str:
    if _missing(value):
        raise ScenarioError(where, "missing; expected one of the people's ids")
    if not isinstance(value, str) or value not in known:
        raise ScenarioError(where, f"expected one of the people's ids, got {_show(value)}")
    return value


def _local(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%dT%H:%M")


def _instant(value: Any, where: str, tz: ZoneInfo) -> datetime:
    if _missing(value):
        raise ScenarioError(where, f"missing; expected {AN_INSTANT}")
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time(0))
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ScenarioError(where, f"expected {AN_INSTANT}, got {_show(value)}") from None
    else:
        raise ScenarioError(where, f"expected {AN_INSTANT}, got {_show(value)}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


def _deadline(value: Any, where: str, tz: ZoneInfo) -> tuple[datetime, bool]:
    """A date means the end of that day in the team's zone; a date and time, that instant."""
    if isinstance(value, date) and not isinstance(value, datetime):
        day = value
    elif isinstance(value, str) and len(value) == 10:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise ScenarioError(where, f"expected {A_DEADLINE}, got {_show(value)}") from None
    elif isinstance(value, datetime):
        return _instant(value, where, tz), True
    elif isinstance(value, str):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise ScenarioError(where, f"expected {A_DEADLINE}, got {_show(value)}") from None
        return _instant(value, where, tz), True
    else:
        raise ScenarioError(where, f"expected {A_DEADLINE}, got {_show(value)}")
    end = datetime.combine(day + timedelta(days=1), time(0), tz)
    return end.astimezone(UTC), False


def _duration(value: Any, where: str) -> timedelta:
    match = DURATION.match(str(value).strip()) if isinstance(value, str) else None
    if not match:
        raise ScenarioError(where, f"expected a duration such as 30m or 1h, got {_show(value)}")
    n, unit = int(match.group(1)), match.group(2)
    every = timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[unit]: n})
    if every < MIN_SWEEP_EVERY:
        raise ScenarioError(where, f"expected 1m or more, got {_show(value)}")
    return every


# -- the scenario --------------------------------------------------------------------------
TOP_KEYS = ("team", "people", "start", "end", "sweep_every", "policy", "tasks", "name")
TEAM_KEYS = ("timezone", "holidays", "channel", "managers")
PERSON_KEYS = ("id", "tz", "name", "away")
AWAY_KEYS = ("from", "until", "emoji", "text")


def parse_scenario(
    raw: Any, *, name: str = "scenario", overrides: list[str] | tuple[str, ...] = ()
) -> Scenario:
    if not isinstance(raw, dict):
        raise ScenarioError("", "expected a mapping with team, people, start, end and tasks")
    _known_keys(raw, TOP_KEYS, "")
    team = _mapping(raw.get("team"), "team", "a mapping {timezone, holidays, channel, managers}")
    _known_keys(team, TEAM_KEYS, "team")
    tz_name = _zone(team.get("timezone", "UTC"), "team.timezone")
    tz = ZoneInfo(tz_name)
    country = team.get("holidays")
    if country is not None:
        try:
            country = parse_holiday_code(
                _text(country, "team.holidays", "a country code such as GB or GB-ENG")
            )
        except UnknownHolidays as exc:
            raise ScenarioError("team.holidays", str(exc)) from None
    channel = _text(team.get("channel"), "team.channel", "a channel id such as CMANAGERS")
    if not CHANNEL_ID.match(channel):
        raise ScenarioError(
            "team.channel", f"expected a channel id such as CMANAGERS, got {_show(channel)}"
        )

    start = _instant(raw.get("start"), "start", tz)
    end = _instant(raw.get("end"), "end", tz)
    if end <= start:
        raise ScenarioError("end", "must be after start")
    people = _people(raw.get("people"), tz_name, (start, end))
    known = {p.id: p for p in people}
    managers = _list(
        team.get("managers"), "team.managers", "a list of user ids such as [UMARCUS]", optional=True
    )
    for i, m in enumerate(managers):
        if not isinstance(m, str) or not USER_ID.match(m):
            raise ScenarioError(
                f"team.managers[{i}]", f"expected a user id such as UMARCUS, got {_show(m)}"
            )
        if m not in known:
            raise ScenarioError(f"team.managers[{i}]", f"{m!r} is not in people")

    every = _duration(raw.get("sweep_every", "30m"), "sweep_every")
    sweeps = (end - start) // every + 1
    if sweeps > MAX_SWEEPS:
        raise ScenarioError(
            "sweep_every",
            f"a sweep every {raw.get('sweep_every', '30m')} from start to end makes {sweeps:,} "
            f"sweeps; at most {MAX_SWEEPS:,}: choose a longer interval",
        )
    policy = _policy(raw.get("policy"), overrides)

    tasks_raw = _list(raw.get("tasks"), "tasks", "a list of tasks")
    first_use: dict[str, int] = {}
    for i, t in enumerate(tasks_raw):
        if not isinstance(t, dict):
            raise ScenarioError(
                f"tasks[{i}]",
                f"expected a mapping {{key, title, creator, created}}, got {_show(t)}",
            )
        key = _text(t.get("key"), f"tasks[{i}].key", "a short name for the task, such as filing")
        if key in first_use:
            raise ScenarioError(
                f"tasks[{i}].key", f"{key!r} is used twice (also by tasks[{first_use[key]}])"
            )
        first_use[key] = i
    span = (start, end)
    tasks = [_task(t, f"tasks[{i}]", tz, known, first_use, span) for i, t in enumerate(tasks_raw)]
    _check_parents(tasks, tz)
    return Scenario(
        name=_text(raw.get("name"), "name", "a name for the scenario", optional=True) or name,
        timezone=tz_name,
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


def _people(value: Any, team_tz: str, span: tuple[datetime, datetime]) -> list[Person]:
    people: list[Person] = []
    seen: dict[str, int] = {}
    for i, p in enumerate(
        _list(value, "people", "a list such as [{id: UDANA, tz: Europe/London}]")
    ):
        where = f"people[{i}]"
        if not isinstance(p, dict):
            raise ScenarioError(where, f"expected a mapping {{id, tz}}, got {_show(p)}")
        _known_keys(p, PERSON_KEYS, where)
        pid = _text(p.get("id"), f"{where}.id", "a user id such as UDANA")
        if not USER_ID.match(pid):
            raise ScenarioError(
                f"{where}.id", f"expected a user id such as UDANA, got {_show(pid)}"
            )
        if pid in seen:
            raise ScenarioError(
                f"{where}.id", f"{pid!r} is listed twice (also people[{seen[pid]}])"
            )
        seen[pid] = i
        tz = _zone(p["tz"], f"{where}.tz") if p.get("tz") is not None else team_tz
        name = _text(p.get("name"), f"{where}.name", "a display name", optional=True)
        away = _away(p.get("away"), f"{where}.away", ZoneInfo(team_tz), span)
        people.append(Person(pid, tz, name, away))
    return people


def _away(value: Any, where: str, tz: ZoneInfo, span: tuple[datetime, datetime]) -> tuple:
    """When a person's Slack status says they are away: from when, until when, and the
    status itself (an emoji such as :palm_tree:, a text such as Vacation, or both)."""
    spells: list[Away] = []
    expected = "a list such as [{from: 2026-02-09T00:00, until: 2026-02-16T00:00, text: Vacation}]"
    for i, a in enumerate(_list(value, where, expected, optional=True)):
        aw = f"{where}[{i}]"
        if not isinstance(a, dict):
            raise ScenarioError(
                aw, f"expected a mapping {{from, until, emoji, text}}, got {_show(a)}"
            )
        _known_keys(a, AWAY_KEYS, aw)
        start = _instant(a.get("from"), f"{aw}.from", tz)
        _within(start, f"{aw}.from", span, tz)
        until = _instant(a.get("until"), f"{aw}.until", tz)
        if until <= start:
            raise ScenarioError(f"{aw}.until", f"must be after from ({_local(start, tz)})")
        emoji = _text(a.get("emoji"), f"{aw}.emoji", "an emoji such as :palm_tree:", optional=True)
        if emoji and not re.fullmatch(r":[a-z0-9_+\-]+:", emoji):
            raise ScenarioError(
                f"{aw}.emoji", f"expected an emoji such as :palm_tree:, got {_show(emoji)}"
            )
        text = _text(a.get("text"), f"{aw}.text", "a status text such as Vacation", optional=True)
        if not (emoji or (text and text.strip())):
            raise ScenarioError(
                aw,
                "says nothing; give an emoji such as :palm_tree:, a text such as Vacation, or both",
            )
        for j, other in enumerate(spells):
            if start < other.until and other.start < until:
                raise ScenarioError(f"{aw}.from", f"overlaps {where}[{j}]")
        spells.append(Away(start, until, emoji or "", text or ""))
    return tuple(spells)


def _policy(value: Any, overrides: list[str] | tuple[str, ...]) -> Policy:
    raw = (
        _mapping(value, "policy", "a mapping such as {stall_days: 3}") if value is not None else {}
    )
    policy = Policy()
    for key, v in raw.items():
        where = child("policy", key)
        if isinstance(v, list) and all(isinstance(x, str) for x in v):
            text = ",".join(v)
        elif isinstance(v, str | int) and not isinstance(v, bool):
            text = str(v)
        else:
            raise ScenarioError(where, f"expected a number or text such as 3, got {_show(v)}")
        try:
            policy = policy.with_overrides([f"{key}={text}"])
        except PolicyError as exc:
            raise ScenarioError(where, str(exc)) from None
    try:
        return policy.with_overrides(list(overrides))
    except PolicyError as exc:
        raise ScenarioError("policy", str(exc)) from None


# -- tasks ---------------------------------------------------------------------------------
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


def _task(
    raw: dict,
    where: str,
    tz: ZoneInfo,
    known: dict[str, Person],
    keys: dict[str, int],
    span: tuple[datetime, datetime],
) -> ScenarioTask:
    _known_keys(raw, TASK_KEYS, where)
    key = raw["key"]
    title = _checked(
        check_title, _text(raw.get("title"), f"{where}.title", "the task's title"), f"{where}.title"
    )
    description = _checked(
        check_description,
        _text(raw.get("description"), f"{where}.description", "text", optional=True),
        f"{where}.description",
    )
    creator = _user(raw.get("creator"), f"{where}.creator", known)
    created = _instant(raw.get("created"), f"{where}.created", tz)
    _within(created, f"{where}.created", span, tz)
    owner = None if raw.get("owner") is None else _user(raw["owner"], f"{where}.owner", known)
    due, has_time = None, False
    if raw.get("due") is not None:
        due, has_time = _deadline(raw["due"], f"{where}.due", tz)
        if due < created:
            raise ScenarioError(
                f"{where}.due", f"is before the task is created ({_local(created, tz)})"
            )
    parent = raw.get("parent")
    if parent is not None and (not isinstance(parent, str) or parent not in keys or parent == key):
        raise ScenarioError(f"{where}.parent", f"expected another task's key, got {_show(parent)}")
    updates = [
        _update(u, f"{where}.updates[{j}]", tz, known, created, span)
        for j, u in enumerate(
            _list(raw.get("updates"), f"{where}.updates", "a list of updates", optional=True)
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


def _within(moment: datetime, where: str, span: tuple[datetime, datetime], tz: ZoneInfo) -> None:
    if moment < span[0]:
        raise ScenarioError(where, f"is before the scenario starts ({_local(span[0], tz)})")
    if moment > span[1]:
        raise ScenarioError(where, f"is after the scenario ends ({_local(span[1], tz)})")


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
            uw, f"expected a mapping such as {{at: ..., by: ..., progress: 40}}, got {_show(u)}"
        )
    _known_keys(u, UPDATE_KEYS, uw)
    at = _instant(u.get("at"), f"{uw}.at", tz)
    if at < created:
        raise ScenarioError(f"{uw}.at", f"is before the task is created ({_local(created, tz)})")
    _within(at, f"{uw}.at", span, tz)
    by = _user(u.get("by"), f"{uw}.by", known)
    changes: dict[str, Any] = {}
    if "progress" in u:
        p = u["progress"]
        if not isinstance(p, int) or isinstance(p, bool):
            raise ScenarioError(
                f"{uw}.progress", f"expected a whole number from 0 to 100, got {_show(p)}"
            )
        changes["progress"] = _checked(check_progress, p, f"{uw}.progress")
    if "owner" in u:
        changes["owner"] = _user(u["owner"], f"{uw}.owner", known)
    if "due" in u:
        due = _deadline(u["due"], f"{uw}.due", tz)
        if due[0] < at:
            raise ScenarioError(f"{uw}.due", f"is before the update is made ({_local(at, tz)})")
        changes["due"] = due
    if "status" in u:
        status = u["status"]
        if status not in STATUSES or not isinstance(status, str):
            raise ScenarioError(
                f"{uw}.status", f"expected one of {', '.join(STATUSES)}, got {_show(status)}"
            )
        changes["status"] = status
    if "reason" in u:
        if changes.get("status") != "blocked":
            raise ScenarioError(f"{uw}.reason", "goes with status: blocked")
        reason = _text(u["reason"], f"{uw}.reason", "what blocks the task")
        if not reason.strip():
            raise ScenarioError(f"{uw}.reason", "is empty; say what blocks the task")
        changes["reason"] = reason
    elif changes.get("status") == "blocked":
        raise ScenarioError(f"{uw}.reason", "missing; a blocked status needs a reason")
    if "snooze" in u:
        rule = u["snooze"]
        if not isinstance(rule, str) or rule not in (*RULE_IDS, "blocked"):
            raise ScenarioError(
                f"{uw}.snooze", f"expected a rule id ({', '.join(RULE_IDS)}), got {_show(rule)}"
            )
        changes["snooze"] = rule
    if "note" in u:
        changes["note"] = _text(u["note"], f"{uw}.note", "text")
    if not changes:
        raise ScenarioError(
            uw, "changes nothing; give progress, owner, due, status, snooze or note"
        )
    return Update(at, by, changes)


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
                f"is before its parent {parent.key!r} is created ({_local(parent.created, tz)})",
            )
