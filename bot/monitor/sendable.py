"""What delivery passes between its steps: a message ready to send, one Slack accepted, and
the sweep's account of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Sent:
    """One message Slack accepted: the transcript the demo prints and the report counts."""

    at: datetime
    kind: str  # dm, reminder, digest, escalation, thread, edit
    to: str  # a user id, or the managers' channel id
    channel: str
    ts: str
    task_ids: tuple[int, ...]
    rules: tuple[str, ...]
    text: str
    ref_kind: str | None = None  # for an edit or a thread reply: the kind of the message it is on


@dataclass
class DeliveryReport:
    sent: list[Sent] = field(default_factory=list)
    failed: int = 0
    cancelled: int = 0
    deferred: int = 0  # waiting for someone's working hours, their return, or tomorrow
    held: int = 0  # waiting for Slack (429, 5xx) or for a usable managers' channel
    left: int = 0  # due, but over this sweep's budget
    # Found already in Slack (posted before a crash or a lost answer) and recorded, not posted
    # again.
    reconciled: int = 0
    owners_told: bool = False  # a DM went out or was found in Slack: the ladder may step on
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Prepared:
    """A due notification, rendered as of the sweep's `now`, with what sending it needs."""

    note_id: int
    kind: str
    to: str
    text: str
    blocks: list[dict]
    task_ids: tuple[int, ...]
    rules: tuple[str, ...]
    ref_kind: str | None
    ref_channel: str | None
    ref_ts: str | None
    attempts: int
    sending_at: datetime | None = None  # an earlier attempt began then: it may be in Slack
    channel: str | None = None  # where that attempt went
    # Nothing is left to say (its cases resolved), but an earlier attempt may be in Slack: if
    # it is, it is recorded and redrawn to say why it cleared; if not, it is cancelled.
    left_in_slack: bool = False
