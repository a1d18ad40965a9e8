"""The tables: tasks, their event history, findings, the notification log, and a little state.

Every datetime column is `UTCDateTime`: aware UTC in and out, whatever the database returns.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, String, TypeDecorator, text
from sqlmodel import Field, SQLModel

OPEN, BLOCKED, DONE, CANCELLED = "open", "blocked", "done", "cancelled"
LIVE_STATUSES = (OPEN, BLOCKED)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC. SQLite forgets offsets; this puts them back."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; Vigil stores aware UTC only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_column(*, index: bool = False, nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), index=index, nullable=nullable))


class Task(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str
    description: str | None = None
    link: str | None = None
    owner_id: str | None = Field(default=None, index=True)
    creator_id: str
    parent_id: int | None = Field(default=None, foreign_key="task.id", index=True)
    due_at: datetime | None = utc_column()
    due_has_time: bool = False
    progress: int = 0  # the latest report on the task itself (a parent's also comes from subtasks)
    reported_at: datetime | None = utc_column()  # when progress was last reported
    status: str = Field(default=OPEN, index=True)
    block_reason: str | None = None
    created_at: datetime = utc_column(nullable=False)
    updated_at: datetime = utc_column(nullable=False)
    closed_at: datetime | None = utc_column()
    # The stall clock: creation, the last progress change or the last reassignment.
    activity_at: datetime = utc_column(nullable=False)
    # When the monitor must look at this task again; NULL once it is closed and settled.
    next_check_at: datetime | None = utc_column(index=True)
    source_key: str | None = Field(default=None, sa_column=Column(String, unique=True))


class Event(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    at: datetime = utc_column(nullable=False)
    actor: str
    kind: str  # created, progress, owner, due, status, note, snooze
    old: str | None = None
    new: str | None = None
    note: str | None = None


class Finding(SQLModel, table=True):
    __table_args__ = (
        # One open finding per (task, rule), enforced by the database itself.
        Index(
            "uq_finding_open",
            "task_id",
            "rule",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    rule: str
    status: str = "open"  # open, resolved
    opened_at: datetime = utc_column(nullable=False)
    resolved_at: datetime | None = utc_column()
    facts: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    recipient: str | None = None  # who the owner DMs go to
    dm_at: datetime | None = utc_column()  # when the first DM was settled (sent or undeliverable)
    escalated_at: datetime | None = utc_column()
    reminders: int = 0
    last_reminder_at: datetime | None = utc_column()
    snoozed_until: datetime | None = utc_column()
    # The next instant the ladder has something to decide for this finding.
    next_action_at: datetime | None = utc_column(index=True)


class Notification(SQLModel, table=True):
    __table_args__ = (Index("ix_notification_due", "status", "not_before"),)
    id: int | None = Field(default=None, primary_key=True)
    finding_id: int = Field(foreign_key="finding.id", index=True)
    task_id: int = Field(foreign_key="task.id")
    kind: str  # dm, reminder, escalation, update, resolution (thread reply), resolve_edit
    to: str  # a user id for DMs, "managers" for the managers' channel
    ref_id: int | None = None  # the notification a resolve_edit / update / resolution refers to
    status: str = "pending"  # pending, sent, failed, cancelled
    decided_at: datetime = utc_column(nullable=False)
    not_before: datetime = utc_column(nullable=False)
    attempts: int = 0
    sent_at: datetime | None = utc_column()
    channel: str | None = None
    ts: str | None = None
    text: str | None = None
    error: str | None = None


class SlackUser(SQLModel, table=True):
    """What `users.info` (and the `user_change` event) said, cached: the person's time zone,
    whether they left, and whether their status says they are away, since when and until when
    (`away_until` None while away: until the status changes)."""

    id: str = Field(primary_key=True)
    tz: str | None = None
    name: str | None = None
    deleted: bool = False
    fetched_at: datetime = utc_column(nullable=False)
    status: str | None = None  # the status as shown: emoji and text
    away_from: datetime | None = utc_column()
    away_until: datetime | None = utc_column()


class State(SQLModel, table=True):
    """Small named values: the sweep lease, the policy fingerprint, the last sweep, health."""

    key: str = Field(primary_key=True)
    value: str | None = None
    holder: str | None = None
    until: datetime | None = utc_column()
