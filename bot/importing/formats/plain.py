"""A plain spreadsheet (CSV or XLSX) that a firm keeps by hand: columns named in plain words.
Without an id column, a row is known by its title, so a re-import still finds it."""

from __future__ import annotations

from bot.importing.formats.common import column_map, table_cards

NAME = "sheet"
KIND = "table"
COLUMNS = {
    "id": ("id", "key", "task id", "card id", "ref", "reference"),
    "title": ("title", "name", "task", "task name", "summary", "subject"),
    "description": ("description", "notes", "details", "desc"),
    "link": ("link", "url", "href"),
    "owner": ("owner", "assignee", "assigned to", "responsible", "person", "owner email", "email"),
    "due": ("due", "due date", "deadline", "due on", "end date", "date due"),
    "progress": (
        "progress",
        "% complete",
        "percent complete",
        "complete %",
        "done %",
        "completion",
    ),
    "status": ("status", "state", "stage"),
    "parent": ("parent", "parent id", "parent key", "parent task"),
}
PARENT_BY = "id"


def detect(columns: set[str]) -> bool:
    return "title" in column_map(sorted(columns), {"title": COLUMNS["title"]})


def parent_by(columns: list[str], overrides=None) -> str:  # type: ignore[no-untyped-def]
    """Parents are named by id where the sheet has ids, by title where it has none."""
    return "id" if "id" in column_map(columns, COLUMNS, overrides) else "title"


def cards(table, overrides=None):  # type: ignore[no-untyped-def]
    return table_cards(table, column_map(table.columns, COLUMNS, overrides))
