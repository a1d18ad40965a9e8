"""One task as Slack shows it: its summary with bars and buttons, the card `/task 12` shows,
and the replies to a creation or a change. Pure builders: data in, Block Kit out, no Slack."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.commands.views.tasks import (
    HistoryLine,
    build_changed,
    build_created,
    build_task_card,
    summary_line,
    task_blocks,
)
from bot.monitor.forecast import Forecast
from bot.slack import ids
from tests.commands.views.samples import (
    HOSTILE,
    action_ids,
    safe_message,
    summary,
    words,
)


def test_a_summary_shows_what_is_wrong_the_bars_the_deadline_and_the_owner():
    blocks = task_blocks(summary(), "list4")
    safe_message(blocks)
    head, line, buttons = blocks
    assert head["text"]["text"] == "*#4 Q3 filing for Acme*\n:warning: stalled"
    assert line["elements"][0]["text"] == (
        "progress ▰▰▰▰▱▱▱▱▱▱ 40%  ·  time used ▰▰▰▰▰▰▰▰▱▱ 80%  ·  due Fri 16 Jan  ·  owner <@UDANA>"
    )
    # Set progress offers every other tenth, and Done.
    select, done = buttons["elements"]
    offered = [o["value"] for o in select["options"]]
    assert offered == ["0", "10", "20", "30", "50", "60", "70", "80", "90", "100"]
    assert done["text"]["text"] == "Done" and ids.parse_block_id(buttons["block_id"]) == (4, None)


def test_findings_read_by_their_titles_and_a_task_without_any_is_on_track():
    several = task_blocks(summary(findings=("behind_pace", "missing_owner")), "x")
    assert ":warning: behind pace, no owner" in several[0]["text"]["text"]
    quiet = task_blocks(summary(findings=()), "x")
    assert ":large_green_circle: on track" in quiet[0]["text"]["text"]


def test_no_deadline_no_owner_and_no_time_used_read_as_words_not_gaps():
    line = summary_line(summary(due_day=None, owner_id=None, used=None, progress=0))
    assert line == "progress ▱▱▱▱▱▱▱▱▱▱ 0%  ·  no deadline  ·  owner nobody"
    # Past the deadline the time bar is full and the figure says how far past.
    assert "time used ▰▰▰▰▰▰▰▰▰▰ 130%" in summary_line(summary(used=1.3))


def test_a_closed_task_has_no_buttons_and_says_so():
    blocks = task_blocks(summary(status="done", progress=100, findings=()), "x")
    safe_message(blocks)
    assert [b["type"] for b in blocks] == ["section", "context"]
    assert "_(done)_" in blocks[0]["text"]["text"]
    assert len(task_blocks(summary(status="blocked"), "x")) == 3  # blocked is still live


def test_the_same_buttons_twice_in_one_message_have_distinct_action_ids():
    blocks = task_blocks(summary(id=4), "list4") + task_blocks(summary(id=5), "list5")
    safe_message(blocks)
    found = action_ids(blocks)
    assert len(found) == 4 and len(set(found)) == 4
    assert all(ids.matching(ids.ACTION_DONE).match(a) for a in found if "done" in a)


def test_a_title_people_typed_is_shown_and_never_acted_on():
    blocks = task_blocks(summary(title=HOSTILE), "x")
    safe_message(blocks)
    assert "&lt;!channel&gt; &amp; &lt;@UEVIL&gt;" in blocks[0]["text"]["text"]


def test_the_card_shows_details_the_forecast_and_recent_history_escaped():
    s = summary(
        title=HOSTILE,
        description=HOSTILE,
        block_reason=HOSTILE,
        parent_id=2,
        link="https://standin.slack.com/archives/C1/p1",
        forecast=Forecast(date(2026, 1, 21), working_days_late=3, pace_per_day=8.0),
    )
    history = [
        HistoryLine(datetime(2026, 1, 5, 9, tzinfo=UTC), "UMARCUS", "created", None, "0"),
        HistoryLine(datetime(2026, 1, 6, 10, tzinfo=UTC), "UDANA", "progress", "0", "40"),
        HistoryLine(datetime(2026, 1, 7, 10, tzinfo=UTC), "UDANA", "note", None, None, HOSTILE),
        HistoryLine(datetime(2026, 1, 8, 10, tzinfo=UTC), "UDANA", "snooze", None, "x"),
    ]
    text, blocks = build_task_card(s, history, lambda at: at.date())
    safe_message(blocks)
    assert text.startswith("#4 &lt;!channel&gt;") and text.endswith("40%, due Fri 16 Jan")
    shown = words(blocks)
    assert "subtask of #2" in shown and "<https://standin.slack.com/archives/C1/p1|" in shown
    assert "forecast: finishes Wed 21 Jan, 3 working days late" in shown
    assert "blocked: &lt;!channel&gt;" in shown
    recent = blocks[-1]["elements"][0]["text"].splitlines()
    assert recent == [
        "*Recent:*",
        "Mon 5 Jan <@UMARCUS> created it",
        "Tue 6 Jan <@UDANA> progress 0% → 40%",
        "Wed 7 Jan <@UDANA> noted: "
        + HOSTILE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
        "Thu 8 Jan <@UDANA> snoozed reminders",
    ]


def test_the_reply_to_a_creation_says_what_the_rules_already_see_and_how_to_fix_it():
    text, blocks = build_created(
        12, HOSTILE, None, None, 3, ["missing_owner", "missing_deadline", "deadline_conflict"]
    )
    safe_message(blocks)
    assert text.startswith("Created #12 &lt;!channel&gt;")
    assert "Vigil already sees: no owner, no deadline, due after its parent." in text
    assert "owner nobody · no deadline · subtask of #3" in blocks[0]["text"]["text"]
    fixes = blocks[1]["elements"][0]["text"]
    # The placeholders are escaped, so Slack shows them instead of reading them as links.
    assert "`/task assign 12 @someone`" in fixes and "`/task due 12 friday`" in fixes
    assert "`/task due 12 &lt;a date on or before the parent's&gt;`" in fixes


def test_a_clean_creation_and_a_repeat_say_only_what_happened():
    text, blocks = build_created(12, "Payroll", "UDANA", "due Fri 16 Jan", None, [])
    safe_message(blocks)
    assert text == "Created #12 Payroll" and len(blocks) == 1
    again, _ = build_created(12, "Payroll", "UDANA", "due Fri 16 Jan", None, [], again=True)
    assert again == "Already created #12 Payroll"


def test_the_reply_to_a_change_shows_the_task_as_it_now_stands():
    text, blocks = build_changed(summary(progress=60, title=HOSTILE), "progress 40% → 60%")
    safe_message(blocks)
    assert text.endswith(": progress 40% → 60%.")
    assert blocks[1]["elements"][0]["text"].startswith("progress ▰▰▰▰▰▰▱▱▱▱ 60%")
