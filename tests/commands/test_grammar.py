"""The /task grammar: every form product.md lists, each class of bad input, and random text."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.calendar import WorkCalendar
from bot.commands.grammar import VERBS, Command, UsageError, parse_command, parse_deadline

CAL = WorkCalendar("Europe/London", "GB")
NOW = datetime(2026, 1, 14, 10, 0, tzinfo=UTC)  # Wednesday 14 January 2026, 10:00 in London


def parse(text: str) -> Command:
    return parse_command(text, now=NOW, cal=CAL)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Command("help")),
        ("help", Command("help")),
        ("new", Command("new")),
        ("LIST", Command("list")),
        ("team", Command("team")),
        ("12", Command("show", task_id=12)),
        ("#12", Command("show", task_id=12)),
        ("show #7", Command("show", task_id=7)),
        ("progress 12 40", Command("progress", task_id=12, progress=40)),
        (
            "progress #12 40% waiting on the client",
            Command("progress", task_id=12, progress=40, text="waiting on the client"),
        ),
        ("done 3", Command("done", task_id=3)),
        ("cancel #3", Command("cancel", task_id=3)),
        ("block 3 waiting for figures", Command("block", task_id=3, text="waiting for figures")),
        ("unblock 3", Command("unblock", task_id=3)),
        ("assign 3 <@U123|dana>", Command("assign", task_id=3, owner="U123")),
        ("assign 3 <@W9ABC>", Command("assign", task_id=3, owner="W9ABC")),
    ],
)
def test_commands(text, expected):
    assert parse(text) == expected


def test_add_takes_the_title_from_what_is_left_over():
    cmd = parse("add Q3 filing for Acme <@U123|dana> due friday parent #7")
    assert (cmd.verb, cmd.title, cmd.owner, cmd.parent_id) == (
        "add",
        "Q3 filing for Acme",
        "U123",
        7,
    )
    assert cmd.due.day == date(2026, 1, 16) and not cmd.due.has_time
    assert parse("add <@U1> Payroll due tomorrow").title == "Payroll"
    # "due" starting a title is a title word, not a deadline.
    cmd = parse("add due diligence for Birch due 2026-02-02")
    assert cmd.title == "due diligence for Birch" and cmd.due.day == date(2026, 2, 2)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2026-03-14", date(2026, 3, 14)),
        ("today", date(2026, 1, 14)),
        ("tomorrow", date(2026, 1, 15)),
        ("friday", date(2026, 1, 16)),
        ("Fri", date(2026, 1, 16)),
        ("wednesday", date(2026, 1, 21)),  # today is Wednesday: the next one
        ("in 3 days", date(2026, 1, 17)),
        ("in 2 working days", date(2026, 1, 16)),
        ("in 3 working days", date(2026, 1, 19)),  # across the weekend
        ("mar 14", date(2026, 3, 14)),
        ("14 march", date(2026, 3, 14)),
        ("jan 2", date(2027, 1, 2)),  # already past this year: next year's
    ],
)
def test_dates(text, day):
    deadline = parse_deadline(text, now=NOW, cal=CAL)
    assert deadline.day == day and not deadline.has_time
    assert deadline.at == CAL.end_of_day(day)


def test_a_date_and_time():
    deadline = parse_deadline("friday 17:00", now=NOW, cal=CAL)
    assert deadline.has_time and deadline.at == datetime(2026, 1, 16, 17, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("progress 12 150", "0 to 100"),
        ("progress 12 lots", "0 to 100"),
        ("progress abc 40", "task number"),
        ("done", "task number"),
        ("done #x1", "task number"),
        ("done 0", "task number"),
        ("add", "needs a title"),
        ("add <@U1> due friday", "needs a title"),
        ("add report <@U1> <@U2>", "one owner"),
        ("frobnicate 3", "don't know"),
        ("due 3 2025-12-01", "in the past"),
        ("due 3 yesterday", "in the past"),
        ("due 3 2026-02-30", "not a date"),
        ("due 3 friday 25:00", "not a time"),
        ("due 3 today 09:00", "already passed"),
        ("add report due 31 smarch", "can't read"),
        ("assign 3 dana", "Mention the person"),
        ("block 3", "what blocks it"),
        ("done 3 now", "only the task number"),
    ],
)
def test_bad_input_says_what_was_wrong_with_an_example(text, says):
    with pytest.raises(UsageError) as caught:
        parse(text)
    assert says in caught.value.message and caught.value.example


TOKENS = st.sampled_from(
    [
        *VERBS,
        "12",
        "#12",
        "#",
        "-3",
        "0",
        "40%",
        "150",
        "<@U123|dana>",
        "<@U9>",
        "<@",
        "due",
        "parent",
        "friday",
        "in",
        "3",
        "working",
        "days",
        "2026-03-14",
        "2026-13-40",
        "17:00",
        "mar",
        "14",
        "&lt;",
        "Q3",
        "filing",
        "",
        "é",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=80), st.lists(TOKENS, max_size=8).map(" ".join)))
def test_any_text_is_a_command_or_a_usage_error(text):
    try:
        cmd = parse(text)
    except UsageError as exc:
        assert exc.message and exc.example
        return
    assert cmd.verb in VERBS
    if cmd.verb == "add":
        assert cmd.title
    if cmd.progress is not None:
        assert 0 <= cmd.progress <= 100
    if cmd.due is not None:
        assert cmd.due.day >= date(2026, 1, 14)
