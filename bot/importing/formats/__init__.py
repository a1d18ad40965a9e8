"""One module per tool: `detect(columns)` says whether an export is the tool's, `cards(...)`
reads it into `RawCard`s. Tried in this order: the most particular first, a plain sheet last."""

from __future__ import annotations

from types import ModuleType

from bot.importing.formats import asana, clickup, jira, karbon, monday, plain, todoist, trello

FORMATS: tuple[ModuleType, ...] = (trello, jira, asana, clickup, todoist, monday, karbon, plain)
BY_NAME = {f.NAME: f for f in FORMATS} | {"plain": plain, "csv": plain, "xlsx": plain}


def detect(kind: str, columns: set[str]) -> ModuleType | None:
    for fmt in FORMATS:
        if (fmt.KIND == "json") == (kind == "json") and fmt.detect(columns):
            return fmt
    return None


def names() -> str:
    return ", ".join(f.NAME for f in FORMATS)
