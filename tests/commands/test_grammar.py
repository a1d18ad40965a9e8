"""The /task grammar: every form product.md lists, each class of bad input, and random text."""

from __future__ import annotations

import sys
import unicodedata
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.calendar import WorkCalendar
from bot.commands.grammar import USAGE, VERBS, Command, parse_command
from bot.commands.views.lists import build_help
from bot.dates import month_first, parse_deadline
from bot.errors import UserError
from tests.slackmarkup import mrkdwn_texts, stray

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
        ("list 2", Command("list", page=2)),
        ("team 3", Command("team", page=3)),
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


def test_a_title_of_200_characters_is_accepted():
    assert parse("add " + "x" * 200).title == "x" * 200


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
    ("text", "title", "day"),
    [
        # The date is the longest run after `due` that reads as one; the rest is title again.
        ("add Report due friday for Acme", "Report for Acme", date(2026, 1, 16)),
        ("add Report due friday 2 copies", "Report 2 copies", date(2026, 1, 16)),
        ("add Report due next month for Acme", "Report for Acme", date(2026, 2, 14)),
        ("add Close the books due end of month", "Close the books", date(2026, 1, 31)),
        ("add Close the books due end of the week", "Close the books", date(2026, 1, 16)),
        ("add Pay invoice due", "Pay invoice due", None),
        # Slack's markup becomes what the person typed; control characters go.
        ("add Ask <#C1|general> &amp; <!here> a\x00b\x07c", "Ask #general & @here abc", None),
    ],
)
def test_add_reads_the_date_and_gives_the_rest_back_to_the_title(text, title, day):
    cmd = parse(text)
    assert cmd.title == title and (cmd.due.day if cmd.due else None) == day


@pytest.mark.parametrize(
    ("zone", "text", "day"),
    [
        ("Europe/London", "2/3/2026", date(2026, 3, 2)),  # day first
        ("Europe/London", "14.03.26", date(2026, 3, 14)),
        ("Europe/Paris", "1/12", date(2026, 12, 1)),
        ("America/New_York", "2/3/2026", date(2026, 2, 3)),  # month first in the US
        ("America/Los_Angeles", "12/25", date(2026, 12, 25)),
        ("US/Pacific", "3/14/26", date(2026, 3, 14)),
    ],
)
def test_numeric_dates_follow_the_teams_convention(zone, text, day):
    assert parse_deadline(text, now=NOW, cal=WorkCalendar(zone)).day == day


def test_a_numeric_date_wrong_for_the_convention_says_which_it_is():
    assert month_first("America/Chicago") and not month_first("Europe/London")
    with pytest.raises(UserError, match="this team writes dates day first, e.g. 14/3/2026"):
        parse_deadline("12/25/2026", now=NOW, cal=CAL)
    with pytest.raises(UserError, match="month first, e.g. 3/14/2026"):
        parse_deadline("25/12/2026", now=NOW, cal=WorkCalendar("America/New_York"))


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
        ("progress 12 --5", "0 to 100"),
        ("progress 12 -5", "0 to 100"),
        ("progress 12 ²", "0 to 100"),
        ("progress 12 ⁵⁰", "0 to 100"),
        ("progress 12 ٥٠", "0 to 100"),
        ("done ²", "task number"),
        ("add Thing due yesterday", "in the past"),
        ("add Thing due last friday", "Fri 9 Jan 2026 is in the past"),
        ("add Thing due 2025-06-01 for Acme", "in the past"),
        ("add Thing due soon", "can't read “soon”"),
        ("add Thing due 3 apples", "can't read “3 apples”"),
        ("add Thing due friday 25:00", "not a time"),
        ("add Report due friday due monday", "one deadline"),
        ("add " + "x" * 201, "That title is 201 characters; a title has at most 200"),
        ("due 3 12/25/2026", "day first"),
        ("assign 3 dana", "Mention the person"),
        ("block 3", "what blocks it"),
        ("done 3 now", "only the task number"),
        ("list two", "takes a page number"),
        ("list 0", "takes a page number"),
        ("team ²", "takes a page number"),
    ],
)
def test_bad_input_says_what_was_wrong_with_an_example(text, says):
    with pytest.raises(UserError) as caught:
        parse(text)
    assert says in caught.value.message and caught.value.example


TOKENS = st.sampled_from(
    [
        *VERBS,
        "12",
        "#12",
        "#",
        "-3",
        "--5",
        "0",
        "40%",
        "150",
        "<@U123|dana>",
        "<@U9>",
        "<@",
        "<!channel>",
        "<!here>",
        "due",
        "parent",
        "friday",
        "yesterday",
        "last",
        "end",
        "of",
        "month",
        "in",
        "3",
        "working",
        "days",
        "2026-03-14",
        "2026-13-40",
        "1/12/2026",
        "12/25",
        "17:00",
        "mar",
        "14",
        "&lt;",
        "&amp;",
        "Q3",
        "filing",
        "",
        "é",
    ]
)
# Every character Unicode calls a digit (other scripts', superscripts, circled...), and every
# dash, beside the signs people put around numbers.
DIGITS_AND_DASHES = [
    ch
    for ch in map(chr, range(sys.maxunicode + 1))
    if ch.isdigit() or unicodedata.category(ch) == "Pd"
]
NUMBERISH = st.text(st.sampled_from(DIGITS_AND_DASHES + list("%#+.,:/")), min_size=1, max_size=4)
WORDS = st.one_of(TOKENS, NUMBERISH)
COMMANDS = st.builds(
    lambda verb, words: " ".join([verb, *words]),
    st.sampled_from(VERBS),
    st.lists(WORDS, max_size=6),
)


@pytest.mark.parametrize(
    "template",
    [
        "progress 12 {}",
        "progress {} 40",
        "{}",
        "show {}",
        "done {}",
        "assign {} <@U1>",
        "due 12 {}",
        "due 12 mar {}",
        "due 12 in {} working days",
        "add Report due {}",
        "add Report parent {}",
    ],
)
@settings(max_examples=60, deadline=None)
@given(number=NUMBERISH)
def test_every_number_slot_takes_any_unicode_digit_or_dash(template, number):
    """`str.isdigit` says yes to `²` and `int` then fails: each place that reads a number
    must answer a UserError, never crash, whatever digits Unicode has."""
    text = template.format(number)
    try:
        cmd = parse(text)
    except UserError as exc:
        assert not stray(exc.message, people=()), exc.message
        return
    assert cmd.progress is None or 0 <= cmd.progress <= 100


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=80), st.lists(WORDS, max_size=8).map(" ".join), COMMANDS))
def test_any_text_is_a_command_or_a_usage_error(text):
    try:
        cmd = parse(text)
    except UserError as exc:
        assert exc.message and exc.example
        # Whatever was typed, the error echoes it escaped: nothing in it pings or links.
        assert not stray(exc.message, people=()), exc.message
        return
    assert cmd.verb in VERBS
    if cmd.verb == "add":
        assert cmd.title and "\x00" not in cmd.title
    if cmd.progress is not None:
        assert 0 <= cmd.progress <= 100
    if cmd.due is not None:
        assert cmd.due.day >= date(2026, 1, 14)


@pytest.mark.parametrize(
    ("text", "echoed"),
    [
        ("<!channel>", "I don't know “@channel”"),
        ("done <!here>", "not “@here”"),
        ("due 5 friday <!channel>", "“friday @channel”"),
        ("due 5 <!channel>", "“@channel”"),
        ("progress x&lt;1&gt; 5", "“x&lt;1&gt;”"),
        ("frob&amp;lt;", "“frob&amp;lt;”"),  # typed "frob&lt;": shown as typed, escaped once
    ],
)
def test_errors_echo_what_was_typed_escaped_exactly_once(text, echoed):
    with pytest.raises(UserError) as caught:
        parse(text)
    assert echoed in caught.value.message and not stray(caught.value.message, people=())


def test_help_shows_its_placeholders_instead_of_letting_slack_read_them_as_links():
    assert "<title>" in USAGE  # written for people in the source
    text, blocks = build_help(USAGE)
    for shown in mrkdwn_texts({"text": text, "blocks": blocks}):
        assert not stray(shown, people=()), shown
    assert "&lt;title&gt;" in blocks[0]["text"]["text"]
