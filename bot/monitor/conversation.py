"""What Vigil says about cases: the owner's DM (several cases in one), the reminder, the
managers' daily digest, a case's message of its own, and the replies in their threads.

Builders are pure: `CaseView`s in, `(text, blocks)` out. A message is always built from its
cases as they are now, so an edit of a DM or of the digest is the same builder run again: a
problem that joined shows, one that cleared goes, a resolved case says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from bot.calendar import WorkCalendar
from bot.monitor.messages import Alert, forecast_line, numbers, offered_day, owner_buttons, problem
from bot.monitor.rulebook import RULEBOOK, severity
from bot.slack import ids
from bot.slack.blocks import (
    MESSAGE_BLOCKS,
    Block,
    actions,
    button,
    context,
    datepicker,
    day_label,
    escape,
    mention,
    section,
    task_ref,
    users_select,
)

OWNER_BLOCKS_PER_CASE = 5
DIGEST_BLOCKS_PER_CASE = 2


@dataclass(frozen=True)
class CaseView:
    case_id: int
    task_id: int
    title: str
    status: str  # open, resolved
    problems: tuple[Alert, ...]  # what is wrong now, the most severe first
    owner_id: str | None
    now: datetime
    cal: WorkCalendar
    opened_at: datetime
    back: int = 0
    reason: str | None = None  # resolved: why, in words
    escalated: bool = False
    reminders: int = 0
    reminder_cap: int = 2
    snoozed_until: datetime | None = None
    owner_away_until: datetime | None = None
    owner_away: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)
    late_days: int = 0  # the forecast's, for ordering
    handed_to: str | None = None  # in a DM: the case is this person's now, not the reader's

    @property
    def open(self) -> bool:
        return self.status == "open" and bool(self.problems) and self.handed_to is None

    @property
    def rules(self) -> frozenset[str]:
        return frozenset(a.rule for a in self.problems)

    def weight(self) -> tuple:
        """Most severe first: blocked, overdue, then by how late the forecast is (the rules'
        severity only breaks ties: a stall due on time waits behind a task weeks late)."""
        rules = self.rules
        top = max((severity(a.rule) for a in self.problems), default=0)
        return (
            -int(self.open),
            -int("blocked" in rules),
            -int("overdue" in rules),
            -self.late_days,
            -top,
            self.task_id,
        )

    def open_for(self) -> str:
        days = self.cal.working_days_between(
            self.cal.local_date(self.opened_at), self.cal.local_date(self.now)
        )
        if days == 0:
            return "today"
        return f"{days} working day{'s' if days != 1 else ''}"


def _away(v: CaseView) -> str:
    if not v.owner_away:
        return ""
    until = (
        f" until {day_label(v.cal.local_date(v.owner_away_until))}" if v.owner_away_until else ""
    )
    return f"owner away{until}"


def _problem_lines(v: CaseView) -> str:
    return "\n".join(f"• {problem(a)[0]}" for a in v.problems)


def _resolved_line(v: CaseView) -> str:
    if v.handed_to:
        return (
            f":arrow_right: {task_ref(v.task_id, v.title)} was reassigned to "
            f"{mention(v.handed_to)}, who hears about it from now on."
        )
    return (
        f":white_check_mark: {task_ref(v.task_id, v.title)} no longer needs attention: "
        f"{v.reason or 'cleared'}."
    )


# -- the owner -------------------------------------------------------------------------------
def owner_case_blocks(v: CaseView, *, reminder: bool = False) -> list[Block]:
    """One case in the owner's DM: every problem in numbers, why, what clears it, and the
    buttons that fix it; resolved, one line saying why."""
    if not v.open:
        return [section(_resolved_line(v))]
    lead = ":warning: "
    if v.back:
        lead += "*Back:* "
    elif reminder:
        lead += f"*Reminder {v.reminders} of {v.reminder_cap}:* "
    head = f"{lead}{task_ref(v.task_id, v.title)}\n{_problem_lines(v)}"
    why = "\n".join(f"*Why:* {problem(a)[1]}  *Clears when:* {problem(a)[2]}" for a in v.problems)
    details = f"{why}\n*{forecast_line(v.problems[0])}*"
    if v.snoozed_until:
        details += f"\nReminders snoozed until {day_label(v.cal.local_date(v.snoozed_until))}."
    picker = next((a for a in v.problems if a.rule == "deadline_conflict"), v.problems[0])
    return [section(head), numbers(v.problems[0]), section(details)] + owner_buttons(
        picker, v.rules
    )


def build_owner_message(
    cases: list[CaseView], *, reminder: bool = False
) -> tuple[str, list[Block]]:
    """The owner's DM (or reminder): every case due to be told, in one message, within Slack's
    50 blocks; past that, how many more and where to see them."""
    shown = [c for c in cases if c.open or c.status == "resolved" or c.handed_to]
    open_ = [c for c in shown if c.open]
    room = (MESSAGE_BLOCKS - 2) // OWNER_BLOCKS_PER_CASE
    first = open_[0] if open_ else (shown[0] if shown else None)
    if first is None:
        return "Nothing needs your attention now.", [section("Nothing needs your attention now.")]
    word = "Reminder: " if reminder and open_ else ""
    if len(open_) == 1 or (len(shown) == 1):
        if first.open:
            what = problem(first.problems[0])[0]
        elif first.handed_to:
            what = f"was reassigned to {mention(first.handed_to)}"
        else:
            what = f"no longer needs attention: {first.reason or 'cleared'}"
        text = f"{word}#{first.task_id} {escape(first.title)} {what}."
    elif open_:
        text = f"{word}{len(open_)} of your tasks need attention: " + ", ".join(
            f"#{c.task_id}" for c in open_
        )
    else:
        text = "Your tasks no longer need attention: " + ", ".join(f"#{c.task_id}" for c in shown)
    blocks: list[Block] = []
    if len(shown) > 1:
        blocks.append(section(f"*{text}*"))  # mrkdwn already: its title is escaped
    for case in shown[:room]:
        blocks += owner_case_blocks(case, reminder=reminder)
    if len(shown) > room:
        blocks.append(context(f"…and {len(shown) - room} more: `/task list` shows them all."))
    return text, blocks


# -- the managers ------------------------------------------------------------------------------
def _entry_line(v: CaseView) -> str:
    """A case as the managers read it: the task, the owner, the problems in numbers, for how
    long, and what the owner did about it."""
    if not v.open:
        return f"{_resolved_line(v)} (open {v.open_for()})"
    top = max(v.problems, key=lambda a: severity(a.rule))
    icon = ":no_entry:" if top.rule == "blocked" else ":rotating_light:"
    facts = [f"owner {mention(v.owner_id)}", f"open {v.open_for()}"]
    if v.back:
        facts.append("back")
    if v.reminders:
        facts.append(f"owner reminded {v.reminders}×")
    if v.snoozed_until:
        facts.append(f"snoozed by the owner until {day_label(v.cal.local_date(v.snoozed_until))}")
    if v.owner_away:
        facts.append(_away(v))
    line = f"{icon} {task_ref(v.task_id, v.title)}\n{_problem_lines(v)}\n" + " · ".join(facts)
    if v.notes:
        # Written by the buttons as mrkdwn already ("pinged the owner by <@U> at 10:12", the
        # reply's escaped text): escaping again would show the mention as `&lt;@U&gt;`.
        line += "\n" + " · ".join(v.notes[-3:])
    return line


def manager_buttons(v: CaseView) -> Block:
    picker = next((a for a in v.problems if a.rule == "deadline_conflict"), v.problems[0])
    suffix = str(v.task_id)  # unique within the digest, which shows several tasks
    elements = [
        users_select("Reassign", ids.unique(ids.ACTION_REASSIGN, suffix)),
        datepicker(
            "Move the deadline", ids.unique(ids.ACTION_MOVE_DEADLINE, suffix), offered_day(picker)
        ),
    ]
    if v.owner_id:
        elements.append(button("Ping owner", ids.unique(ids.ACTION_PING_OWNER, suffix), "ping"))
    return actions(ids.context_block_id(v.task_id, None, "manage"), elements)


def entry_blocks(v: CaseView) -> list[Block]:
    blocks = [section(_entry_line(v))]
    if v.open:
        blocks.append(manager_buttons(v))
    return blocks


def build_digest(cases: list[CaseView], day: date) -> tuple[str, list[Block]]:
    """The managers' digest of one working day: every escalated open case, most severe first,
    each with its owner, problems, age and buttons; those resolved since, marked resolved."""
    ordered = sorted(cases, key=CaseView.weight)
    open_ = [c for c in ordered if c.open]
    text = (
        f"Vigil, {day_label(day)}: {len(open_)} task{'s' if len(open_) != 1 else ''} "
        "need{} someone".format("" if len(open_) != 1 else "s")
    )
    if open_:
        text += ": " + ", ".join(f"#{c.task_id}" for c in open_)
    blocks: list[Block] = [section(f"*{text}*")]
    room = (MESSAGE_BLOCKS - 2) // DIGEST_BLOCKS_PER_CASE
    for case in ordered[:room]:
        blocks += entry_blocks(case)
    if len(ordered) > room:
        blocks.append(context(f"…and {len(ordered) - room} more: `/task team` lists them all."))
    return text, blocks


def build_entry(v: CaseView) -> tuple[str, list[Block]]:
    """A case's message of its own in the managers' channel ("I'm blocked", or `digest=off`)."""
    if v.open:
        top = v.problems[0]
        text = f"#{v.task_id} {escape(v.title)} {problem(top)[0]}. Owner: {mention(v.owner_id)}."
    else:
        text = f"Resolved: #{v.task_id} {escape(v.title)}: {v.reason or 'cleared'}."
    return text, entry_blocks(v)


def build_thread_reply(v: CaseView, *, joined: bool) -> tuple[str, list[Block]]:
    """One reply under a managers' message: a case that joined the day's digest, or the
    resolution of a case that had a message of its own."""
    if joined and v.open:
        text = (
            f"Also today: #{v.task_id} {escape(v.title)}: "
            + "; ".join(problem(a)[0] for a in v.problems)
            + "."
        )
        return text, [section(f":rotating_light: {text}")]
    text = f"#{v.task_id} no longer needs attention after {v.open_for()}: {v.reason or 'cleared'}."
    return text, [section(f":white_check_mark: {text}")]


def rule_titles(v: CaseView) -> list[str]:
    return [RULEBOOK[a.rule].title if a.rule in RULEBOOK else a.rule for a in v.problems]
