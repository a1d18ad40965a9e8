"""What a replay leaves behind: the transcript of every message Slack received (product.md §6),
the warnings and refusals met on the way, and every task as the replay left it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from bot.db import transaction
from bot.models import Event, Task
from bot.monitor.delivery import Sent
from bot.monitor.sweep import SweepReport
from bot.sim.scenario.model import Scenario


@dataclass(frozen=True)
class Message:
    at: datetime
    to: str
    kind: str  # dm, reminder, escalation, digest, update, resolution
    tasks: tuple[str, ...]  # the keys of every task it is about, in the order shown
    rules: tuple[str, ...]
    text: str
    edit: bool = False  # an earlier message changed in place, not a new one (notifies nobody)
    thread: bool = False  # a reply in a thread

    @property
    def task(self) -> str | None:
        """The one task it is about, or None when it is about several."""
        return self.tasks[0] if len(self.tasks) == 1 else None

    def as_json(self) -> dict:
        return {
            "at": self.at.isoformat(),
            "to": self.to,
            "kind": self.kind,
            "task": self.task,
            "tasks": list(self.tasks),
            "rules": list(self.rules),
            "edit": self.edit,
            "thread": self.thread,
            "text": self.text,
        }


@dataclass
class ReplayResult:
    scenario: Scenario
    messages: list[Message] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sweeps: int = 0  # sweeps of simulated time
    swept: int = 0  # of those, the ones that ran: the others had provably nothing to do
    task_ids: dict[str, int] = field(default_factory=dict)
    task_keys: dict[int, str] = field(default_factory=dict)
    final: dict[str, dict] = field(default_factory=dict)
    refused: list[dict] = field(default_factory=list)  # updates refused as Slack would


def transcript_kind(sent: Sent) -> str:
    """The transcript's kind (product.md §6) of what delivery sent."""
    if sent.kind == "edit":
        return "update" if sent.rules else "resolution"
    if sent.kind == "thread":
        return "escalation" if sent.ref_kind == "digest" and sent.rules else "resolution"
    return sent.kind


def record_sent(report: SweepReport, result: ReplayResult, keys: dict[int, str]) -> None:
    """What a sweep sent, as transcript lines naming tasks by their scenario keys."""
    for sent in report.sent:
        result.messages.append(
            Message(
                at=sent.at,
                to=sent.to,
                kind=transcript_kind(sent),
                tasks=tuple(keys.get(t, str(t)) for t in sent.task_ids),
                rules=sent.rules,
                text=sent.text,
                edit=sent.kind == "edit",
                thread=sent.kind == "thread",
            )
        )


def final_state(engine, keys: dict[int, str]) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    """Every task as the replay left it, with its history: enough to recompute the report.
    Read as plain rows: a quarter of a large firm has hundreds of thousands of events."""
    history: dict[int, list[dict]] = {}
    with transaction(engine) as session:
        events = select(Event.task_id, Event.at, Event.actor, Event.kind, Event.old, Event.new)
        for task_id, at, actor, kind, old, new in session.execute(events.order_by(Event.id)):
            history.setdefault(task_id, []).append(
                {"at": at.isoformat(), "by": actor, "kind": kind, "old": old, "new": new}
            )
        tasks = select(
            Task.id,
            Task.title,
            Task.status,
            Task.progress,
            Task.owner_id,
            Task.parent_id,
            Task.block_reason,
            Task.created_at,
            Task.due_at,
            Task.closed_at,
        ).order_by(Task.id)
        return {
            keys.get(row.id, str(row.id)): {
                "id": row.id,
                "title": row.title,
                "status": row.status,
                "progress": row.progress,
                "owner": row.owner_id,
                "parent": keys.get(row.parent_id) if row.parent_id else None,
                "blocked_reason": row.block_reason,
                "created": row.created_at.isoformat(),
                "due": row.due_at.isoformat() if row.due_at else None,
                "closed_at": row.closed_at.isoformat() if row.closed_at else None,
                "history": history.get(row.id, []),
            }
            for row in session.execute(tasks)
        }
