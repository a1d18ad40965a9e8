"""Pure Block Kit builders for lists: `/task list` (the user's open tasks, riskiest first),
`/task team` (the team's tasks that need attention, most severe first), and `/task help`."""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.views.tasks import task_blocks
from bot.monitor import rulebook
from bot.slack.blocks import (
    MESSAGE_BLOCKS,
    SECTION_TEXT,
    Block,
    clip,
    context,
    escape,
    mention,
    section,
    task_ref,
)

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
class TeamCase:
    task_id: int
    title: str
    rules: tuple[str, ...]  # all that is wrong with it, the most severe first
    owner_id: str | None
    opened: str  # "2 working days"
    escalated: bool


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


def _team_line(f: TeamCase) -> str:
    return (
        f"{'🚨' if f.escalated else '•'} {task_ref(f.task_id, f.title)}: "
        f"{', '.join(rulebook.title(r) for r in f.rules)}, owner {mention(f.owner_id)}, "
        f"open {f.opened}"
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
    """A page of the team's open cases, most severe first, in at most `max_blocks` blocks,
    and a last line saying how many more there are and how to see them."""
    if page.total == 0:
        return "Nothing across the team needs attention.", [
            section("Nothing across the team needs attention: all on track.")
        ]
    verb = "needs" if page.total == 1 else "need"
    text = f"{_plural(page.total, 'task')} across the team {verb} attention"
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
