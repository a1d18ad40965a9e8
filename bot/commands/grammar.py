"""The `/task` grammar: text in, a `Command` or a `UsageError` out. Pure: `now` and the team's
calendar are handed in.

The manifest sets `should_escape: true`, so a mention arrives as `<@U123|dana>`; ids may be
written `12` or `#12`. Every error says what was wrong and shows the right form.
"""

from __future__ import annotations

import calendar as months
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from importlib import resources

import dateparser

from bot.calendar import WorkCalendar
from bot.slack.text import plain, shown
from bot.tasks import MAX_TITLE

VERBS = (
    "add",
    "new",
    "show",
    "progress",
    "done",
    "cancel",
    "block",
    "unblock",
    "assign",
    "due",
    "list",
    "team",
    "help",
    "import",
)
MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
# ASCII digits only: `str.isdigit` and `\d` take superscripts and other scripts' digits.
TASK_ID = re.compile(r"^#?([0-9]{1,9})$")
PAGE = re.compile(r"^([0-9]{1,4})$")
PERCENT = re.compile(r"^(-?[0-9]{1,9})%?$")
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

# Placeholders such as <title> are written with angle brackets here, for people; the builder
# escapes the whole text once so that Slack shows them instead of reading them as links.
USAGE = """*/task* — tasks that Vigil watches
• `/task add <title> [@owner] [due <date>] [parent <id>]`: create, e.g. `/task add Q3 filing for Acme @dana due friday`
• `/task new`: the same, in a form
• `/task <id>` or `/task show <id>`: details, findings, forecast, recent history
• `/task progress <id> <0-100>[%] [note]`: report progress, e.g. `/task progress 12 40 waiting on figures`
• `/task done <id>` · `/task cancel <id>`: close it
• `/task block <id> <reason>` · `/task unblock <id>`: blocked goes to the managers at once
• `/task assign <id> @user` · `/task due <id> <date>`: change the owner or the deadline
• `/task list [page]`: your open tasks, riskiest first · `/task team [page]`: managers, the team's open findings
• `/task import`: managers, bring in a board exported from Asana, Trello, Jira, ClickUp, Todoist, monday.com or Karbon
Dates: `2026-03-14`, `today`, `tomorrow`, `friday`, `in 3 days`, `in 2 working days`, `mar 14`, `14 march`, optionally with a time such as `friday 17:00`."""


class UsageError(ValueError):
    """What was wrong, in one sentence, plus an example of the right form."""

    def __init__(self, message: str, example: str) -> None:
        super().__init__(message)
        self.message, self.example = message, example


@dataclass(frozen=True)
class Deadline:
    at: datetime  # aware UTC: the end of the day for a date, the instant for a date and time
    has_time: bool
    day: date  # in the team's zone


@dataclass(frozen=True)
class Command:
    verb: str
    task_id: int | None = None
    title: str | None = None
    owner: str | None = None
    due: Deadline | None = None
    parent_id: int | None = None
    progress: int | None = None
    text: str | None = None
    page: int = 1  # `/task list 2`, `/task team 3`


# -- dates ----------------------------------------------------------------------------------
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
        raise UsageError(
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
    """`text` as a deadline, or a UsageError saying what is wrong with it."""
    if not text.split():
        raise UsageError("Say when it is due.", DATE_EXAMPLE)
    deadline = read_deadline(text.split(), now=now, cal=cal)
    if deadline is None:
        raise UsageError(f"I can't read “{shown(' '.join(text.split()))}” as a date.", DATE_EXAMPLE)
    return deadline


def read_deadline(
    raw_words: list[str], *, now: datetime, cal: WorkCalendar, loose: bool = True
) -> Deadline | None:
    """None when the words are not a date at all; a UsageError when they are one that cannot
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
            raise UsageError(f"{shown(words[-1])} is not a time of day.", "due friday 17:00")
        at_time, words = time(hour, minute), words[:-1]
    try:
        day = _explicit_day(words, today, cal)
    except UsageError:
        raise
    except ValueError:
        raise UsageError(f"“{shown(raw)}” is not a date on the calendar.", DATE_EXAMPLE) from None
    if day is None and loose:
        day = _dateparser_day(" ".join(words), local_now, cal)
    if day is None:
        return None
    if day < today:
        raise UsageError(
            f"{day:%a} {day.day} {day:%b %Y} is in the past; give today or a later date.",
            DATE_EXAMPLE,
        )
    if day > today + timedelta(days=5 * 366):
        raise UsageError(f"{day.isoformat()} is more than five years away.", DATE_EXAMPLE)
    if at_time is None:
        return Deadline(cal.end_of_day(day), False, day)
    instant = datetime.combine(day, at_time, cal.tz)
    if instant <= local_now:
        raise UsageError(
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


# -- commands -------------------------------------------------------------------------------
def _task_id(token: str | None, verb: str, example: str) -> int:
    match = TASK_ID.match(token or "")
    if not match or int(match.group(1)) == 0:
        given = f"“{shown(token[:30])}”" if token else "nothing"
        raise UsageError(f"`{verb}` needs a task number such as 12 or #12, not {given}.", example)
    return int(match.group(1))


def _mention(token: str | None, example: str) -> str:
    match = MENTION.fullmatch(token or "")
    if not match:
        raise UsageError("Mention the person with @, e.g. @dana.", example)
    return match.group(1)


def parse_command(text: str, *, now: datetime, cal: WorkCalendar) -> Command:
    words = text.split()
    if not words or words[0].lower() in ("help", "?"):
        return Command("help")
    verb, rest = words[0].lower(), words[1:]
    if TASK_ID.match(words[0]) and len(words) == 1:
        return Command("show", task_id=_task_id(words[0], "show", "/task 12"))
    if verb not in VERBS:
        raise UsageError(
            f"I don't know “{shown(words[0][:30])}”; `/task help` lists what I do.",
            "/task add Q3 filing @dana due friday",
        )
    if verb in ("new", "import"):
        return Command(verb)
    if verb in ("list", "team"):
        if not rest:
            return Command(verb)
        page = PAGE.match(rest[0]) if len(rest) == 1 else None
        if not page or int(page.group(1)) == 0:
            raise UsageError(f"`{verb}` takes a page number, such as 2.", f"/task {verb} 2")
        return Command(verb, page=int(page.group(1)))
    if verb == "add":
        return _parse_add(rest, now, cal)
    example = {
        "show": "/task show 12",
        "progress": "/task progress 12 40 waiting on the client",
        "done": "/task done 12",
        "cancel": "/task cancel 12",
        "block": "/task block 12 waiting for the client's figures",
        "unblock": "/task unblock 12",
        "assign": "/task assign 12 @dana",
        "due": "/task due 12 friday",
    }[verb]
    task_id = _task_id(rest[0] if rest else None, verb, example)
    args = rest[1:]
    if verb == "progress":
        match = PERCENT.match(args[0] if args else "")
        if not match or not 0 <= int(match.group(1)) <= 100:
            raise UsageError("Progress is a number from 0 to 100.", example)
        note = plain(" ".join(args[1:])).strip() or None
        return Command("progress", task_id=task_id, progress=int(match.group(1)), text=note)
    if verb == "block":
        reason = " ".join(plain(" ".join(args)).split())
        if not reason:
            raise UsageError("Say what blocks it.", example)
        return Command("block", task_id=task_id, text=reason)
    if verb == "assign":
        if len(args) != 1:
            raise UsageError("Assign takes one person, mentioned with @.", example)
        return Command("assign", task_id=task_id, owner=_mention(args[0], example))
    if verb == "due":
        return Command("due", task_id=task_id, due=parse_deadline(" ".join(args), now=now, cal=cal))
    if args:
        raise UsageError(f"`{verb}` takes only the task number.", example)
    return Command(verb, task_id=task_id)


def _dateish(word: str) -> bool:
    """Whether the word after `due` starts a date ("due friday") rather than a title ("due
    diligence for Birch"): a date that then cannot be read is an error, not part of the title."""
    low = word.lower().strip(",.")
    return low[:1].isdigit() or low in WEEKDAYS or low in MONTHS or low in DATE_WORDS


def _ends_date(word: str) -> bool:
    return bool(MENTION.fullmatch(word)) or word.lower() in ("parent", "due")


def _parse_add(words: list[str], now: datetime, cal: WorkCalendar) -> Command:
    example = "/task add Q3 filing for Acme @dana due friday parent 7"
    title: list[str] = []
    owner: str | None = None
    due: Deadline | None = None
    parent: int | None = None
    i = 0
    while i < len(words):
        word, low = words[i], words[i].lower()
        if MENTION.fullmatch(word):
            if owner is not None:
                raise UsageError("A task has one owner; mention one person.", example)
            owner = _mention(word, example)
            i += 1
        elif low == "parent" and i + 1 < len(words) and TASK_ID.match(words[i + 1]):
            if parent is not None:
                raise UsageError("A task has one parent.", example)
            parent = _task_id(words[i + 1], "parent", example)
            i += 2
        elif low == "due" and i + 1 < len(words) and not _ends_date(words[i + 1]):
            found = _date_after_due(words[i + 1 :], now, cal)
            if found is None:
                title.append(word)  # "due diligence": a title word
                i += 1
                continue
            if due is not None:
                raise UsageError("Give one deadline.", example)
            due, used = found
            i += 1 + used  # what follows the date is title again: "due friday for Acme"
        else:
            title.append(word)
            i += 1
    text = " ".join(plain(" ".join(title)).split())
    if not text:
        raise UsageError("A task needs a title.", example)
    if len(text) > MAX_TITLE:
        raise UsageError(
            f"That title is {len(text)} characters; a title has at most {MAX_TITLE}.", example
        )
    return Command("add", title=text, owner=owner, due=due, parent_id=parent)


def _date_after_due(
    words: list[str], now: datetime, cal: WorkCalendar
) -> tuple[Deadline, int] | None:
    """The longest run of words after `due` that reads as a date, and how many words it took;
    None when none does and the first word does not look like a date either."""
    run: list[str] = []
    for word in words[:LONGEST_DATE]:
        if _ends_date(word):
            break
        run.append(word)
    # The exact forms first: dateparser reads too much into "friday 2 copies".
    for loose in (False, True):
        for n in range(len(run), 0, -1):
            deadline = read_deadline(run[:n], now=now, cal=cal, loose=loose)
            if deadline is not None:
                return deadline, n
    if _dateish(run[0]):
        raise UsageError(
            f"I can't read “{shown(' '.join(run))}” as a date.",
            "/task add Q3 filing due friday   ·   due 2026-03-14   ·   due in 3 working days",
        )
    return None
