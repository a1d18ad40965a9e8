"""Dates as people write them: `2026-03-14`, `today`, `tomorrow`, `friday`, `in 3 days`,
`in 2 working days`, `mar 14`, `14 march`, `14/3` (day first, or month first where the team is in
the US), optionally with a time (`friday 17:00`). Used by `/task`, the forms and `--now` alike.
Pure: `now` and the team's calendar are handed in."""

from __future__ import annotations

import calendar as months
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from importlib import resources

import dateparser

from bot.calendar import WorkCalendar
from bot.errors import UserError
from bot.slack.text import shown

NUMERIC_DATE = re.compile(r"^([0-9]{1,2})[/.]([0-9]{1,2})(?:[/.]([0-9]{4}|[0-9]{2}))?$")

WEEKDAYS = {
    name: i
    for i, names in enumerate(
        [
            ("monday", "mon"),
            ("tuesday", "tue", "tues"),
            ("wednesday", "wed"),
            ("thursday", "thu", "thur", "thurs"),
            ("friday", "fri"),
            ("saturday", "sat"),
            ("sunday", "sun"),
        ]
    )
    for name in names
}
MONTHS = {
    name: i + 1
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ]
    )
    for name in names
}
HHMM = re.compile(r"^([0-9]{1,2}):([0-9]{2})$")
# Words that start a date: after `due`, text that begins with one of these and cannot be read
# is a mistyped date (an error), where other words ("due diligence") are part of the title.
DATE_WORDS = {
    "today",
    "tomorrow",
    "yesterday",
    "tonight",
    "in",
    "next",
    "last",
    "this",
    "on",
    "end",
    "eod",
    "eow",
    "eom",
    "soon",
    "asap",
    "week",
    "month",
}
LONGEST_DATE = 6  # words; a date phrase is never longer

DATE_EXAMPLE = "/task due 12 friday   ·   due 2026-03-14   ·   due in 3 working days"


@dataclass(frozen=True)
class Deadline:
    at: datetime  # aware UTC: the end of the day for a date, the instant for a date and time
    has_time: bool
    day: date  # in the team's zone


# -- reading ----------------------------------------------------------------------------------
def _next_date(today: date, month: int, day: int) -> date:
    candidate = date(today.year, month, day)
    return candidate if candidate >= today else date(today.year + 1, month, day)


@lru_cache(maxsize=64)
def month_first(timezone: str) -> bool:
    """Whether people in this zone write 3/14 for 14 March: in the US, yes; elsewhere, day
    first. From the tz database's own table of zones by country."""
    if timezone.startswith("US/"):
        return True
    table = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text()
    return any(
        line.split("\t")[0] == "US" and line.split("\t")[2] == timezone
        for line in table.splitlines()
        if not line.startswith("#") and line.count("\t") >= 2
    )


def _numeric_day(text: str, today: date, cal: WorkCalendar) -> date | None:
    """`14/3`, `14/3/2026`, `14.03.26`: day first, or month first where the team is in the US."""
    match = NUMERIC_DATE.match(text)
    if not match:
        return None
    first, second, year = match.groups()
    us = month_first(cal.timezone)
    month, day = (int(first), int(second)) if us else (int(second), int(first))
    example = "3/14/2026 for 14 March" if us else "14/3/2026 for 14 March"
    try:
        if year is None:
            return _next_date(today, month, day)
        return date(int(year) + (2000 if len(year) == 2 else 0), month, day)
    except ValueError:
        order = "month first" if us else "day first"
        raise UserError(
            f"“{text}” is not a date: this team writes dates {order}, e.g. {example}.",
            f"/task due 12 {example.split()[0]}",
        ) from None


def _end_of(unit: str, today: date) -> date | None:
    if unit == "month":
        return today.replace(day=months.monthrange(today.year, today.month)[1])
    if unit == "week":  # the Friday of this working week, or of the next one at a weekend
        return today + timedelta(days=(4 - today.weekday()) % 7)
    return None


def _explicit_day(words: list[str], today: date, cal: WorkCalendar) -> date | None:
    """The forms product.md lists, handled exactly; None when it is none of them."""
    text = " ".join(words)
    if text in ("today", "eod", "end of day", "end of the day"):
        return today
    if text == "tomorrow":
        return today + timedelta(days=1)
    if text == "yesterday":
        return today - timedelta(days=1)
    if text in WEEKDAYS or (
        len(words) == 2 and words[0] in ("next", "on") and words[1] in WEEKDAYS
    ):
        target = WEEKDAYS[words[-1]]
        ahead = (target - today.weekday()) % 7 or 7  # the next such day, never today
        return today + timedelta(days=ahead)
    if len(words) == 2 and words[0] == "last" and words[1] in WEEKDAYS:
        return today - timedelta(days=(today.weekday() - WEEKDAYS[words[1]]) % 7 or 7)
    match = re.fullmatch(r"(?:the )?end of (?:the |this )?(week|month)|eo(w|m)", text)
    if match:
        unit = match.group(1) or {"w": "week", "m": "month"}[match.group(2)]
        return _end_of(unit, today)
    match = re.fullmatch(r"in ([0-9]{1,4}) (working |business )?days?", text)
    if match:
        n = int(match.group(1))
        return cal.add_working_days(today, n) if match.group(2) else today + timedelta(days=n)
    match = re.fullmatch(r"in ([0-9]{1,3}) weeks?", text)
    if match:
        return today + timedelta(weeks=int(match.group(1)))
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return date.fromisoformat(text)
    numeric = _numeric_day(text, today, cal)
    if numeric is not None:
        return numeric
    if len(words) == 2:
        first, second = words
        if first in MONTHS and second.isascii() and second.isdigit():
            return _next_date(today, MONTHS[first], int(second))
        if second in MONTHS and first.isascii() and first.isdigit():
            return _next_date(today, MONTHS[second], int(first))
    return None


def parse_deadline(text: str, *, now: datetime, cal: WorkCalendar) -> Deadline:
    """`text` as a deadline, or a UserError saying what is wrong with it."""
    if not text.split():
        raise UserError("Say when it is due.", DATE_EXAMPLE)
    deadline = read_deadline(text.split(), now=now, cal=cal)
    if deadline is None:
        raise UserError(f"I can't read “{shown(' '.join(text.split()))}” as a date.", DATE_EXAMPLE)
    return deadline


def read_deadline(
    raw_words: list[str], *, now: datetime, cal: WorkCalendar, loose: bool = True
) -> Deadline | None:
    """None when the words are not a date at all; a UserError when they are one that cannot
    be a deadline (in the past, not on the calendar, too far away). Only the forms product.md
    lists unless `loose`, which lets dateparser try other phrasings too."""
    raw = " ".join(raw_words)
    words = [w.strip(",.").lower() for w in raw_words]
    words = [w for w in words if w]
    if not words:
        return None
    local_now = now.astimezone(cal.tz)
    today = local_now.date()
    at_time: time | None = None
    clock = HHMM.match(words[-1]) if len(words) > 1 else None
    if clock:
        hour, minute = (int(x) for x in clock.groups())
        if hour > 23 or minute > 59:
            raise UserError(f"{shown(words[-1])} is not a time of day.", "due friday 17:00")
        at_time, words = time(hour, minute), words[:-1]
    try:
        day = _explicit_day(words, today, cal)
    except UserError:
        raise
    except ValueError:
        raise UserError(f"“{shown(raw)}” is not a date on the calendar.", DATE_EXAMPLE) from None
    if day is None and loose:
        day = _dateparser_day(" ".join(words), local_now, cal)
    if day is None:
        return None
    if day < today:
        raise UserError(
            f"{day:%a} {day.day} {day:%b %Y} is in the past; give today or a later date.",
            DATE_EXAMPLE,
        )
    if day > today + timedelta(days=5 * 366):
        raise UserError(f"{day.isoformat()} is more than five years away.", DATE_EXAMPLE)
    if at_time is None:
        return Deadline(cal.end_of_day(day), False, day)
    instant = datetime.combine(day, at_time, cal.tz)
    if instant <= local_now:
        raise UserError(
            f"{day:%a} {day.day} {day:%b} {at_time:%H:%M} has already passed.", DATE_EXAMPLE
        )
    return Deadline(instant.astimezone(now.tzinfo), True, day)


def _dateparser_day(text: str, local_now: datetime, cal: WorkCalendar) -> date | None:
    """Other phrasings ("next month", "1st of april"), by dateparser, preferring the future.
    Numbers alone are not handed over: dateparser reads `1/12` month first, whatever the team."""
    if not re.search(r"[a-z]", text) or len(text) > 40 or not text.isascii():
        return None
    try:
        parsed = dateparser.parse(
            text,
            languages=["en"],
            settings={
                "PREFER_DATES_FROM": "future",
                "TIMEZONE": cal.timezone,
                "RETURN_AS_TIMEZONE_AWARE": True,
                "RELATIVE_BASE": local_now.replace(tzinfo=None),
                "STRICT_PARSING": False,
            },
        )
    except Exception:  # dateparser raises assorted errors on odd input; odd input is not a date
        return None
    return parsed.date() if parsed else None
