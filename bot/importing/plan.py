"""What an import would do, worked out before anything is stored: each card to create, to
update (and what changes), unchanged, skipped as finished; the people Slack does not know; the
rows refused; and the tasks of an earlier import whose cards have gone from the export.

`changes` is pure: a card, the task as stored, and the owner and parent it should have."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlmodel import Session

from bot.calendar import WorkCalendar
from bot.importing.card import Card, Refused, settle
from bot.importing.export import Export
from bot.importing.survey import Survey
from bot.models import BLOCKED, LIVE_STATUSES, Task

PAGE = 500  # cards per query and per transaction
EXAMPLES = 10


def source_key(tool: str, ref: str) -> str:
    return f"import:{tool}:{ref}"


def actor(tool: str) -> str:
    return f"import:{tool}"


def block_reason(card: Card, tool: str) -> str:
    # The tool's name in the reason marks a block the import made, which a later import may
    # lift; a block someone reported in Slack is theirs to lift.
    return f"{card.status or 'Blocked'} (in {tool.title()})"


@dataclass
class Plan:
    tool: str
    create: int = 0
    update: int = 0
    unchanged: int = 0
    finished_skipped: int = 0
    examples: dict[str, list[str]] = field(default_factory=lambda: {"create": [], "update": []})
    unmatched: dict[str, int] = field(default_factory=dict)  # person -> tasks they own
    refused: list[Refused] = field(default_factory=list)
    missing: list[tuple[int, str]] = field(default_factory=list)  # (task id, title)
    missing_count: int = 0
    notes: list[str] = field(default_factory=list)

    def example(self, kind: str, text: str) -> None:
        if len(self.examples[kind]) < EXAMPLES:
            self.examples[kind].append(text)


@dataclass(frozen=True)
class Wanted:
    """A card with what Vigil should hold for it: its owner's Slack id, its parent's key."""

    card: Card
    key: str
    owner: str | None
    parent_key: str | None


def changes(want: Wanted, task: Task, parent_key: str | None, tool: str) -> list[str]:
    """The fields an update changes. What the export leaves empty never erases what Vigil
    knows: a progress someone reported in Slack stays unless the export gives one."""
    card, found = want.card, []
    if task.status not in LIVE_STATUSES:
        return []  # closed in Vigil: left as it is
    for name in ("title", "description", "link"):
        value = getattr(card, name)
        if value and value != getattr(task, name):
            found.append(name)
    if want.owner and want.owner != task.owner_id:
        found.append("owner")
    if card.due_at and (card.due_at != task.due_at or card.due_has_time != task.due_has_time):
        found.append("due")
    if want.parent_key and want.parent_key != parent_key:
        found.append("parent")
    if card.finished:
        return [*found, "done"]
    if card.progress_given and card.progress != task.progress:
        found.append("progress")
    if card.blocked and task.status != BLOCKED:
        found.append("blocked")
    elif (
        not card.blocked
        and task.status == BLOCKED
        and (task.block_reason or "").endswith(f"(in {tool.title()})")
    ):
        found.append("unblocked")
    return found


def wanted(
    export: Export,
    found: Survey,
    cal: WorkCalendar,
    month_first: bool,
    people: dict[str, str | None],
    *,
    depth: int | None = None,
) -> Iterator[Wanted]:
    """The cards to store, streamed again from the file: refused ones left out, finished ones
    too unless asked for (a finished card still updates a task an earlier import made)."""
    for raw in export.raw_cards():
        if raw.ref in found.refused or found.where.get(raw.ref) != raw.where:
            continue
        if depth is not None and found.depth(raw.ref) != depth:
            continue
        card = settle(raw, cal, month_first)
        assert isinstance(card, Card)  # the survey refused every row that does not settle
        parent = found.parent.get(card.ref)
        yield Wanted(
            card,
            source_key(export.tool, card.ref),
            people.get(card.owner) if card.owner else None,
            source_key(export.tool, parent) if parent else None,
        )


def pages(items: Iterator[Wanted], size: int = PAGE) -> Iterator[list[Wanted]]:
    page: list[Wanted] = []
    for item in items:
        page.append(item)
        if len(page) >= size:
            yield page
            page = []
    if page:
        yield page


def stored(session: Session, keys: list[str]) -> tuple[dict[str, Task], dict[int, str]]:
    """The tasks these keys name, and the source keys of their parents (by task id)."""
    tasks = {
        t.source_key: t
        for t in session.execute(select(Task).where(Task.source_key.in_(keys))).scalars()
    }
    parent_ids = {t.parent_id for t in tasks.values() if t.parent_id}
    parents = (
        dict(session.execute(select(Task.id, Task.source_key).where(Task.id.in_(parent_ids))).all())
        if parent_ids
        else {}
    )
    return tasks, parents


def tally(
    plan: Plan,
    session: Session,
    items: Iterator[Wanted],
    *,
    include_done: bool,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Counts what applying would do, a page at a time."""
    seen = 0
    for page in pages(items):
        tasks, parents = stored(session, [w.key for w in page])
        for want in page:
            seen += 1
            task = tasks.get(want.key)
            if task is None:
                if want.card.finished and not include_done:
                    plan.finished_skipped += 1
                    continue
                plan.create += 1
                plan.example("create", want.card.title)
                continue
            found = changes(want, task, parents.get(task.parent_id or 0), plan.tool)
            if found:
                plan.update += 1
                plan.example("update", f"#{task.id} {want.card.title}: {', '.join(found)}")
            else:
                plan.unchanged += 1
        if progress:
            progress(seen)


def missing(session: Session, plan: Plan, found: Survey) -> None:
    """Open tasks an earlier import of this tool made whose cards are not in this export."""
    prefix = source_key(plan.tool, "")
    rows = session.execute(
        select(Task.id, Task.title, Task.source_key)
        .where(Task.source_key.startswith(prefix), Task.status.in_(LIVE_STATUSES))
        .order_by(Task.id)
        .execution_options(yield_per=2000)
    )
    for task_id, title, key in rows:
        if key.removeprefix(prefix) not in found.where:
            plan.missing_count += 1
            if len(plan.missing) < 50:
                plan.missing.append((task_id, title))
