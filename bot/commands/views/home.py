"""The App Home view: the user's riskiest open tasks and, for managers, the team's open
findings below them."""

from __future__ import annotations

from typing import Any

from bot.commands.views.lists import LIST_PAGE, Page, team_blocks
from bot.commands.views.tasks import task_blocks
from bot.slack.blocks import VIEW_BLOCKS, Block, context, section


def build_home(mine: Page, team: Page | None, now_label: str) -> dict[str, Any]:
    """The user's riskiest open tasks and, for managers, the tasks across the team that need attention below them;
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
            {"type": "header", "text": {"type": "plain_text", "text": "Team: tasks that need attention"}}
        )
        blocks += team_blocks(team, VIEW_BLOCKS - len(blocks))[1]
    return {"type": "home", "blocks": blocks}
