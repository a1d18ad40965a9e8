"""Pure Block Kit builders for the Slack surface: command replies, the task card, the lists,
App Home and the modals. Data in, plain dicts out; tested with no Slack at all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.monitor.forecast import Forecast
from bot.monitor.messages import RULE_TITLES
from bot.slack import ids
from bot.slack.blocks import (
    Block,
    actions,
    bars,
    button,
    clip,
    context,
    day_label,
    escape,
    mention,
    option,
    section,
    static_select,
    task_ref,
)

# How much a finding weighs when ordering tasks by risk ("what should I work on now").
SEVERITY = {
    "overdue": 100,
    "blocked": 90,
    "stalled": 80,
    "behind_pace": 70,
    "deadline_conflict": 50,
    "missing_owner": 40,
    "missing_deadline": 40,
}
MESSAGE_BLOCKS, VIEW_BLOCKS = 50, 100  # Slack's limits
SECTION_TEXT = 3000  # characters in a section's text
LIST_PAGE = 15  # 15 tasks × 3 blocks, a heading and a footer: under a message's 50 blocks
HOME_TASKS = 20  # 60 blocks at most, leaving room in the Home view's 100 for the team
TEAM_PAGE = 50  # findings; one line each, packed into sections


@dataclass(frozen=True)
class Page:
    """Some of a longer, ordered list: the items shown, how many there are in all, and which
    page (1-based) of `size` these are."""

    items: list
    total: int
    number: int = 1
    size: int = LIST_PAGE

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def last(self) -> int:
        return max(1, -(-self.total // self.size))


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


@dataclass(frozen=True)
class TeamFinding:
    task_id: int
    title: str
    rule: str
    owner_id: str | None
    opened: str  # "2 working days"
    escalated: bool


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
    return ":warning: " + ", ".join(RULE_TITLES.get(f, f) for f in s.findings)


def summary_line(s: TaskSummary) -> str:
    parts = [bars(s.progress, s.used)]
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


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def build_list(page: Page) -> tuple[str, list[Block]]:
    """One page of the user's open tasks, riskiest first, with where the rest are."""
    if page.total == 0:
        return "You have no open tasks.", [
            section("You have no open tasks. `/task add …` makes one.")
        ]
    if not page.items:
        text = (
            f"You have {_plural(page.total, 'open task')}: pages 1 to {page.last}, "
            f"{LIST_PAGE} to a page."
        )
        return text, [section(f"{text} `/task list {page.last}` is the last.")]
    text = f"Your {_plural(page.total, 'open task')}, riskiest first"
    if page.last > 1:
        text += f" · page {page.number} of {page.last}"
    blocks: list[Block] = [section(f"*{text}*")]
    for s in page.items:
        blocks += task_blocks(s, f"list{s.id}")
    if page.last > 1:
        first, through = page.offset + 1, page.offset + len(page.items)
        more = (
            f"Next: `/task list {page.number + 1}`."
            if page.number < page.last
            else "That is the last page; `/task list` starts again."
        )
        blocks.append(context(f"Tasks {first}–{through} of {page.total}. {more}"))
    return text, blocks


def _team_line(f: TeamFinding) -> str:
    return (
        f"{'🚨' if f.escalated else '•'} {task_ref(f.task_id, f.title)}: "
        f"{RULE_TITLES.get(f.rule, f.rule)}, owner {mention(f.owner_id)}, open {f.opened}"
    )


def pack(lines: list[str], limit: int = SECTION_TEXT) -> list[str]:
    """Lines joined into as few texts of at most `limit` characters as they fit, never
    splitting a line (so never an entity such as `&amp;`); a line longer than `limit` alone is
    clipped at a safe place."""
    texts: list[str] = []
    current = ""
    for line in lines:
        line = clip(line, limit)
        if current and len(current) + 1 + len(line) > limit:
            texts.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        texts.append(current)
    return texts


def team_blocks(page: Page, max_blocks: int) -> tuple[str, list[Block]]:
    """A page of the team's open findings, most severe first, in at most `max_blocks` blocks,
    and a last line saying how many more there are and how to see them."""
    if page.total == 0:
        return "No open findings across the team.", [
            section("No open findings across the team: all on track.")
        ]
    text = f"{_plural(page.total, 'open finding')} across the team"
    if page.last > 1:
        text += f" · page {page.number} of {page.last}"
    blocks: list[Block] = [section(f"*{text}*")]
    if not page.items:
        blocks.append(context(f"`/task team {page.last}` is the last page."))
        return text, blocks
    shown = 0
    room = max_blocks - 2  # the heading above, the line saying what is left below
    for chunk in pack([_team_line(f) for f in page.items])[:room]:
        blocks.append(section(chunk))
        shown += chunk.count("\n") + 1
    left = page.total - page.offset - shown
    if left > 0:
        where = (
            f"`/task team {page.number + 1}`"
            if shown == len(page.items)
            else f"`/task team{'' if page.number == 1 else f' {page.number}'}` lists them"
        )
        blocks.append(context(f"…and {left} more: {where}."))
    return text, blocks


def build_team(page: Page) -> tuple[str, list[Block]]:
    return team_blocks(page, MESSAGE_BLOCKS)


def build_help(usage: str) -> tuple[str, list[Block]]:
    """`usage` is plain text with `<placeholders>`: escaped here, once, so Slack shows them."""
    return "How to use /task", [section(escape(usage))]


def build_home(mine: Page, team: Page | None, now_label: str) -> dict[str, Any]:
    """The user's riskiest open tasks and, for managers, the team's open findings below them;
    each part says how many more there are and where they are."""
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": "What to work on now"}},
        context(f"Your open tasks, riskiest first · {now_label}"),
    ]
    if not mine.items:
        blocks.append(
            section("Nothing open. `/task add &lt;title&gt; due &lt;date&gt;` creates a task.")
        )
    for s in mine.items:
        blocks += task_blocks(s, f"home{s.id}")
    if mine.total > len(mine.items):
        blocks.append(
            context(
                f"Your {len(mine.items)} riskiest of {mine.total} open tasks. `/task list` shows "
                f"them all, {LIST_PAGE} to a page (`/task list 2` for the next)."
            )
        )
    if team is not None:
        blocks.append({"type": "divider"})
        blocks.append(
            {"type": "header", "text": {"type": "plain_text", "text": "Team: open findings"}}
        )
        blocks += team_blocks(team, VIEW_BLOCKS - len(blocks))[1]
    return {"type": "home", "blocks": blocks}


# -- modals ---------------------------------------------------------------------------------
def _input(
    block_id: str, label: str, element: Block, *, optional: bool = False, hint: str | None = None
) -> Block:
    element = {**element, "action_id": block_id}
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": label},
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = {"type": "plain_text", "text": hint}
    return block


def _text_input(
    initial: str | None = None, *, multiline: bool = False, max_length: int = 200
) -> Block:
    element: Block = {"type": "plain_text_input", "multiline": multiline, "max_length": max_length}
    if initial:
        element["initial_value"] = initial[:max_length]
    return element


def _modal(
    callback_id: str, title: str, submit: str, blocks: list[Block], metadata: str
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": submit},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": metadata,
        "blocks": blocks,
    }


def build_new_task_modal(
    *,
    title: str | None = None,
    description: str | None = None,
    link: str | None = None,
    owner: str | None = None,
    metadata: str = "",
) -> dict[str, Any]:
    owner_select: Block = {
        "type": "users_select",
        "placeholder": {"type": "plain_text", "text": "Who does it"},
    }
    if owner:
        owner_select["initial_user"] = owner
    blocks = [
        _input(ids.INPUT_TITLE, "Title", _text_input(title)),
        _input(ids.INPUT_OWNER, "Owner", owner_select, optional=True),
        _input(
            ids.INPUT_DEADLINE,
            "Deadline",
            {"type": "datepicker"},
            optional=True,
            hint="The end of that day, in the team's time zone.",
        ),
        _input(
            ids.INPUT_PARENT,
            "Parent task",
            _text_input(max_length=12),
            optional=True,
            hint="A task number such as 12 or #12, to make this a subtask.",
        ),
        _input(
            ids.INPUT_DESCRIPTION,
            "Description",
            _text_input(description, multiline=True, max_length=3000),
            optional=True,
        ),
    ]
    if link:
        blocks.append(context(f"From <{link}|this message>"))
    return _modal(ids.VIEW_NEW_TASK, "New task", "Create", blocks, metadata)


def build_created_modal(
    reply_blocks: list[Block] | None, note: str | None = None
) -> dict[str, Any]:
    """What the creation form turns into once the task exists: the reply, and a Close button."""
    blocks = list(reply_blocks or [])[: 100 - 1]
    if note:
        blocks.append(context(note))
    return {
        "type": "modal",
        "callback_id": ids.VIEW_CREATED,
        "title": {"type": "plain_text", "text": "Task created"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": blocks,
    }


def build_progress_modal(task_id: int, title: str, progress: int, metadata: str) -> dict[str, Any]:
    return _modal(
        ids.VIEW_PROGRESS,
        f"Progress on #{task_id}"[:24],
        "Save",
        [
            section(task_ref(task_id, title)),
            _input(
                ids.INPUT_PROGRESS,
                "Progress (0–100%)",
                {
                    "type": "number_input",
                    "is_decimal_allowed": False,
                    "min_value": "0",
                    "max_value": "100",
                    "initial_value": str(progress),
                },
            ),
            _input(
                ids.INPUT_NOTE, "Note", _text_input(multiline=True, max_length=3000), optional=True
            ),
        ],
        metadata,
    )


def build_blocked_modal(task_id: int, title: str, metadata: str) -> dict[str, Any]:
    return _modal(
        ids.VIEW_BLOCKED,
        f"#{task_id} is blocked"[:24],
        "Ask for help",
        [
            section(f"{task_ref(task_id, title)}: the managers' channel hears of it at once."),
            _input(
                ids.INPUT_REASON,
                "What is in the way?",
                _text_input(multiline=True, max_length=3000),
            ),
        ],
        metadata,
    )
