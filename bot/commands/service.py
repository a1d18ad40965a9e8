"""What the Slack surface does to tasks: one function per command, each owning its
transaction and returning the reply to show.

Handlers stay thin: parse, call one function here (in a worker thread: the database must not
block the event loop that acks Slack), send what it returns. A change goes through the task
service's one door, `tasks.change_task`, which checks who may make it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot import tasks as taskops
from bot.commands import queries
from bot.commands.context import Context
from bot.commands.grammar import USAGE, Command
from bot.commands.reply import Reply
from bot.commands.views import lists
from bot.commands.views import tasks as task_views
from bot.dates import Deadline
from bot.db import reading, transaction
from bot.errors import Refused, UserError
from bot.models import BLOCKED, CANCELLED, DONE, OPEN, Task
from bot.monitor import ladder
from bot.monitor.alerts import task_view
from bot.monitor.rulebook import RULEBOOK
from bot.monitor.rules import evaluate


def _people(task: Task) -> set[str]:
    return {u for u in (task.owner_id, task.creator_id) if u}


def early_findings(session: Session, ctx: Context, task: Task, now: datetime) -> list[str]:
    """What the rules already see of a new task, so its creator learns it in the same reply."""
    fired, _ = evaluate(task_view(session, task, ctx.cal), now, ctx.monitor.policy, ctx.cal)
    return [r for r, facts in RULEBOOK.items() if facts.seen_on_creation and r in fired]


# Verbs that only read: they work on a snapshot and never wait for a sweep that is writing.
READS = frozenset({"show", "list", "team", "help"})


def run(
    ctx: Context, cmd: Command, user: str, *, key: str | None = None, link: str | None = None
) -> Reply:
    """Carry out a parsed command for `user`. Raises UserError (Refused: not theirs to change)
    before anything is stored."""
    now = ctx.clock()
    if cmd.verb == "add":
        with transaction(ctx.engine) as session:
            return _add(session, ctx, cmd, user, now, key, link)
    if cmd.verb not in READS:
        with transaction(ctx.engine) as session:
            done, touched = _change(session, ctx, cmd, user, now)
        # The reply is read after the change is committed: the write lock is held for the
        # change alone, not for drawing the card.
        with reading(ctx.engine) as session:
            task = taskops.get_task(session, cmd.task_id)
            reply = _changed(session, ctx, task, ", ".join(done), now)
        reply.touched |= touched
        return reply
    with reading(ctx.engine) as session:
        if cmd.verb == "show":
            return _card(session, ctx, taskops.get_task(session, cmd.task_id), now)
        if cmd.verb == "list":
            page = queries.my_summaries(
                session, ctx, user, now, size=lists.LIST_PAGE, number=cmd.page
            )
            return Reply(*lists.build_list(page))
        if cmd.verb == "team":
            if not ctx.is_manager(user):
                raise Refused("`/task team` is for managers; `/task list` shows your own tasks.")
            return Reply(
                *lists.build_team(queries.team_cases(session, ctx, now, number=cmd.page))
            )
        return Reply(*lists.build_help(USAGE))


def _card(session: Session, ctx: Context, task: Task, now: datetime) -> Reply:
    found = queries.open_findings(session, [task.id]).get(task.id, [])
    summary = queries.summarize(session, ctx, task, now, found)
    text, blocks = task_views.build_task_card(
        summary, queries.history(session, task.id), ctx.cal.local_date
    )
    return Reply(text, blocks, task_id=task.id)


def _created(
    session: Session, ctx: Context, task: Task, early: list[str], *, again: bool = False
) -> Reply:
    due = f"due {queries.due_label(ctx, task)}" if task.due_at else None
    text, blocks = task_views.build_created(
        task.id, task.title, task.owner_id, due, task.parent_id, early, again=again
    )
    return Reply(text, blocks, task_id=task.id)


def _changed(session: Session, ctx: Context, task: Task, what: str, now: datetime) -> Reply:
    found = queries.open_findings(session, [task.id]).get(task.id, [])
    summary = queries.summarize(session, ctx, task, now, found)
    return Reply(*task_views.build_changed(summary, what), task_id=task.id)


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
            return _created(session, ctx, existing, [], again=True)
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
        return _created(session, ctx, existing, [], again=True)
    reply = _created(session, ctx, task, early_findings(session, ctx, task, now))
    reply.touched |= _people(task)
    return reply


def _made_by(session: Session, key: str) -> Task | None:
    return session.execute(select(Task).where(Task.source_key == key)).scalar_one_or_none()


def change_of(cmd: Command) -> taskops.Change:
    """The task change a command asks for."""
    verb = cmd.verb
    if verb == "progress":
        return taskops.Change(progress=cmd.progress, note=cmd.text)
    if verb == "assign":
        return taskops.Change(owner=cmd.owner)
    if verb == "due" and cmd.due is not None:
        return taskops.Change(due=(cmd.due.at, cmd.due.has_time))
    status = {"done": DONE, "cancel": CANCELLED, "block": BLOCKED, "unblock": OPEN}.get(verb)
    if status is None:
        raise UserError(f"`{verb}` is not something /task does.", "/task help")
    return taskops.Change(status=status, reason=cmd.text if verb == "block" else None)


def _change(
    session: Session, ctx: Context, cmd: Command, user: str, now: datetime
) -> tuple[list[str], set[str]]:
    """The change itself: what was done, and whose App Home it touched."""
    before = _people(taskops.get_task(session, cmd.task_id))
    task, done = taskops.change_task(
        session,
        cmd.task_id,
        change_of(cmd),
        by=user,
        now=now,
        managers=ctx.managers,
        due_words=deadline_words(ctx, cmd.due) if cmd.due else None,
    )
    return list(done), before | _people(task)


def deadline_words(ctx: Context, due: Deadline) -> str:
    return queries.deadline_label(ctx, due.at, due.has_time)


def snooze(ctx: Context, task_id: int, days: int, user: str) -> Reply:
    """Hold the owner's reminders about the task's open case (whatever message the button was
    on, old or new: the task is what it names)."""
    now = ctx.clock()
    with transaction(ctx.engine) as session:
        task = taskops.get_task(session, task_id)
        taskops.check_may_change(task, user, ctx.managers)
        case = ladder.open_case(session, task_id)
        if case is None:
            raise UserError(f"#{task_id} has no open alert any more; there is nothing to snooze.")
        held = case.snoozed_until
        until = ladder.snooze(
            session, case, days, by=user, now=now, policy=ctx.monitor.policy, cal=ctx.cal
        )
        what = "already snoozed" if until == held else "reminders snoozed"
        return _changed(session, ctx, task, f"{what} until {queries.day(ctx, until)}", now)
