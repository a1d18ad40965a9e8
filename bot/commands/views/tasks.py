"""Pure Block Kit builders for one task: its summary with bars, the card `/task 12` shows,
and the replies to a creation or a change. Data in, plain dicts out; tested with no Slack."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.monitor import rulebook
from bot.monitor.forecast import Forecast
from bot.slack import ids
from bot.slack.blocks import (
    Block,
    actions,
    bars,
    button,
    context,
    day_label,
    escape,
    mention,
    option,
    section,
    static_select,
    task_ref,
)


@dataclass(frozen=True)
class TaskSummary:
    id: int
    title: str
    status: str
    progress: int
    owner_id: str | None
    creator_id: str
    due_day: date | None
    used: float | None
    findings: tuple[str, ...] = ()
    forecast: Forecast | None = None
    block_reason: str | None = None
    parent_id: int | None = None
    description: str | None = None
    link: str | None = None
    from_subtasks: int = 0  # its progress comes from this many subtasks (and its own reports)


@dataclass
class HistoryLine:
    at: datetime
    actor: str
    kind: str
    old: str | None
    new: str | None
    note: str | None = None


def _findings_text(s: TaskSummary) -> str:
    if not s.findings:
        return ":large_green_circle: on track"
    return ":warning: " + ", ".join(rulebook.title(f) for f in s.findings)


def summary_line(s: TaskSummary) -> str:
    parts = [bars(s.progress, s.used)]
    if s.from_subtasks:
        many = "subtask" if s.from_subtasks == 1 else "subtasks"
        parts[0] += f" (from {s.from_subtasks} {many})"
    parts.append(f"due {day_label(s.due_day)}" if s.due_day else "no deadline")
    parts.append(f"owner {mention(s.owner_id)}")
    return "  ·  ".join(parts)


def task_blocks(s: TaskSummary, part: str, *, with_buttons: bool = True) -> list[Block]:
    status = "" if s.status == "open" else f" _({s.status})_"
    blocks: list[Block] = [
        section(f"{task_ref(s.id, s.title)}{status}\n{_findings_text(s)}"),
        context(summary_line(s)),
    ]
    if with_buttons and s.status in ("open", "blocked"):
        progress = [option(f"{p}%", str(p)) for p in range(0, 101, 10) if p != s.progress]
        blocks.append(
            actions(
                ids.context_block_id(s.id, None, part),
                [
                    static_select(
                        "Set progress", ids.unique(ids.ACTION_PROGRESS_SELECT, part), progress
                    ),
                    button("Done", ids.unique(ids.ACTION_DONE, part), "done", style="primary"),
                ],
            )
        )
    return blocks


def build_task_card(
    s: TaskSummary, history: list[HistoryLine], cal_day: Any
) -> tuple[str, list[Block]]:
    text = f"#{s.id} {escape(s.title)}: {s.progress}%, " + (
        f"due {day_label(s.due_day)}" if s.due_day else "no deadline"
    )
    blocks = task_blocks(s, "card")
    details = []
    if s.description:
        details.append(escape(s.description[:500]))
    if s.link:
        details.append(f"<{s.link}|the message it came from>")
    if s.parent_id:
        details.append(f"subtask of #{s.parent_id}")
    if s.block_reason:
        details.append(f"blocked: {escape(s.block_reason)}")
    if s.forecast:
        late = (
            f", {s.forecast.working_days_late} working days late"
            if s.forecast.working_days_late
            else ", on time"
        )
        details.append(f"forecast: finishes {day_label(s.forecast.finish_day)}{late}")
    if details:
        blocks.insert(2, context("  ·  ".join(details)))
    if history:
        lines = [f"{day_label(cal_day(h.at))} {mention(h.actor)} {_event(h)}" for h in history]
        blocks.append(context("*Recent:*\n" + "\n".join(lines)))
    return text, blocks


def _event(h: HistoryLine) -> str:
    if h.kind == "created":
        return "created it"
    if h.kind == "progress":
        return f"progress {h.old}% → {h.new}%"
    if h.kind == "owner":
        return f"assigned to {mention(h.new)}"
    if h.kind == "due":
        return "moved the deadline"
    if h.kind == "status":
        return f"{h.old} → {h.new}" + (f" ({escape(h.note)})" if h.note else "")
    if h.kind == "snooze":
        return "snoozed reminders"
    if h.kind == "note":
        return f"noted: {escape(h.note or '')}"
    return h.kind


def build_created(
    task_id: int,
    title: str,
    owner_id: str | None,
    due: str | None,
    parent_id: int | None,
    early: list[str],
    *,
    again: bool = False,
) -> tuple[str, list[Block]]:
    """The reply to `/task add` or the form: what was created, and what the rules already see
    of it (no owner, no deadline, due after its parent) with the command that fixes each."""
    head = "Already created" if again else "Created"
    text = f"{head} #{task_id} {escape(title)}"
    line = f"{head} {task_ref(task_id, title)} · owner {mention(owner_id)} · {due or 'no deadline'}"
    if parent_id:
        line += f" · subtask of #{parent_id}"
    blocks = [section(line)]
    if early:
        seen = ", ".join(rulebook.title(r) for r in early)
        # Escaped, so that a placeholder such as <a later date> shows instead of being markup.
        fixes = " · ".join(
            escape(rulebook.RULEBOOK[r].fix.format(id=task_id))
            for r in early
            if rulebook.RULEBOOK[r].fix
        )
        text += f". Vigil already sees: {seen}."
        blocks.append(context(f":warning: Vigil already sees: *{seen}*. Fix: {fixes}"))
    return text, blocks


def build_changed(summary: TaskSummary, what: str) -> tuple[str, list[Block]]:
    """The reply to a change: what was done, and the task as it now stands."""
    return (
        f"#{summary.id} {escape(summary.title)}: {what}.",
        [
            section(f"{task_ref(summary.id, summary.title)}: {what}."),
            context(summary_line(summary)),
        ],
    )
