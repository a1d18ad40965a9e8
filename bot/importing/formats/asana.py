"""Asana: a project exported as CSV (project menu › Export › CSV).

Columns as Asana writes them: Task ID, Created At, Completed At, Last Modified, Name,
Section/Column, Assignee, Assignee Email, Start Date, Due Date, Tags, Notes, Projects,
Parent task. Sources: https://asana.com/guide/help/faq/security (the CSV export) and an export's
header as published at https://gist.github.com/jimsander/eb952d052cabf36cd437ac7ea1915c6d
"""

from __future__ import annotations

from bot.importing.card import text
from bot.importing.formats.common import column_map, has_columns, table_cards

NAME = "asana"
KIND = "table"
PARENT_BY = "title"  # Asana's "Parent task" holds the parent's name, not its id
COLUMNS = {
    "id": ("Task ID",),
    "title": ("Name",),
    "description": ("Notes",),
    "owner": ("Assignee Email", "Assignee"),  # an email matches exactly; a name may not
    "due": ("Due Date",),
    "status": ("Section/Column",),
    "parent": ("Parent task", "Parent Task"),
}


def detect(columns: set[str]) -> bool:
    return has_columns(columns, "Task ID", "Name", "Assignee Email")


def cards(table, overrides=None):  # type: ignore[no-untyped-def]
    fields = column_map(table.columns, COLUMNS, overrides)
    completed = next((c for c in table.columns if c.lower() == "completed at"), None)
    return table_cards(
        table,
        fields,
        link=lambda ref: f"https://app.asana.com/0/0/{ref}",
        closed=lambda record: bool(completed and text(record.get(completed))),
    )
