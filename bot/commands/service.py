"""What the Slack surface does to tasks: one function per command, each owning its
transaction, checking who may change what, and returning the reply to show.

Handlers stay thin: parse, call one function here (in a worker thread: the database must not
block the event loop that acks Slack), send what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot import tasks as taskops
from bot.commands import replies
from bot.commands.context import Context
from bot.commands.grammar import Command, UsageError
from bot.db import reading, transaction
from bot.models import Finding, Task
from bot.monitor import ladder
from bot.monitor.alerts import task_view
from bot.monitor.rules import evaluate


class Refused(Exception):
    """The user may not do this; the message says who may."""


@dataclass
class Reply:
    text: str
    blocks: list[dict] | None = None
    public: bool = False
    # Whose App Home shows something that changed: republished after the reply.
    touched: set[str] = field(default_factory=set)
    task_id: int | None = None


def _check_may_change(ctx: Context, task: Task, user: str) -> None:
    if not taskops.may_change(task, user, ctx.managers):
        raise Refused(
            f"Only the owner, the creator or a manager can change #{task.id}; "
            f"ask <@{task.owner_id or task.creator_id}>."
        )


def _people(task: Task) -> set[str]:
    return {u for u in (task.owner_id, task.creator_id) if u}


def early_findings(session: Session, ctx: Context, task: Task, now: datetime) -> list[str]:
    """What the rules already see of a new task, so its creator learns it in the same reply."""
    fired, _ = evaluate(task_view(session, task), now, ctx.monitor.policy, ctx.cal)
    return [
        r
        for r in ("missing_owner", "missing_deadline", "deadline_conflict", "overdue")
        if r in fired
    ]


# Verbs that only read: they work on a snapshot and never wait for a sweep that is writing.
READS = frozenset({"show", "list", "team", "help"})


def run(
    ctx: Context, cmd: Command, user: str, *, key: str | None = None, link: str | None = None
) -> Reply:
    """Carry out a parsed command for `user`. Raises UsageError, TaskError or Refused before
    anything is stored."""
    now = ctx.clock()
    if cmd.verb not in READS:
        with transaction(ctx.engine) as session:
            if cmd.verb == "add":
                return _add(session, ctx, cmd, user, now, key, link)
            return _change(session, ctx, cmd, user, now)
    with reading(ctx.engine) as session:
        if cmd.verb == "show":
            return replies.build_task_card(
                session, ctx, taskops.get_task(session, cmd.task_id), now
            )
        if cmd.verb == "list":
            return Reply(*replies.build_my_list(session, ctx, user, now, cmd.page))
        if cmd.verb == "team":
            if not ctx.is_manager(user):
                raise Refused("`/task team` is for managers; `/task list` shows your own tasks.")
            return Reply(*replies.build_team(session, ctx, now, cmd.page))
        return Reply(*replies.build_help())


def _add(
    session: Session,
    ctx: Context,
    cmd: Command,
    user: str,
    now: datetime,
    key: str | None,
    link: str | None = None,
) -> Reply:
    if key:
        existing = _made_by(session, key)
        if existing is not None:  # the same request again (a retry, a double submit)
            return replies.created(session, ctx, existing, [], again=True)
    if cmd.parent_id is not None:
        taskops.get_task(session, cmd.parent_id)
    try:
        # A retry arriving while the first is still being stored passes the check above (on
        # PostgreSQL, which does not serialize writers up front): the key's unique index
        # makes it wait for the first, and then refuse it; that is the task it was making.
        with session.begin_nested():
            task = taskops.create_task(
                session,
                title=cmd.title or "",
                creator=user,
                owner=cmd.owner,
                due_at=cmd.due.at if cmd.due else None,
                due_has_time=bool(cmd.due and cmd.due.has_time),
                parent_id=cmd.parent_id,
                description=cmd.text,
                link=link,
                now=now,
                source_key=key,
            )
    except IntegrityError:
        existing = _made_by(session, key) if key else None
        if existing is None:
            raise
        return replies.created(session, ctx, existing, [], again=True)
    reply = replies.created(session, ctx, task, early_findings(session, ctx, task, now))
    reply.touched |= _people(task)
    return reply


def _made_by(session: Session, key: str) -> Task | None:
    return session.execute(select(Task).where(Task.source_key == key)).scalar_one_or_none()


def _change(session: Session, ctx: Context, cmd: Command, user: str, now: datetime) -> Reply:
    task = taskops.get_task(session, cmd.task_id)
    _check_may_change(ctx, task, user)
    before = _people(task)
    verb, tid = cmd.verb, task.id
    if verb == "progress":
        old = task.progress
        taskops.set_progress(session, tid, cmd.progress, by=user, now=now, note=cmd.text)
        what = f"progress {old}% → {cmd.progress}%" + (" · done" if cmd.progress == 100 else "")
        if old == cmd.progress and not cmd.text:
            what = f"progress is already {old}%; nothing changed"
    elif verb == "done":
        taskops.complete(session, tid, by=user, now=now)
        what = "marked done"
    elif verb == "cancel":
        taskops.cancel(session, tid, by=user, now=now)
        what = "cancelled"
    elif verb == "block":
        taskops.block(session, tid, cmd.text or "", by=user, now=now)
        what = "blocked; the managers' channel will hear of it at the next sweep"
    elif verb == "unblock":
        taskops.unblock(session, tid, by=user, now=now)
        what = "unblocked"
    elif verb == "assign":
        taskops.assign(session, tid, cmd.owner, by=user, now=now)
        what = f"now owned by <@{cmd.owner}>"
    elif verb == "due":
        taskops.set_due(session, tid, cmd.due.at, by=user, now=now, has_time=cmd.due.has_time)
        what = f"due {replies.due_label(ctx, task)}"
    else:
        raise UsageError(f"`{verb}` is not something /task does.", "/task help")
    reply = replies.changed(session, ctx, task, what, now)
    reply.touched |= before | _people(task)
    return reply


def snooze(ctx: Context, task_id: int, finding_id: int | None, days: int, user: str) -> Reply:
    now = ctx.clock()
    with transaction(ctx.engine) as session:
        task = taskops.get_task(session, task_id)
        _check_may_change(ctx, task, user)
        finding = session.get(Finding, finding_id) if finding_id else None
        if finding is None or finding.task_id != task_id:
            raise taskops.TaskError(f"That alert about #{task_id} is gone; nothing to snooze.")
        held = finding.snoozed_until
        until = ladder.snooze(
            session, finding, days, by=user, now=now, policy=ctx.monitor.policy, cal=ctx.cal
        )
        what = "already snoozed" if until == held else "reminders snoozed"
        return replies.changed(session, ctx, task, f"{what} until {replies.day(ctx, until)}", now)
