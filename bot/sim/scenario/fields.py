"""One value of a scenario file, checked at its place (`tasks[2].due`): present, of the right
kind, and within what the product allows; each refusal names what was expected there."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import UserError
from bot.sim.scenario.source import ScenarioError, child

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
DURATION = re.compile(r"^(\d+)\s*(s|m|h|d)$")
MIN_SWEEP_EVERY = timedelta(minutes=1)
UTC = ZoneInfo("UTC")
AN_INSTANT = "an ISO-8601 time such as 2026-01-05T09:00"
A_DEADLINE = "a date such as 2026-01-30, or a date and time"


def show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _missing(value: Any) -> bool:
    return value is None


def mapping(value: Any, where: str, expected: str) -> dict:
    if _missing(value):
        raise ScenarioError(where, f"missing; expected {expected}")
    if not isinstance(value, dict):
        raise ScenarioError(where, f"expected {expected}, got {show(value)}")
    return value


def sequence(value: Any, where: str, expected: str, *, optional: bool = False) -> list:
    if _missing(value) and optional:
        return []
    if _missing(value):
        raise ScenarioError(where, f"missing; expected {expected}")
    if not isinstance(value, list):
        raise ScenarioError(where, f"expected {expected}, got {show(value)}")
    return value


def text(value: Any, where: str, expected: str, *, optional: bool = False) -> str | None:
    if _missing(value) and optional:
        return None
    if _missing(value):
        raise ScenarioError(where, f"missing; expected {expected}")
    if not isinstance(value, str):
        raise ScenarioError(where, f"expected {expected}, got {show(value)}")
    return value


def checked(check, value: Any, where: str) -> Any:  # type: ignore[no-untyped-def]
    """`check(value)` from the task service: the same limits, in its words, at this place."""
    try:
        return check(value)
    except UserError as exc:
        raise ScenarioError(where, exc.message) from None


def known_keys(obj: dict, allowed: set[str] | tuple[str, ...], where: str) -> None:
    for key in obj:
        if key not in allowed:
            raise ScenarioError(
                child(where, key), f"unknown key; expected one of {', '.join(sorted(allowed))}"
            )


def zone(value: Any, where: str) -> str:
    name = text(value, where, "an IANA time zone such as Europe/London")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScenarioError(
            where, f"expected an IANA time zone such as Europe/London, got {show(name)}"
        ) from None
    return name


def user(value: Any, where: str, known: dict[str, Any]) -> str:
    if _missing(value):
        raise ScenarioError(where, "missing; expected one of the people's ids")
    if not isinstance(value, str) or value not in known:
        raise ScenarioError(where, f"expected one of the people's ids, got {show(value)}")
    return value


def local(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%dT%H:%M")


def instant(value: Any, where: str, tz: ZoneInfo) -> datetime:
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
            raise ScenarioError(where, f"expected {AN_INSTANT}, got {show(value)}") from None
    else:
        raise ScenarioError(where, f"expected {AN_INSTANT}, got {show(value)}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


def deadline(value: Any, where: str, tz: ZoneInfo) -> tuple[datetime, bool]:
    """A date means the end of that day in the team's zone; a date and time, that instant."""
    if isinstance(value, date) and not isinstance(value, datetime):
        day = value
    elif isinstance(value, str) and len(value) == 10:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise ScenarioError(where, f"expected {A_DEADLINE}, got {show(value)}") from None
    elif isinstance(value, datetime):
        return instant(value, where, tz), True
    elif isinstance(value, str):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise ScenarioError(where, f"expected {A_DEADLINE}, got {show(value)}") from None
        return instant(value, where, tz), True
    else:
        raise ScenarioError(where, f"expected {A_DEADLINE}, got {show(value)}")
    end = datetime.combine(day + timedelta(days=1), time(0), tz)
    return end.astimezone(UTC), False


def duration(value: Any, where: str) -> timedelta:
    match = DURATION.match(str(value).strip()) if isinstance(value, str) else None
    if not match:
        raise ScenarioError(where, f"expected a duration such as 30m or 1h, got {show(value)}")
    n, unit = int(match.group(1)), match.group(2)
    every = timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[unit]: n})
    if every < MIN_SWEEP_EVERY:
        raise ScenarioError(where, f"expected 1m or more, got {show(value)}")
    return every


def within(moment: datetime, where: str, span: tuple[datetime, datetime], tz: ZoneInfo) -> None:
    if moment < span[0]:
        raise ScenarioError(where, f"is before the scenario starts ({local(span[0], tz)})")
    if moment > span[1]:
        raise ScenarioError(where, f"is after the scenario ends ({local(span[1], tz)})")
