"""monday.com: a board exported to Excel (board menu › More actions › Export board to Excel).

The workbook has the board's name on the first row, then for each group the group's name on a
row of its own, a header row (Name, Person, Status, Date, …, Item ID (auto generated)) and the
items; an item's subitems follow it under a header row that starts with "Subitems". Source:
the layout as a reader of monday.com's Excel export describes it (board name row skipped,
groups, Name/Person/Status/Date columns, "Item ID (auto generated)", nested subitems),
https://github.com/nworbdier/orderly_flow/blob/main/IMPORT_GUIDE.md ; where the subitems'
header row sits is this module's reading of it, pinned by tests/fixtures/imports/monday.xlsx.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bot.importing.card import RawCard, text
from bot.importing.formats.common import column_map, first_person, has_columns, squash, title_ref

NAME = "monday"
KIND = "table"
PARENT_BY = "id"
COLUMNS = {
    "id": ("Item ID (auto generated)", "Item ID"),
    "title": ("Name",),
    "description": ("Notes", "Text", "Description"),
    "owner": ("Person", "Owner", "People"),
    "due": ("Date", "Due date", "Due Date", "Deadline"),
    "progress": ("Progress",),
    "status": ("Status",),
}


def detect(columns: set[str]) -> bool:
    return has_columns(columns, "Name") and (
        has_columns(columns, "Item ID (auto generated)") or has_columns(columns, "Subitems")
    )


def cards(table, overrides=None) -> Iterator[RawCard]:  # type: ignore[no-untyped-def]
    header = table.columns
    fields = column_map(header, COLUMNS, overrides)
    parent: str | None = None  # the item whose subitems are being read
    sub_header: list[str] | None = None
    for line, cells in table.rows():
        filled = [c for c in cells if text(c)]
        first = squash(text(filled[0])) if filled else ""
        if len(filled) <= 1:  # a blank row or a group's name: subitems end there
            sub_header = None
            continue
        if first == "subitems":
            sub_header = [text(c) for c in cells]
            continue
        if first == "name":  # the next group's header row
            header, sub_header = [text(c) for c in cells], None
            fields = column_map(header, COLUMNS, overrides)
            continue
        if sub_header is not None:
            sub_fields = column_map(sub_header[1:], COLUMNS)
            record = dict(zip(sub_header[1:], cells[1:], strict=False))
            yield _card(line, record, sub_fields, parent)
        else:
            record = dict(zip(header, cells, strict=False))
            card = _card(line, record, fields, None)
            parent = card.ref
            yield card


def _card(line: int, record: dict[str, Any], fields: dict[str, str], parent: str | None) -> RawCard:
    def get(name: str) -> Any:
        return record.get(fields[name]) if name in fields else None

    title = text(get("title"))
    return RawCard(
        ref=text(get("id")) or title_ref(*(p for p in [parent] if p), title),
        where=f"line {line}",
        title=title,
        description=get("description"),
        owner=first_person(get("owner")),
        due=get("due"),
        progress=get("progress"),
        status=get("status"),
        parent=parent,
    )
