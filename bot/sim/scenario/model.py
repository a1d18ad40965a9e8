"""What a scenario is, once read and checked: the firm, its people, their away spells, and
each task with the updates people make to it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.monitor.policy import Policy


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
