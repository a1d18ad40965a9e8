"""Reading a scenario file: the file itself, then the firm (team, people and their away
spells, the span of time, the sweep interval, the policy), then its tasks (`tasks.py`).

`load_scenario` checks everything that can be known before anything runs; a problem is reported
as `ScenarioError` naming the file, the line, the place (`tasks[2].updates[0].progress`) and what
was expected there. What depends on how the replay unfolds (a snooze with no alert open,
progress on a task already done) is left to the replay, which reports it as a warning.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.calendar import UnknownHolidays, parse_holiday_code
from bot.monitor.policy import Policy, PolicyError
from bot.sim.scenario import fields
from bot.sim.scenario.model import Away, Person, Scenario
from bot.sim.scenario.source import ScenarioError, child, read_source
from bot.sim.scenario.tasks import read_tasks

MAX_SWEEPS = 100_000


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
    fields.known_keys(raw, TOP_KEYS, "")
    team = fields.mapping(
        raw.get("team"), "team", "a mapping {timezone, holidays, channel, managers}"
    )
    fields.known_keys(team, TEAM_KEYS, "team")
    tz_name = fields.zone(team.get("timezone", "UTC"), "team.timezone")
    tz = ZoneInfo(tz_name)
    country = _holidays(team.get("holidays"))
    channel = _channel(team.get("channel"))
    start = fields.instant(raw.get("start"), "start", tz)
    end = fields.instant(raw.get("end"), "end", tz)
    if end <= start:
        raise ScenarioError("end", "must be after start")
    people = _people(raw.get("people"), tz_name, (start, end))
    known = {p.id: p for p in people}
    managers = _managers(team.get("managers"), known)
    every = _sweep_every(raw.get("sweep_every", "30m"), start, end)
    policy = _policy(raw.get("policy"), overrides)
    tasks = read_tasks(raw.get("tasks"), tz, known, (start, end))
    return Scenario(
        name=fields.text(raw.get("name"), "name", "a name for the scenario", optional=True) or name,
        timezone=tz_name,
        holiday_country=country,
        channel=channel,
        managers=managers,
        people=tuple(people),
        start=start,
        end=end,
        sweep_every=every,
        policy=policy,
        tasks=tuple(tasks),
    )


def _holidays(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return parse_holiday_code(
            fields.text(value, "team.holidays", "a country code such as GB or GB-ENG")
        )
    except UnknownHolidays as exc:
        raise ScenarioError("team.holidays", str(exc)) from None


def _channel(value: Any) -> str:
    channel = fields.text(value, "team.channel", "a channel id such as CMANAGERS")
    if not fields.CHANNEL_ID.match(channel):
        raise ScenarioError(
            "team.channel", f"expected a channel id such as CMANAGERS, got {fields.show(channel)}"
        )
    return channel


def _managers(value: Any, known: dict[str, Person]) -> tuple[str, ...]:
    managers = fields.sequence(
        value, "team.managers", "a list of user ids such as [UMARCUS]", optional=True
    )
    for i, m in enumerate(managers):
        if not isinstance(m, str) or not fields.USER_ID.match(m):
            raise ScenarioError(
                f"team.managers[{i}]", f"expected a user id such as UMARCUS, got {fields.show(m)}"
            )
        if m not in known:
            raise ScenarioError(f"team.managers[{i}]", f"{m!r} is not in people")
    return tuple(managers)


def _sweep_every(value: Any, start: datetime, end: datetime) -> timedelta:
    every = fields.duration(value, "sweep_every")
    sweeps = (end - start) // every + 1
    if sweeps > MAX_SWEEPS:
        raise ScenarioError(
            "sweep_every",
            f"a sweep every {value} from start to end makes {sweeps:,} "
            f"sweeps; at most {MAX_SWEEPS:,}: choose a longer interval",
        )
    return every


def _people(value: Any, team_tz: str, span: tuple[datetime, datetime]) -> list[Person]:
    people: list[Person] = []
    seen: dict[str, int] = {}
    for i, p in enumerate(
        fields.sequence(value, "people", "a list such as [{id: UDANA, tz: Europe/London}]")
    ):
        where = f"people[{i}]"
        if not isinstance(p, dict):
            raise ScenarioError(where, f"expected a mapping {{id, tz}}, got {fields.show(p)}")
        fields.known_keys(p, PERSON_KEYS, where)
        pid = fields.text(p.get("id"), f"{where}.id", "a user id such as UDANA")
        if not fields.USER_ID.match(pid):
            raise ScenarioError(
                f"{where}.id", f"expected a user id such as UDANA, got {fields.show(pid)}"
            )
        if pid in seen:
            raise ScenarioError(
                f"{where}.id", f"{pid!r} is listed twice (also people[{seen[pid]}])"
            )
        seen[pid] = i
        tz = fields.zone(p["tz"], f"{where}.tz") if p.get("tz") is not None else team_tz
        name = fields.text(p.get("name"), f"{where}.name", "a display name", optional=True)
        away = _away(p.get("away"), f"{where}.away", ZoneInfo(team_tz), span)
        people.append(Person(pid, tz, name, away))
    return people


def _away(value: Any, where: str, tz: ZoneInfo, span: tuple[datetime, datetime]) -> tuple:
    """When a person's Slack status says they are away: from when, until when, and the
    status itself (an emoji such as :palm_tree:, a text such as Vacation, or both)."""
    spells: list[Away] = []
    expected = "a list such as [{from: 2026-02-09T00:00, until: 2026-02-16T00:00, text: Vacation}]"
    for i, a in enumerate(fields.sequence(value, where, expected, optional=True)):
        aw = f"{where}[{i}]"
        if not isinstance(a, dict):
            raise ScenarioError(
                aw, f"expected a mapping {{from, until, emoji, text}}, got {fields.show(a)}"
            )
        fields.known_keys(a, AWAY_KEYS, aw)
        start = fields.instant(a.get("from"), f"{aw}.from", tz)
        fields.within(start, f"{aw}.from", span, tz)
        until = fields.instant(a.get("until"), f"{aw}.until", tz)
        if until <= start:
            raise ScenarioError(f"{aw}.until", f"must be after from ({fields.local(start, tz)})")
        emoji = fields.text(
            a.get("emoji"), f"{aw}.emoji", "an emoji such as :palm_tree:", optional=True
        )
        if emoji and not re.fullmatch(r":[a-z0-9_+\-]+:", emoji):
            raise ScenarioError(
                f"{aw}.emoji", f"expected an emoji such as :palm_tree:, got {fields.show(emoji)}"
            )
        text = fields.text(
            a.get("text"), f"{aw}.text", "a status text such as Vacation", optional=True
        )
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
        fields.mapping(value, "policy", "a mapping such as {stall_days: 3}")
        if value is not None
        else {}
    )
    policy = Policy()
    for key, v in raw.items():
        where = child("policy", key)
        if isinstance(v, list) and all(isinstance(x, str) for x in v):
            text = ",".join(v)
        elif isinstance(v, str | int) and not isinstance(v, bool):
            text = str(v)
        else:
            raise ScenarioError(where, f"expected a number or text such as 3, got {fields.show(v)}")
        try:
            policy = policy.with_overrides([f"{key}={text}"])
        except PolicyError as exc:
            raise ScenarioError(where, str(exc)) from None
    try:
        return policy.with_overrides(list(overrides))
    except PolicyError as exc:
        raise ScenarioError("policy", str(exc)) from None
