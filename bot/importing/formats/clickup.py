"""ClickUp: a List or Table view exported as CSV (view menu › Export view › CSV).

Columns: Task ID, Task Name, Task Content, Status, Date Created, Due Date, Assignees (a bracketed
list such as `[Dana Scully, Lee Ho]`), Parent ID, Priority, and `(Unix)` twins of the dates.
Sources: https://help.clickup.com/hc/en-us/articles/6310821748759 (task fields and subtasks by
parent ids) and https://help.clickup.com/hc/en-us/articles/30782347809815 (exporting views).
"""

from __future__ import annotations

from bot.importing.formats.common import column_map, has_columns, table_cards

NAME = "clickup"
KIND = "table"
PARENT_BY = "id"
COLUMNS = {
    "id": ("Task ID",),
    "title": ("Task Name",),
    "description": ("Task Content",),
    "owner": ("Assignees", "Assignee"),
    "due": ("Due Date (Unix)", "Due Date"),  # the Unix column is exact; the text one is localised
    "progress": ("Progress",),
    "status": ("Status",),
    "parent": ("Parent ID",),
}


def detect(columns: set[str]) -> bool:
    return has_columns(columns, "Task ID", "Task Name")


def cards(table, overrides=None):  # type: ignore[no-untyped-def]
    return table_cards(
        table,
        column_map(table.columns, COLUMNS, overrides),
        link=lambda ref: f"https://app.clickup.com/t/{ref}",
    )
