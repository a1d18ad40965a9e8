"""App Home as built: the person's riskiest tasks with their bars and buttons, how many more
there are, and for managers the team's open findings below, all within a view's 100 blocks."""

from __future__ import annotations

from bot.commands.views.home import build_home
from bot.commands.views.lists import HOME_TASKS, TEAM_PAGE, Page, TeamCase
from bot.slack.blocks import VIEW_BLOCKS
from tests.commands.views.samples import HOSTILE, action_ids, safe_view, summary, words

LONG = "&<>" * 66  # the longest title there is, 858 characters once escaped


def mine(n: int, total: int | None = None, title: str = "Task") -> Page:
    items = [summary(id=i, title=f"{title} {i}") for i in range(1, n + 1)]
    return Page(items, total if total is not None else n, size=HOME_TASKS)


def team(n: int, total: int, title: str = "Task") -> Page:
    items = [TeamCase(i, f"{title} {i}", ("stalled",), "UDANA", "today", False) for i in range(n)]
    return Page(items, total, size=TEAM_PAGE)


def test_an_empty_home_says_how_to_make_a_task():
    view = build_home(mine(0), None, "as of Mon 12 Jan 09:00")
    safe_view(view)
    assert view["type"] == "home"
    assert "Your open tasks, riskiest first · as of Mon 12 Jan 09:00" in words(view)
    assert "Nothing open. `/task add &lt;title&gt; due &lt;date&gt;` creates a task." in words(view)
    assert "Team" not in words(view)  # not a manager


def test_the_riskiest_tasks_lead_with_their_bars_and_the_rest_are_counted():
    view = build_home(mine(3, total=25), None, "now")
    safe_view(view)
    sections = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]
    assert [s.split("\n")[0] for s in sections] == ["*#1 Task 1*", "*#2 Task 2*", "*#3 Task 3*"]
    assert "progress ▰▰▰▰▱▱▱▱▱▱ 40%  ·  time used ▰▰▰▰▰▰▰▰▱▱ 80%" in words(view)
    assert view["blocks"][-1]["elements"][0]["text"] == (
        "Your 3 riskiest of 25 open tasks. `/task list` shows them all, 15 to a page "
        "(`/task list 2` for the next)."
    )


def test_a_managers_home_at_its_fullest_fits_a_view_with_every_button_distinct():
    view = build_home(mine(HOME_TASKS, total=300, title=LONG), team(TEAM_PAGE, 500, LONG), "now")
    safe_view(view)
    blocks = view["blocks"]
    assert len(blocks) <= VIEW_BLOCKS
    ids_ = action_ids(blocks)
    assert len(ids_) == 2 * HOME_TASKS == len(set(ids_))
    assert "Your 20 riskiest of 300 open tasks." in words(view)
    assert "Team: tasks that need attention" in words(view)
    assert "500 tasks across the team need attention · page 1 of 10" in words(view)
    assert blocks[-1]["elements"][0]["text"].startswith("…and ")
    left = int(blocks[-1]["elements"][0]["text"].split()[1])
    shown = sum(
        b["text"]["text"].count("\n") + 1
        for b in blocks[blocks.index(next(b for b in blocks if b["type"] == "divider")) + 3 : -1]
    )
    assert shown + left == 500


def test_what_people_typed_is_shown_and_never_acted_on():
    view = build_home(mine(2, title=HOSTILE), team(2, 2, HOSTILE), "now")
    safe_view(view)
