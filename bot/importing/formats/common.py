"""What the table exports share: finding a field's column among the names a tool uses, and
reading rows into `RawCard`s. A tool's module says which columns it writes; `--map` overrides."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from bot.importing.card import RawCard, text
from bot.importing.source import Table

FIELDS = ("id", "title", "description", "link", "owner", "due", "progress", "status", "parent")


class MappingError(ValueError):
    """A `--map` that names a column or a field that does not exist."""


def squash(name: str) -> str:
    return re.sub(r"[^a-z0-9%]+", " ", name.lower()).strip()


def column_map(
    columns: list[str],
    candidates: Mapping[str, tuple[str, ...]],
    overrides: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """{field: column}: the first candidate the file has, compared without case or punctuation;
    `overrides` ({column: field}, from --map) win."""
    present = {squash(c): c for c in columns if c}
    found: dict[str, str] = {}
    for name, options in candidates.items():
        for option in options:
            if squash(option) in present:
                found[name] = present[squash(option)]
                break
    for column, name in (overrides or {}).items():
        if name not in FIELDS:
            raise MappingError(
                f"--map {column}={name}: {name} is not a field; use one of {', '.join(FIELDS)}."
            )
        if squash(column) not in present:
            raise MappingError(
                f"--map {column}={name}: the file has no column {column!r}; "
                f"its columns are {', '.join(c for c in columns if c)}."
            )
        found[name] = present[squash(column)]
    return found


def has_columns(columns: set[str], *names: str) -> bool:
    have = {squash(c) for c in columns if c}
    return all(squash(n) in have for n in names)


def first_person(value: Any) -> str:
    """One owner from a cell that may list several: `[Dana Scully, Lee Ho]`, `Dana, Lee`,
    `Evan (14781400)` (Todoist's username and id)."""
    raw = text(value).strip("[]")
    if not raw or raw.startswith("<@"):
        return raw.split(">")[0] + ">" if raw else ""  # a Slack mention, `<@U123|dana>`
    first = re.split(r"[,;|]", raw)[0].strip()
    return re.sub(r"\s*\(\d+\)$", "", first)


def title_ref(*titles: str) -> str:
    """A stable id for a card whose export has none: its title (and its parents' titles)."""
    joined = " › ".join(" ".join(t.split()).casefold() for t in titles)
    return "t-" + hashlib.sha1(joined.encode()).hexdigest()[:16]


def table_cards(
    table: Table,
    fields: dict[str, str],
    *,
    link: Callable[[str], str] | None = None,
    closed: Callable[[dict[str, Any]], bool] | None = None,
) -> Iterator[RawCard]:
    for line, record in table.records():

        def get(name: str, record: dict[str, Any] = record) -> Any:
            column = fields.get(name)
            return record.get(column) if column else None

        title = text(get("title"))
        ref = text(get("id")) or title_ref(title)
        yield RawCard(
            ref=ref,
            where=f"line {line}",
            title=get("title"),
            description=get("description"),
            link=get("link") or (link(ref) if link and text(get("id")) else None),
            owner=first_person(get("owner")),
            due=get("due"),
            progress=get("progress"),
            status=get("status"),
            parent=text(get("parent")) or None,
            closed=bool(closed and closed(record)),
        )
