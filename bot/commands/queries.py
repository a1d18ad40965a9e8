"""What the replies, lists and App Home show, read from the database: the SQL of the Slack
surface. Builders in `views/` turn it into Block Kit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, bindparam, case, func, select
from sqlmodel import Session

from bot.commands.context import Context
from bot.commands.views.lists import TEAM_PAGE, Page, TeamCase
from bot.commands.views.tasks import HistoryLine, TaskSummary
from bot.db import IdsIn
from bot.models import LIVE_STATUSES, Case, Event, Finding, Task
from bot.monitor.alerts import task_view
from bot.monitor.forecast import forecast_for
from bot.monitor.rulebook import RULEBOOK, by_severity
from bot.monitor.rules import TaskView, time_used
from bot.monitor.taskview import load_views
from bot.slack.blocks import day_label


def day(ctx: Context, instant: datetime) -> str:
    return day_label(ctx.cal.local_date(instant))


def due_label(ctx: Context, task: Task) -> str:
    if task.due_at is None:
        return "no deadline"
    return deadline_label(ctx, task.due_at, task.due_has_time)


def deadline_label(ctx: Context, at: datetime, has_time: bool) -> str:
    """`Fri 16 Jan`, or `Fri 16 Jan 17:00` for a deadline with a time of day."""
    if has_time:
        local = at.astimezone(ctx.cal.tz)
        return f"{day_label(local.date())} {local:%H:%M}"
    return day_label(ctx.cal.due_day(at))


def summarize(
    session: Session,
    ctx: Context,
    task: Task,
    now: datetime,
    findings: list[str],
    view: TaskView | None = None,
) -> TaskSummary:
    """The task as a reply, a list or App Home shows it; `view`, when the caller read it
    already with the others of its page."""
    view = view or task_view(session, task, ctx.cal)
    return TaskSummary(
        id=task.id,
        title=task.title,
        status=task.status,
        progress=view.progress,
        from_subtasks=view.subtasks,
        owner_id=task.owner_id,
        creator_id=task.creator_id,
        due_day=ctx.cal.due_day(task.due_at) if task.due_at else None,
        used=time_used(view, now, ctx.cal),
        findings=tuple(findings),
        forecast=forecast_for(view, now, ctx.cal, ctx.monitor.policy),
        block_reason=task.block_reason,
        parent_id=task.parent_id,
        description=task.description,
        link=task.link,
    )


# Statements a person's list, reply or App Home runs on every request, built once: SQLAlchemy
# then neither builds them nor works out their cache key again (a sixth of a list's CPU).
_OPEN_FINDINGS = IdsIn(
    lambda ids_in: select(Finding.task_id, Finding.rule).where(
        ids_in(Finding.task_id), Finding.status == "open"
    )
)


def open_findings(session: Session, task_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    if not task_ids:
        return found
    for task_id, rule in session.execute(_OPEN_FINDINGS.on(session), {"ids": task_ids}):
        found.setdefault(task_id, []).append(rule)
    return found


def _severity(rule_column):  # type: ignore[no-untyped-def]
    return case(
        {rule: facts.severity for rule, facts in RULEBOOK.items()}, value=rule_column, else_=0
    )


_MINE = and_(Task.owner_id == bindparam("user"), Task.status.in_(LIVE_STATUSES))
_MY_COUNT = select(func.count()).select_from(Task).where(_MINE)
_WORST = (
    select(Finding.task_id, func.max(_severity(Finding.rule)).label("worst"))
    .join(Task, Task.id == Finding.task_id)
    .where(_MINE, Finding.status == "open")
    .group_by(Finding.task_id)
    .subquery()
)
_MY_PAGE = (
    select(Task)
    .outerjoin(_WORST, _WORST.c.task_id == Task.id)
    .where(_MINE)
    .order_by(func.coalesce(_WORST.c.worst, 0).desc(), Task.due_at.is_(None), Task.due_at, Task.id)
    .offset(bindparam("skip"))
    .limit(bindparam("size"))
)


def my_summaries(
    session: Session, ctx: Context, user: str, now: datetime, *, size: int, number: int = 1
) -> Page:
    """One page of the user's open tasks, riskiest first across all of them: the most severe
    open finding, then the nearest deadline, then the oldest. Ordered and cut in SQL, so that
    the riskiest task is on the first page however many there are."""
    total = session.execute(_MY_COUNT, {"user": user}).scalar_one()
    page = {"user": user, "skip": (number - 1) * size, "size": size}
    tasks = list(session.execute(_MY_PAGE, page).scalars())
    ids_ = [t.id for t in tasks]
    found = open_findings(session, ids_)
    views = load_views(session, ids_, ctx.cal)
    items = [summarize(session, ctx, t, now, found.get(t.id, []), views[t.id]) for t in tasks]
    return Page(items, total, number, size)


def team_cases(session: Session, ctx: Context, now: datetime, *, number: int = 1) -> Page:
    """One page of the team's open cases, most severe first: one line per task, with all that
    is wrong with it."""
    size = TEAM_PAGE
    total = session.execute(
        select(func.count()).select_from(Case).where(Case.status == "open")
    ).scalar_one()
    worst = func.max(_severity(Finding.rule))
    rows = session.execute(
        select(Case, Task.title, Task.owner_id, worst)
        .join(Task, Task.id == Case.task_id)
        .join(Finding, (Finding.case_id == Case.id) & (Finding.status == "open"))
        .where(Case.status == "open")
        .group_by(Case.id, Task.title, Task.owner_id)
        .order_by(worst.desc(), Case.task_id)
        .offset((number - 1) * size)
        .limit(size)
    ).all()
    rules: dict[int, list[str]] = {}
    for case_id, rule in session.execute(
        select(Finding.case_id, Finding.rule).where(
            Finding.case_id.in_([row[0].id for row in rows]), Finding.status == "open"
        )
    ):
        rules.setdefault(case_id, []).append(rule)
    out = []
    for open_case, title, owner, _ in rows:
        days = ctx.cal.working_days_between(
            ctx.cal.local_date(open_case.opened_at), ctx.cal.local_date(now)
        )
        out.append(
            TeamCase(
                task_id=open_case.task_id,
                title=title,
                rules=tuple(by_severity(rules.get(open_case.id, []))),
                owner_id=owner,
                opened=f"{days} working day{'s' if days != 1 else ''}" if days else "today",
                escalated=open_case.escalated_at is not None,
            )
        )
    return Page(out, total, number, size)


def history(session: Session, task_id: int, limit: int = 5) -> list[HistoryLine]:
    """The task's latest events, oldest first."""
    events = session.execute(
        select(Event).where(Event.task_id == task_id).order_by(Event.id.desc()).limit(limit)
    ).scalars()
    return [HistoryLine(e.at, e.actor, e.kind, e.old, e.new, e.note) for e in events][::-1]
