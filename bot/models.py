"""The tables: tasks, their event history, findings, the notification log, a little state, and
the exports uploaded in Slack that wait for their preview's button.

Every datetime column is `UTCDateTime`: aware UTC in and out, whatever the database returns.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, LargeBinary, String, TypeDecorator, text
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
    """One rule firing on one task, from when it fired until it cleared: a fact inside a case."""

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
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    rule: str
    status: str = "open"  # open, resolved
    opened_at: datetime = utc_column(nullable=False)
    resolved_at: datetime | None = utc_column()
    facts: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Case(SQLModel, table=True):
    """Everything currently wrong with one task: the unit of conversation (product.md §4). It
    opens with its task's first finding and resolves with its last; one that opens again within
    `regress_days` of resolving is this case again, "back"."""

    __table_args__ = (
        # At most one open case per task, enforced by the database itself.
        Index(
            "uq_case_open",
            "task_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    status: str = "open"  # open, resolved
    opened_at: datetime = utc_column(nullable=False)
    resolved_at: datetime | None = utc_column()
    back: int = 0  # times it opened again after resolving
    recipient: str | None = None  # who the owner's messages go to (no owner: the creator)
    told_at: datetime | None = utc_column()  # the owner first told (or could not be)
    escalated_at: datetime | None = utc_column()
    reminders: int = 0
    last_reminder_at: datetime | None = utc_column()
    snoozed_until: datetime | None = utc_column()
    owner_away_until: datetime | None = utc_column()  # set when it went to the managers for it
    notes: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The next instant the ladder has something to decide for this case.
    next_action_at: datetime | None = utc_column(index=True)


class Notification(SQLModel, table=True):
    """The outbox: one Slack call to make, decided and stored before it is made, marked sent
    only once Slack said ok. A post (`dm`, `reminder`, `digest`, `escalation`, `thread`) makes a
    Slack message; an `edit` changes the message of `ref_id` to show its cases as they are now.
    Which cases a message shows is in `case_message`."""

    __table_args__ = (
        Index("ix_notification_due", "status", "not_before"),
        # One digest a day, one pending batch per person and kind: decided once.
        Index("uq_notification_key", "key", unique=True),
        Index("ix_notification_place", "channel", "ts"),
    )
    id: int | None = Field(default=None, primary_key=True)
    kind: str  # dm, reminder, digest, escalation, thread, edit
    to: str  # a user id for DMs, "managers" for the managers' channel
    key: str | None = None  # dm:<user>:<n>, reminder:<user>:<day>, digest:<day>, edit:<ref>:<n>
    task_id: int | None = Field(default=None, foreign_key="task.id")  # the one task, if one
    ref_id: int | None = None  # the message an edit or a thread reply refers to
    status: str = "pending"  # pending, sent, failed, cancelled
    decided_at: datetime = utc_column(nullable=False)
    not_before: datetime = utc_column(nullable=False)
    attempts: int = 0
    # A post's last attempt began (wall clock), recorded and committed before Slack is asked,
    # with `channel`: one found pending with it set may be in Slack already (a crash, or an
    # answer lost), and is looked for there before it is sent again.
    sending_at: datetime | None = utc_column()
    sent_at: datetime | None = utc_column()
    channel: str | None = None
    ts: str | None = None
    text: str | None = None
    error: str | None = None


class CaseMessage(SQLModel, table=True):
    """Which cases a message shows (a batched DM or a digest shows several), in order, and
    which of them a DM shows as handed over to someone else."""

    __tablename__ = "case_message"
    notification_id: int = Field(foreign_key="notification.id", primary_key=True)
    case_id: int = Field(foreign_key="case.id", primary_key=True, index=True)
    position: int = 0
    # A DM's, once the case is someone else's: whom it was handed over to. The DM says so and
    # is left alone from then on, even if the case comes back to its reader (told afresh).
    handed_to: str | None = None


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


class ImportPreview(SQLModel, table=True):
    """An export uploaded with `/task import`, between its preview and the click that stores
    it: in the database, so that whichever replica gets the click (or this one after a
    restart) can store it. Gone once stored, or after `expires_at`."""

    __tablename__ = "import_preview"
    key: str = Field(primary_key=True)  # what the preview's button carries
    user_id: str  # who uploaded it: only they may store it
    name: str  # the file's name, which can tell its format
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    expires_at: datetime = utc_column(nullable=False)
