"""The first pass over an export: every row checked before anything is stored. It keeps only
what the checks across rows need (each card's id, row, parent and owner), not the cards, so a
50,000-row file is checked in a few megabytes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from bot.calendar import WorkCalendar
from bot.importing.card import Card, RawCard, Refused, settle
from bot.importing.formats.common import squash
from bot.tasks import MAX_DEPTH


@dataclass
class Survey:
    tool: str
    where: dict[str, str] = field(default_factory=dict)  # ref -> row, for every card read
    parent: dict[str, str] = field(default_factory=dict)  # ref -> parent ref
    owner: dict[str, str] = field(default_factory=dict)  # ref -> owner as written
    finished: set[str] = field(default_factory=set)
    refused: dict[str, Refused] = field(default_factory=dict)
    rows: int = 0

    def depth(self, ref: str) -> int:
        depth, cursor = 0, ref
        while cursor in self.parent and depth <= len(self.parent):
            cursor, depth = self.parent[cursor], depth + 1
        return depth

    def owners(self, include_done: bool) -> Counter[str]:
        """Each person named as an owner, with how many of the importable cards they own."""
        return Counter(
            owner
            for ref, owner in self.owner.items()
            if ref not in self.refused and (include_done or ref not in self.finished)
        )


def survey(
    cards: Iterable[RawCard],
    *,
    tool: str,
    cal: WorkCalendar,
    month_first: bool,
    parent_by: str = "id",
    progress: Callable[[int], None] | None = None,
) -> Survey:
    found = Survey(tool)
    titles: dict[str, str | None] = {}  # folded title -> ref (None: two cards share it)
    named_parent: dict[str, str] = {}
    for raw in cards:
        found.rows += 1
        if progress:
            progress(found.rows)
        card = settle(raw, cal, month_first)
        if raw.ref in found.where:
            found.refused.setdefault(raw.ref + "#" + raw.where, _twice(raw, found.where[raw.ref]))
            continue
        found.where[raw.ref] = raw.where
        if isinstance(card, Refused):
            found.refused[raw.ref] = card
            continue
        _keep(found, card, titles, named_parent, parent_by)
    if parent_by == "title":
        _parents_by_title(found, titles, named_parent)
    return found


def _twice(raw: RawCard, first: str) -> Refused:
    if raw.ref.startswith("t-"):  # known by its title: the export has no ids
        why = f"the same title is on {first}; without an id column, each title must differ."
    else:
        why = f"its id {raw.ref} is also on {first}; each card needs its own id."
    return Refused(raw.ref, raw.where, why)


def _keep(
    found: Survey,
    card: Card,
    titles: dict[str, str | None],
    named_parent: dict[str, str],
    parent_by: str,
) -> None:
    if card.finished:
        found.finished.add(card.ref)
    if card.owner:
        found.owner[card.ref] = card.owner
    if parent_by == "title":
        key = squash(card.title)
        titles[key] = None if key in titles else card.ref
        if card.parent:
            named_parent[card.ref] = card.parent
    elif card.parent:
        found.parent[card.ref] = card.parent


def _parents_by_title(
    found: Survey, titles: dict[str, str | None], named_parent: dict[str, str]
) -> None:
    for ref, name in named_parent.items():
        parent = titles.get(squash(name), "")
        if parent is None:
            found.refused[ref] = Refused(
                ref,
                found.where[ref],
                f"its parent “{name[:60]}” names two cards; give them different titles.",
            )
        else:
            found.parent[ref] = parent or f"title:{name}"


def settle_parents(found: Survey, blocked_owners: Mapping[str, str] | None = None) -> None:
    """The checks across rows, once people are known: parents that are not in the file, cycles,
    depth, owners `--strict` refuses, and children of refused rows (refused with them)."""
    for ref, owner in (blocked_owners or {}).items():
        found.refused.setdefault(ref, Refused(ref, found.where[ref], owner))
    for ref, parent in found.parent.items():
        if ref in found.refused:
            continue
        if parent not in found.where:
            shown = parent.removeprefix("title:")
            found.refused[ref] = Refused(
                ref,
                found.where[ref],
                f"its parent {shown[:60]} is not in the file; export the parent too, or clear "
                "the parent column.",
            )
    _refuse_cycles(found)
    changed = True
    while changed:  # a refused parent takes its subtasks with it
        changed = False
        for ref, parent in found.parent.items():
            if ref not in found.refused and parent in found.refused:
                found.refused[ref] = Refused(
                    ref,
                    found.where[ref],
                    f"its parent ({found.where[parent]}) was refused; fix that row first.",
                )
                changed = True
    for ref in found.parent:
        if ref not in found.refused and found.depth(ref) >= MAX_DEPTH:
            found.refused[ref] = Refused(
                ref,
                found.where[ref],
                f"it sits {found.depth(ref)} levels under a top card; Vigil keeps subtasks "
                f"{MAX_DEPTH} levels deep at most, so move it up.",
            )


def _refuse_cycles(found: Survey) -> None:
    settled: set[str] = set()
    for start in found.parent:
        path: list[str] = []
        on_path: set[str] = set()
        cursor: str | None = start
        while cursor is not None and cursor not in settled:
            if cursor in on_path:
                loop = path[path.index(cursor) :]
                rows = " → ".join(found.where[r] for r in [*loop, cursor])
                for ref in loop:
                    found.refused[ref] = Refused(
                        ref,
                        found.where[ref],
                        f"its parents make a cycle ({rows}); make one of them a top-level card.",
                    )
                break
            path.append(cursor)
            on_path.add(cursor)
            cursor = found.parent.get(cursor)
        settled.update(path)
