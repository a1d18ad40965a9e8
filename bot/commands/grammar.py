"""The `/task` grammar: text in, a `Command` or a `UsageError` out. Pure: `now` and the team's
calendar are handed in.

The manifest sets `should_escape: true`, so a mention arrives as `<@U123|dana>`; ids may be
written `12` or `#12`. Every error says what was wrong and shows the right form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import dateparser

from bot.calendar import WorkCalendar

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
)
MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
TASK_ID = re.compile(r"^#?(\d{1,9})$")
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
HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")
DATE_EXAMPLE = "/task due 12 friday   ·   due 2026-03-14   ·   due in 3 working days"

USAGE = """*/task* — tasks that Vigil watches
• `/task add <title> [@owner] [due <date>] [parent <id>]`: create, e.g. `/task add Q3 filing for Acme @dana due friday`
• `/task new`: the same, in a form
• `/task <id>` or `/task show <id>`: details, findings, forecast, recent history
• `/task progress <id> <0-100>[%] [note]`: report progress, e.g. `/task progress 12 40 waiting on figures`
• `/task done <id>` · `/task cancel <id>`: close it
• `/task block <id> <reason>` · `/task unblock <id>`: blocked goes to the managers at once
• `/task assign <id> @user` · `/task due <id> <date>`: change the owner or the deadline
• `/task list`: your open tasks, riskiest first · `/task team`: managers, the team's open findings
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


def unescape(text: str) -> str:
    """Slack escapes `&`, `<` and `>` in what people type; keep their words as typed (they
    are escaped again whenever Vigil shows them)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# -- dates ----------------------------------------------------------------------------------
def _next_date(today: date, month: int, day: int) -> date:
    candidate = date(today.year, month, day)
    return candidate if candidate >= today else date(today.year + 1, month, day)


def _explicit_day(words: list[str], today: date, cal: WorkCalendar) -> date | None:
    """The forms product.md lists, handled exactly; None when it is none of them."""
    text = " ".join(words)
    if text == "today":
        return today
    if text == "tomorrow":
        return today + timedelta(days=1)
    if text in WEEKDAYS or (
        len(words) == 2 and words[0] in ("next", "on") and words[1] in WEEKDAYS
    ):
        target = WEEKDAYS[words[-1]]
        ahead = (target - today.weekday()) % 7 or 7  # the next such day, never today
        return today + timedelta(days=ahead)
    match = re.fullmatch(r"in (\d{1,4}) (working |business )?days?", text)
    if match:
        n = int(match.group(1))
        return cal.add_working_days(today, n) if match.group(2) else today + timedelta(days=n)
    match = re.fullmatch(r"in (\d{1,3}) weeks?", text)
    if match:
        return today + timedelta(weeks=int(match.group(1)))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return date.fromisoformat(text)
    if len(words) == 2:
        first, second = words
        if first in MONTHS and second.isdigit():
            return _next_date(today, MONTHS[first], int(second))
        if second in MONTHS and first.isdigit():
            return _next_date(today, MONTHS[second], int(first))
    return None


def parse_deadline(text: str, *, now: datetime, cal: WorkCalendar) -> Deadline:
    raw = " ".join(text.split())
    words = [w.strip(",.").lower() for w in raw.split()]
    if not words:
        raise UsageError("Say when it is due.", DATE_EXAMPLE)
    local_now = now.astimezone(cal.tz)
    today = local_now.date()
    at_time: time | None = None
    if len(words) > 1 and HHMM.match(words[-1]):
        hour, minute = (int(x) for x in HHMM.match(words[-1]).groups())  # type: ignore[union-attr]
        if hour > 23 or minute > 59:
            raise UsageError(f"{words[-1]} is not a time of day.", "due friday 17:00")
        at_time, words = time(hour, minute), words[:-1]
    try:
        day = _explicit_day(words, today, cal)
    except ValueError:
        raise UsageError(f"“{raw}” is not a date on the calendar.", DATE_EXAMPLE) from None
    if day is None:
        day = _dateparser_day(" ".join(words), local_now, cal)
    if day is None:
        raise UsageError(f"I can't read “{raw}” as a date.", DATE_EXAMPLE)
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
    """Other phrasings ("next month", "1st of april"), by dateparser, preferring the future."""
    if not re.search(r"[a-z0-9]", text) or len(text) > 40:
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
        shown = f"“{token}”" if token else "nothing"
        raise UsageError(f"`{verb}` needs a task number such as 12 or #12, not {shown}.", example)
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
            f"I don't know “{words[0][:30]}”; `/task help` lists what I do.",
            "/task add Q3 filing @dana due friday",
        )
    if verb in ("new", "list", "team"):
        return Command(verb)
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
        raw = args[0].rstrip("%") if args else ""
        if not raw.lstrip("-").isdigit() or not 0 <= int(raw) <= 100:
            raise UsageError("Progress is a number from 0 to 100.", example)
        note = unescape(" ".join(args[1:])) or None
        return Command("progress", task_id=task_id, progress=int(raw), text=note)
    if verb == "block":
        if not args:
            raise UsageError("Say what blocks it.", example)
        return Command("block", task_id=task_id, text=unescape(" ".join(args)))
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
    diligence for Birch"): a date that then fails to parse is an error, not part of the title."""
    low = word.lower().strip(",.")
    return (
        low[:1].isdigit()
        or low in WEEKDAYS
        or low in MONTHS
        or low in ("today", "tomorrow", "in", "next", "on")
    )


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
        elif low == "due" and i + 1 < len(words) and _dateish(words[i + 1]):
            # The date runs to the next mention, `parent`, or the end.
            j = i + 1
            while (
                j < len(words) and not MENTION.fullmatch(words[j]) and words[j].lower() != "parent"
            ):
                j += 1
            if due is not None:
                raise UsageError("Give one deadline.", example)
            due = parse_deadline(" ".join(words[i + 1 : j]), now=now, cal=cal)
            i = j
        else:
            title.append(word)
            i += 1
    text = unescape(" ".join(title))
    if not text:
        raise UsageError("A task needs a title.", example)
    return Command("add", title=text, owner=owner, due=due, parent_id=parent)
