"""The `/task` grammar: text in, a `Command` or a `UserError` out. Pure: `now` and the team's
calendar are handed in.

The manifest sets `should_escape: true`, so a mention arrives as `<@U123|dana>`; ids may be
written `12` or `#12`. Every error says what was wrong and shows the right form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from bot.calendar import WorkCalendar
from bot.dates import (
    DATE_WORDS,
    LONGEST_DATE,
    MONTHS,
    WEEKDAYS,
    Deadline,
    parse_deadline,
    read_deadline,
)
from bot.errors import UserError
from bot.slack.text import plain, shown
from bot.tasks import check_title

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


# -- commands -------------------------------------------------------------------------------
def _task_id(token: str | None, verb: str, example: str) -> int:
    match = TASK_ID.match(token or "")
    if not match or int(match.group(1)) == 0:
        given = f"“{shown(token[:30])}”" if token else "nothing"
        raise UserError(f"`{verb}` needs a task number such as 12 or #12, not {given}.", example)
    return int(match.group(1))


def _mention(token: str | None, example: str) -> str:
    match = MENTION.fullmatch(token or "")
    if not match:
        raise UserError("Mention the person with @, e.g. @dana.", example)
    return match.group(1)


def parse_command(text: str, *, now: datetime, cal: WorkCalendar) -> Command:
    words = text.split()
    if not words or words[0].lower() in ("help", "?"):
        return Command("help")
    verb, rest = words[0].lower(), words[1:]
    if TASK_ID.match(words[0]) and len(words) == 1:
        return Command("show", task_id=_task_id(words[0], "show", "/task 12"))
    if verb not in VERBS:
        raise UserError(
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
            raise UserError(f"`{verb}` takes a page number, such as 2.", f"/task {verb} 2")
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
            raise UserError("Progress is a number from 0 to 100.", example)
        note = plain(" ".join(args[1:])).strip() or None
        return Command("progress", task_id=task_id, progress=int(match.group(1)), text=note)
    if verb == "block":
        reason = " ".join(plain(" ".join(args)).split())
        if not reason:
            raise UserError("Say what blocks it.", example)
        return Command("block", task_id=task_id, text=reason)
    if verb == "assign":
        if len(args) != 1:
            raise UserError("Assign takes one person, mentioned with @.", example)
        return Command("assign", task_id=task_id, owner=_mention(args[0], example))
    if verb == "due":
        return Command("due", task_id=task_id, due=parse_deadline(" ".join(args), now=now, cal=cal))
    if args:
        raise UserError(f"`{verb}` takes only the task number.", example)
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
                raise UserError("A task has one owner; mention one person.", example)
            owner = _mention(word, example)
            i += 1
        elif low == "parent" and i + 1 < len(words) and TASK_ID.match(words[i + 1]):
            if parent is not None:
                raise UserError("A task has one parent.", example)
            parent = _task_id(words[i + 1], "parent", example)
            i += 2
        elif low == "due" and i + 1 < len(words) and not _ends_date(words[i + 1]):
            found = _date_after_due(words[i + 1 :], now, cal)
            if found is None:
                title.append(word)  # "due diligence": a title word
                i += 1
                continue
            if due is not None:
                raise UserError("Give one deadline.", example)
            due, used = found
            i += 1 + used  # what follows the date is title again: "due friday for Acme"
        else:
            title.append(word)
            i += 1
    text = check_title(plain(" ".join(title)))
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
        raise UserError(
            f"I can't read “{shown(' '.join(run))}” as a date.",
            "/task add Q3 filing due friday   ·   due 2026-03-14   ·   due in 3 working days",
        )
    return None
