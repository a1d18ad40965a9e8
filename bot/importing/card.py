"""The neutral card every export is read into, and the checks that turn what a tool wrote into
what Vigil stores. Pure: the team's calendar and day/month order are handed in.

A `RawCard` is a row as the tool wrote it (text, or what a spreadsheet cell held); `settle`
makes it a `Card` or a `Refused` that names the row and says what to fix."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from bot.calendar import WorkCalendar
from bot.tasks import MAX_TEXT, MAX_TITLE

# Status words, compared lower-case, as the tools name them (Jira "Done", Karbon "Completed",
# ClickUp "complete", monday.com "Done", Trello lists named "Done").
DONE_WORDS = ("done", "complete", "completed", "closed", "resolved", "finished")
BLOCKED_WORDS = ("blocked", "stuck", "on hold", "waiting")
NUMERIC_DATE = re.compile(r"^([0-9]{1,2})[/.\-]([0-9]{1,2})[/.\-]([0-9]{2}|[0-9]{4})$")
# Month-name forms the exports write: Jira `14/Mar/26 5:00 PM`, others `Mar 14, 2026`.
NAMED_FORMATS = (
    "%d/%b/%y %I:%M %p",
    "%d/%b/%y",
    "%d/%b/%Y %I:%M %p",
    "%b %d, %Y",
    "%B %d, %Y",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d %Y",
    "%A, %B %d %Y",
)
DATE_HINT = "write it as 2026-03-14 (or 2026-03-14 17:00)"


@dataclass
class RawCard:
    ref: str  # the tool's own id for the card
    where: str  # "line 7", "card 5f2a…": how a person finds the row
    title: Any = None
    description: Any = None
    link: Any = None
    owner: Any = None
    due: Any = None
    progress: Any = None
    checklist: tuple[int, int] | None = None  # (items done, items in all)
    status: Any = None
    parent: str | None = None
    closed: bool = False  # archived, or completed by the tool's own flag


@dataclass(frozen=True)
class Card:
    ref: str
    where: str
    title: str
    description: str | None
    link: str | None
    owner: str | None  # as the export names the person: an email, a name or a Slack id
    due_at: datetime | None
    due_has_time: bool
    progress: int
    progress_given: bool  # a percentage or a checklist said so; not guessed from the status
    blocked: bool
    status: str | None
    parent: str | None
    finished: bool  # done or archived in the tool


@dataclass(frozen=True)
class Refused:
    ref: str
    where: str
    reason: str  # one sentence: what is wrong and what to write instead

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def settle(raw: RawCard, cal: WorkCalendar, month_first: bool) -> Card | Refused:
    def refuse(reason: str) -> Refused:
        return Refused(raw.ref, raw.where, reason)

    title = text(raw.title)
    if not title:
        return refuse("it has no title; give every card a title (a name) and import again.")
    if len(title) > MAX_TITLE:
        return refuse(f"its title is {len(title)} characters; shorten it to {MAX_TITLE} or fewer.")
    try:
        due = read_due(raw.due, cal, month_first)
    except ValueError:
        return refuse(f"I can't read the date “{text(raw.due)[:40]}”; {DATE_HINT}.")
    status = text(raw.status) or None
    low = (status or "").lower()
    finished = raw.closed or low in DONE_WORDS
    try:
        progress = read_progress(raw.progress)
    except ValueError:
        return refuse(
            f"progress “{text(raw.progress)[:20]}” is not a percentage from 0 to 100; "
            "write e.g. 40 or 40%."
        )
    given = progress is not None or bool(raw.checklist and raw.checklist[1]) or finished
    if progress is None and raw.checklist and raw.checklist[1]:
        done, total = raw.checklist
        progress = round(100 * done / total)
    if progress is None:
        progress = 100 if finished else 0
    description = str(raw.description).strip() if raw.description else None
    if description and len(description) > MAX_TEXT:
        description = (
            description[: MAX_TEXT - 1] + "…"
        )  # the card keeps the rest; the link leads there
    return Card(
        ref=raw.ref,
        where=raw.where,
        title=title,
        description=description or None,
        link=text(raw.link) or None,
        owner=text(raw.owner) or None,
        due_at=due[0] if due else None,
        due_has_time=due[1] if due else False,
        progress=progress,
        progress_given=given,
        blocked=not finished and any(w in low for w in BLOCKED_WORDS),
        status=status,
        parent=text(raw.parent) or None,
        finished=finished,
    )


def read_progress(value: Any) -> int | None:
    """40, "40", "40%", or a spreadsheet's percent cell (0.4). ValueError outside 0-100."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float) and not value.is_integer() and 0 <= value <= 1:
        value = value * 100  # a cell formatted as a percentage holds the fraction
    raw = str(value).strip().removesuffix("%").strip()
    number = float(raw)
    if not 0 <= number <= 100:
        raise ValueError(raw)
    return round(number)


def read_due(value: Any, cal: WorkCalendar, month_first: bool) -> tuple[datetime, bool] | None:
    """A deadline: (aware UTC instant, whether a time was given). A date alone means the end of
    that day in the team's zone; a time without an offset is the team's. Past dates are kept:
    an overdue card is the monitor's to flag, not the import's to refuse."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return _instant(value, cal)
    if isinstance(value, date):
        return cal.end_of_day(value), False
    raw = text(value)
    if raw.isdigit() and len(raw) >= 12:  # milliseconds since 1970, as ClickUp's (Unix) columns
        return datetime.fromtimestamp(int(raw) / 1000, tz=cal.tz).astimezone(cal.tz), True
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        moment = _other_forms(raw, month_first)
    if len(raw) <= 10 and moment.time() == time(0) and moment.tzinfo is None:
        return cal.end_of_day(moment.date()), False
    return _instant(moment, cal)


def _instant(moment: datetime, cal: WorkCalendar) -> tuple[datetime, bool]:
    if moment.tzinfo is None and moment.time() == time(0):
        return cal.end_of_day(moment.date()), False  # a spreadsheet's date cell
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=cal.tz)
    return moment.astimezone(UTC), True


def _other_forms(raw: str, month_first: bool) -> datetime:
    words = raw.split()
    match = NUMERIC_DATE.match(words[0]) if words else None
    if match and len(words) <= 2:
        a, b, year = (int(x) for x in match.groups())
        month, day = (a, b) if month_first else (b, a)
        year += 2000 if year < 100 else 0
        moment = datetime(year, month, day)
        if len(words) == 2:
            clock = datetime.strptime(words[1], "%H:%M").time()
            moment = datetime.combine(moment.date(), clock)
        return moment
    for form in NAMED_FORMATS:
        try:
            return datetime.strptime(re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", raw), form)
        except ValueError:
            continue
    raise ValueError(raw)
