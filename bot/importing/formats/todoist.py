"""Todoist: a project exported as a CSV template (project menu › Export as a template › CSV).

Columns: TYPE (task, section, note), CONTENT, DESCRIPTION, PRIORITY, INDENT (1 top level,
2 a subtask of the task above, …), AUTHOR and RESPONSIBLE (`Evan (14781400)`: a name and a
Todoist user id), DATE, DATE_LANG, TIMEZONE. Source:
https://todoist.com/help/articles/format-a-csv-file-to-import-into-todoist-UVUXTmm6

A template carries no task ids, so a task is known by its title and its parents' titles.
"""

from __future__ import annotations

from collections.abc import Iterator

from bot.importing.card import RawCard, text
from bot.importing.formats.common import column_map, first_person, has_columns, title_ref

NAME = "todoist"
KIND = "table"
PARENT_BY = "id"
COLUMNS = {
    "title": ("CONTENT",),
    "description": ("DESCRIPTION",),
    "owner": ("RESPONSIBLE",),
    "due": ("DATE",),
}


def detect(columns: set[str]) -> bool:
    return has_columns(columns, "TYPE", "CONTENT", "INDENT")


def cards(table, overrides=None) -> Iterator[RawCard]:  # type: ignore[no-untyped-def]
    fields = column_map(table.columns, COLUMNS, overrides)
    kind, indent = _column(table.columns, "TYPE"), _column(table.columns, "INDENT")
    path: list[tuple[str, str]] = []  # (title, ref) of the open ancestors, by depth
    for line, record in table.records():
        if text(record.get(kind)).lower() != "task":
            continue  # sections and notes are not tasks
        title = text(record.get(fields["title"]))
        try:
            depth = max(int(text(record.get(indent)) or 1), 1)
        except ValueError:
            depth = 1
        path = path[: depth - 1]
        ref = title_ref(*(t for t, _ in path), title)
        yield RawCard(
            ref=ref,
            where=f"line {line}",
            title=title,
            description=record.get(fields.get("description", "")),
            owner=first_person(record.get(fields.get("owner", ""))),
            due=record.get(fields.get("due", "")),
            parent=path[-1][1] if path else None,
        )
        path.append((title, ref))


def _column(columns: list[str], name: str) -> str:
    return next(c for c in columns if c.upper() == name)
