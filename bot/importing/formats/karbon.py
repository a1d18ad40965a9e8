"""Karbon: work items as a spreadsheet (the work list exported, or Karbon's bulk work sheet).

Columns as Karbon names them: Karbon ID, Work Title, Description, Work Type, Assigned To,
Client Type, Client Key, Start Date, Due Date, Status (Planned, Ready To Start, In Progress,
Waiting, Completed). Source: https://help.karbonhq.com/en/articles/4414026-bulk-work-creation-field-reference
and the work statuses at https://developers.karbonhq.com/guides/creating-work-items.md/
"""

from __future__ import annotations

from bot.importing.formats.common import column_map, has_columns, table_cards

NAME = "karbon"
KIND = "table"
PARENT_BY = "id"
COLUMNS = {
    "id": ("Karbon ID", "Work Item Key", "Work Key"),
    "title": ("Work Title", "Title"),
    "description": ("Description",),
    "owner": ("Assigned To", "Assignee", "Assignee Email"),
    "due": ("Due Date", "Deadline Date"),
    "status": ("Status", "Work Status"),
}


def detect(columns: set[str]) -> bool:
    return has_columns(columns, "Work Title") and (
        has_columns(columns, "Assigned To") or has_columns(columns, "Work Type")
    )


def cards(table, overrides=None):  # type: ignore[no-untyped-def]
    return table_cards(table, column_map(table.columns, COLUMNS, overrides))
