"""`/task list`, `/task team` and `/task help` as built: the order they are given (riskiest
first, most severe first) kept, every page within a message's 50 blocks however long the
titles, and a last line that says truly how many more there are and how to see them."""

from __future__ import annotations

from bot.commands.views.lists import (
    LIST_PAGE,
    TEAM_PAGE,
    Page,
    TeamCase,
    build_help,
    build_list,
    build_team,
    pack,
    team_blocks,
)
from bot.slack.blocks import MESSAGE_BLOCKS, SECTION_TEXT
from tests.commands.views.samples import HOSTILE, action_ids, safe_message, summary, words

LONG = "&<>" * 66  # the longest title there is (200 characters), 858 once escaped


def tasks(n: int, first: int = 1, title: str | None = None) -> list:
    return [summary(id=i, title=title or f"Task {i}") for i in range(first, first + n)]


def finding(n: int, rule: str = "stalled", *, title: str | None = None, escalated=False):
    return TeamCase(n, title or f"Task {n}", (rule,), "UDANA", "2 working days", escalated)


def test_a_page_of_my_tasks_keeps_the_riskiest_first_order_it_was_given():
    riskiest = [
        summary(id=7, title="Overdue", findings=("overdue",)),
        summary(id=3, title="Stalled", findings=("stalled",)),
        summary(id=9, title="Fine", findings=()),
    ]
    text, blocks = build_list(Page(riskiest, total=3))
    safe_message(blocks)
    assert text == "Your 3 open tasks, riskiest first"
    heads = [b["text"]["text"].split("\n")[0] for b in blocks if b["type"] == "section"][1:]
    assert heads == ["*#7 Overdue*", "*#3 Stalled*", "*#9 Fine*"]
    assert "page" not in words(blocks)  # one page: no footer


def test_a_full_page_of_the_longest_titles_fits_a_message_with_its_buttons_distinct():
    page = Page(tasks(LIST_PAGE, title=LONG), total=4 * LIST_PAGE)
    text, blocks = build_list(page)
    safe_message(blocks)
    assert len(blocks) <= MESSAGE_BLOCKS
    assert len(action_ids(blocks)) == 2 * LIST_PAGE == len(set(action_ids(blocks)))
    assert text.endswith("riskiest first · page 1 of 4")
    assert blocks[-1]["elements"][0]["text"] == "Tasks 1–15 of 60. Next: `/task list 2`."


def test_the_last_page_says_so_and_a_page_past_it_names_the_last():
    _, blocks = build_list(Page(tasks(5, first=31), total=35, number=3))
    assert blocks[-1]["elements"][0]["text"] == (
        "Tasks 31–35 of 35. That is the last page; `/task list` starts again."
    )
    text, blocks = build_list(Page([], total=35, number=9))
    safe_message(blocks)
    assert text == "You have 35 open tasks: pages 1 to 3, 15 to a page."
    assert "`/task list 3` is the last." in words(blocks)


def test_no_open_tasks_says_how_to_make_one():
    text, blocks = build_list(Page([], total=0))
    safe_message(blocks)
    assert text == "You have no open tasks." and "`/task add …`" in words(blocks)


def test_the_team_page_keeps_the_most_severe_first_and_marks_what_the_managers_heard():
    page = Page(
        [finding(5, "overdue", escalated=True), finding(2, "stalled"), finding(8, "missing_owner")],
        total=3,
        size=TEAM_PAGE,
    )
    text, blocks = build_team(page)
    safe_message(blocks)
    assert text == "3 tasks across the team need attention"
    lines = blocks[1]["text"]["text"].splitlines()
    assert lines == [
        "🚨 *#5 Task 5*: overdue, owner <@UDANA>, open 2 working days",
        "• *#2 Task 2*: stalled, owner <@UDANA>, open 2 working days",
        "• *#8 Task 8*: no owner, owner <@UDANA>, open 2 working days",
    ]


def test_the_team_page_says_how_many_more_and_where():
    # 50 shown of 120: the rest are on the next page.
    page = Page([finding(i) for i in range(1, TEAM_PAGE + 1)], total=120, size=TEAM_PAGE)
    _, blocks = build_team(page)
    safe_message(blocks)
    assert blocks[-1]["elements"][0]["text"] == "…and 70 more: `/task team 2`."
    # Too long to show all 50 in the room given (App Home below a long list): the line says
    # how many were left out of this page too, and where they all are.
    long = Page(
        [finding(i, title=LONG) for i in range(1, TEAM_PAGE + 1)], total=120, size=TEAM_PAGE
    )
    _, blocks = team_blocks(long, max_blocks=5)
    safe_message(blocks)
    shown = sum(b["text"]["text"].count("\n") + 1 for b in blocks[1:-1])
    assert len(blocks) == 5 and 0 < shown < TEAM_PAGE
    assert blocks[-1]["elements"][0]["text"] == f"…and {120 - shown} more: `/task team` lists them."
    # Page 2 of 3 that the room cut short names itself.
    page2 = Page(
        [finding(i, title=LONG) for i in range(51, 101)], total=120, number=2, size=TEAM_PAGE
    )
    _, blocks = team_blocks(page2, max_blocks=5)
    assert blocks[-1]["elements"][0]["text"].endswith("more: `/task team 2` lists them.")


def test_all_on_track_and_a_page_past_the_last():
    text, blocks = build_team(Page([], total=0, size=TEAM_PAGE))
    safe_message(blocks)
    assert "all on track" in words(blocks)
    text, blocks = build_team(Page([], total=60, number=5, size=TEAM_PAGE))
    safe_message(blocks)
    assert text.startswith("60 tasks across the team need attention")
    assert "`/task team 2` is the last page." in words(blocks)


def test_packing_never_splits_a_line_or_an_entity_and_keeps_each_text_within_a_section():
    lines = [f"line {i} " + "&amp;" * 100 for i in range(40)]
    texts = pack(lines)
    assert all(len(t) <= SECTION_TEXT for t in texts)
    assert "\n".join(texts).splitlines() == lines
    [alone] = pack(["&amp;" * 1000])  # one line longer than a section: clipped at an entity
    assert len(alone) <= SECTION_TEXT and alone.endswith("&amp;…")


def test_help_shows_its_placeholders_instead_of_reading_them_as_markup():
    text, blocks = build_help("/task due <id> <date>\n" + HOSTILE)
    safe_message(blocks)
    assert text == "How to use /task"
    assert "/task due &lt;id&gt; &lt;date&gt;" in blocks[0]["text"]["text"]
