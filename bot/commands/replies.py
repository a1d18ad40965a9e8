"""Gathering what a reply shows from the database, then building it with `views`."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, select
from sqlmodel import Session

from bot.commands import views
from bot.commands.context import Context
from bot.commands.grammar import USAGE
from bot.models import LIVE_STATUSES, Event, Finding, Task
from bot.monitor.alerts import task_view
from bot.monitor.forecast import forecast_for
from bot.monitor.messages import RULE_TITLES
from bot.monitor.rules import time_used
from bot.slack.blocks import day_label, escape, mention, task_ref


def day(ctx: Context, instant: datetime) -> str:
    return day_label(ctx.cal.local_date(instant))


def due_label(ctx: Context, task: Task) -> str:
    if task.due_at is None:
        return "no deadline"
    if task.due_has_time:
        local = task.due_at.astimezone(ctx.cal.tz)
        return f"{day_label(local.date())} {local:%H:%M}"
    return day(ctx, task.due_at - timedelta(microseconds=1))


def summarize(
    session: Session,
    ctx: Context,
    task: Task,
    now: datetime,
    findings: list[str],
) -> views.TaskSummary:
    view = task_view(session, task)
    return views.TaskSummary(
        id=task.id,
        title=task.title,
        status=task.status,
        progress=task.progress,
        owner_id=task.owner_id,
        creator_id=task.creator_id,
        due_day=ctx.cal.local_date(task.due_at - timedelta(microseconds=1))
        if task.due_at
        else None,
        used=time_used(view, now, ctx.cal),
        findings=tuple(findings),
        forecast=forecast_for(task, now, ctx.cal),
        block_reason=task.block_reason,
        parent_id=task.parent_id,
        description=task.description,
        link=task.link,
    )


def open_findings(session: Session, task_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    if not task_ids:
        return found
    for task_id, rule in session.execute(
        select(Finding.task_id, Finding.rule).where(
            Finding.task_id.in_(task_ids), Finding.status == "open"
        )
    ):
        found.setdefault(task_id, []).append(rule)
    return found


def _severity(rule_column):  # type: ignore[no-untyped-def]
    return case(views.SEVERITY, value=rule_column, else_=0)


def my_summaries(
    session: Session, ctx: Context, user: str, now: datetime, *, size: int, number: int = 1
) -> views.Page:
    """One page of the user's open tasks, riskiest first across all of them: the most severe
    open finding, then the nearest deadline, then the oldest. Ordered and cut in SQL, so that
    the riskiest task is on the first page however many there are."""
    mine = and_(Task.owner_id == user, Task.status.in_(LIVE_STATUSES))
    total = session.execute(select(func.count()).select_from(Task).where(mine)).scalar_one()
    worst = (
        select(Finding.task_id, func.max(_severity(Finding.rule)).label("worst"))
        .join(Task, Task.id == Finding.task_id)
        .where(mine, Finding.status == "open")
        .group_by(Finding.task_id)
        .subquery()
    )
    tasks = list(
        session.execute(
            select(Task)
            .outerjoin(worst, worst.c.task_id == Task.id)
            .where(mine)
            .order_by(
                func.coalesce(worst.c.worst, 0).desc(),
                Task.due_at.is_(None),
                Task.due_at,
                Task.id,
            )
            .offset((number - 1) * size)
            .limit(size)
        ).scalars()
    )
    ids_ = [t.id for t in tasks]
    found = open_findings(session, ids_)
    items = [summarize(session, ctx, t, now, found.get(t.id, [])) for t in tasks]
    return views.Page(items, total, number, size)


def team_findings(session: Session, ctx: Context, now: datetime, *, number: int = 1) -> views.Page:
    """One page of the open findings across the team, most severe first."""
    size = views.TEAM_PAGE
    total = session.execute(
        select(func.count()).select_from(Finding).where(Finding.status == "open")
    ).scalar_one()
    rows = session.execute(
        select(Finding, Task.title, Task.owner_id)
        .join(Task, Task.id == Finding.task_id)
        .where(Finding.status == "open")
        .order_by(_severity(Finding.rule).desc(), Finding.task_id, Finding.id)
        .offset((number - 1) * size)
        .limit(size)
    ).all()
    out = []
    for f, title, owner in rows:
        days = ctx.cal.working_days_between(
            ctx.cal.local_date(f.opened_at), ctx.cal.local_date(now)
        )
        out.append(
            views.TeamFinding(
                task_id=f.task_id,
                title=title,
                rule=f.rule,
                owner_id=owner,
                opened=f"{days} working day{'s' if days != 1 else ''}" if days else "today",
                escalated=f.escalated_at is not None,
            )
        )
    return views.Page(out, total, number, size)


def build_task_card(session: Session, ctx: Context, task: Task, now: datetime):
    from bot.commands.service import Reply

    found = open_findings(session, [task.id]).get(task.id, [])
    history = [
        views.HistoryLine(e.at, e.actor, e.kind, e.old, e.new, e.note)
        for e in session.execute(
            select(Event).where(Event.task_id == task.id).order_by(Event.id.desc()).limit(5)
        ).scalars()
    ][::-1]
    text, blocks = views.build_task_card(
        summarize(session, ctx, task, now, found), history, ctx.cal.local_date
    )
    return Reply(text, blocks, task_id=task.id)


def build_my_list(session: Session, ctx: Context, user: str, now: datetime, page: int = 1):
    return views.build_list(
        my_summaries(session, ctx, user, now, size=views.LIST_PAGE, number=page)
    )


def build_team(session: Session, ctx: Context, now: datetime, page: int = 1):
    return views.build_team(team_findings(session, ctx, now, number=page))


def build_help():
    return views.build_help(USAGE)


def created(session: Session, ctx: Context, task: Task, early: list[str], *, again: bool = False):
    from bot.commands.service import Reply

    head = "Already created" if again else "Created"
    text = f"{head} #{task.id} {escape(task.title)}"
    due = f"due {due_label(ctx, task)}" if task.due_at else "no deadline"
    line = f"{head} {task_ref(task.id, task.title)} · owner {mention(task.owner_id)} · {due}"
    if task.parent_id:
        line += f" · subtask of #{task.parent_id}"
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": line}}]
    if early:
        seen = ", ".join(RULE_TITLES.get(r, r) for r in early)
        fix = {
            "missing_owner": f"`/task assign {task.id} @someone`",
            "missing_deadline": f"`/task due {task.id} friday`",
            "deadline_conflict": f"`/task due {task.id} &lt;a date on or before the parent's&gt;`",
            "overdue": f"`/task due {task.id} &lt;a later date&gt;`",
        }
        fixes = " · ".join(fix[r] for r in early if r in fix)
        text += f". Vigil already sees: {seen}."
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": f":warning: Vigil already sees: *{seen}*. Fix: {fixes}",
                    }
                ],
            }
        )
    return Reply(text, blocks, task_id=task.id)


def changed(session: Session, ctx: Context, task: Task, what: str, now: datetime):
    from bot.commands.service import Reply

    found = open_findings(session, [task.id]).get(task.id, [])
    summary = summarize(session, ctx, task, now, found)
    blocks = [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"{task_ref(task.id, task.title)}: {what}."},
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": views.summary_line(summary)}]},
    ]
    return Reply(f"#{task.id} {escape(task.title)}: {what}.", blocks, task_id=task.id)
