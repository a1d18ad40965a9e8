"""What Vigil knows about each rule, in one table: its name in messages, how it weighs when
tasks are ordered by risk, whether the managers hear of it at once, what it mutes, what clears
it, and the command that fixes it. The checks themselves are in `rules.py`; the words with
numbers in `messages.py`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RuleFacts:
    id: str
    title: str  # "stalled": what a list or a message calls it
    no_longer: str  # "no longer *without a deadline*": how its resolution reads
    severity: int  # ordering by risk: the riskiest task first
    why: str  # why it matters, one sentence
    clears: str  # what clears it, one sentence
    fix: str | None = None  # a command that fixes it, `{id}` for the task
    managers_at_once: bool = False  # escalates with no window (the owner may not be able to fix it)
    dm_owner: bool = True  # `blocked` goes to the managers only: the owner asked for help
    seen_on_creation: bool = False  # said at once in the reply to `/task add`
    mutes: tuple[str, ...] = ()  # while this holds, these say nothing (the stronger one speaks)


RULEBOOK: dict[str, RuleFacts] = {
    f.id: f
    for f in (
        RuleFacts(
            "overdue",
            "overdue",
            "overdue",
            severity=100,
            why="The deadline has passed and the work is not done.",
            clears="Mark it done, or move the deadline to a date you can keep.",
            fix="`/task due {id} <a later date>`",
            managers_at_once=True,
            seen_on_creation=True,
            mutes=("behind_pace",),
        ),
        RuleFacts(
            "blocked",
            "blocked",
            "blocked",
            severity=90,
            why="The owner has asked for help.",
            clears="Remove the obstacle, reassign, or move the deadline; then unblock it.",
            managers_at_once=True,
            dm_owner=False,
            mutes=("stalled", "behind_pace"),
        ),
        RuleFacts(
            "stalled",
            "stalled",
            "stalled",
            severity=80,
            why="Nothing has moved for more than {stall_days} working days.",
            clears="Record progress, mark it done, or say you are blocked.",
        ),
        RuleFacts(
            "behind_pace",
            "behind pace",
            "behind pace",
            severity=70,
            why="At the pace the reports show, it finishes after its deadline.",
            clears="Record progress, or move the deadline to one the pace can meet.",
        ),
        RuleFacts(
            "deadline_conflict",
            "due after its parent",
            "due after its parent",
            severity=50,
            why="A subtask due after its parent makes the parent late too.",
            clears="Move this deadline to the parent's or earlier.",
            fix="`/task due {id} <a date on or before the parent's>`",
            seen_on_creation=True,
        ),
        RuleFacts(
            "missing_owner",
            "no owner",
            "without an owner",
            severity=40,
            why="Work nobody owns is work nobody is doing.",
            clears="Assign an owner.",
            fix="`/task assign {id} @someone`",
            seen_on_creation=True,
        ),
        RuleFacts(
            "missing_deadline",
            "no deadline",
            "without a deadline",
            severity=40,
            why="Without a date nobody can tell whether it is late.",
            clears="Set a deadline.",
            fix="`/task due {id} friday`",
            seen_on_creation=True,
        ),
    )
}

# The rules a workspace may switch off or retune (`blocked` is a person asking, not a rule).
RULE_IDS = (
    "missing_owner",
    "missing_deadline",
    "overdue",
    "stalled",
    "behind_pace",
    "deadline_conflict",
)


def title(rule: str) -> str:
    facts = RULEBOOK.get(rule)
    return facts.title if facts else rule


def severity(rule: str) -> int:
    facts = RULEBOOK.get(rule)
    return facts.severity if facts else 0


def by_severity(rules) -> list[str]:  # type: ignore[no-untyped-def]
    """The rules, the most severe first (ties in the table's order)."""
    order = list(RULEBOOK)
    return sorted(rules, key=lambda r: (-severity(r), order.index(r) if r in order else 99))
