"""An export, opened: which tool wrote it (from its columns, or as `--from` says), and its
cards read as a stream, afresh for each pass."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from bot.importing import formats
from bot.importing.card import RawCard
from bot.importing.formats.common import MappingError
from bot.importing.source import BadFile, Table, load_json, open_table, sniff


@dataclass
class Export:
    path: Path
    fmt: ModuleType
    kind: str  # csv, xlsx or json
    table: Table | None = None
    board: Any = None
    mapping: Mapping[str, str] = field(default_factory=dict)

    @property
    def tool(self) -> str:
        return self.fmt.NAME

    @property
    def parent_by(self) -> str:
        if self.table is not None and hasattr(self.fmt, "parent_by"):
            return self.fmt.parent_by(self.table.columns, self.mapping)
        return self.fmt.PARENT_BY

    def raw_cards(self) -> Iterator[RawCard]:
        if self.kind == "json":
            return self.fmt.cards(self.board)
        return self.fmt.cards(self.table, self.mapping)


def open_export(
    path: Path,
    *,
    name: str | None = None,
    tool: str | None = None,
    mapping: Mapping[str, str] | None = None,
) -> Export:
    """Raises BadFile (or MappingError, a ValueError too) with one sentence to show."""
    kind = sniff(path, name)
    chosen = None
    if tool:
        chosen = formats.BY_NAME.get(tool.lower())
        if chosen is None:
            raise BadFile(f"--from {tool}: I know {formats.names()}.")
    if kind == "json":
        board = load_json(path)
        keys = set(board) if isinstance(board, dict) else set()
        fmt = chosen or formats.detect(kind, keys)
        if fmt is None or fmt.KIND != "json" or not fmt.detect(keys):
            raise BadFile(
                f"{name or path.name} is JSON but not a Trello board export (it has no cards "
                "and lists); export the board from Trello's menu, or a CSV from another tool."
            )
        return Export(path, fmt, kind, board=board)
    table = open_table(path, kind)
    columns = set(table.columns)
    fmt = chosen or formats.detect(kind, columns)
    if mapping and not chosen:
        fmt = formats.plain  # a map describes a sheet's columns by hand
    if fmt is None:
        raise BadFile(
            f"I can't tell which column holds the titles in {name or path.name} (its columns "
            f"are {', '.join(c for c in table.columns if c)[:200]}); name one with "
            "--map COLUMN=title, or say which tool wrote it with --from."
        )
    if fmt.KIND == "json":
        raise BadFile(f"--from {fmt.NAME} reads a JSON export; {path.name} is a table.")
    if chosen and not mapping and not fmt.detect(columns):
        raise BadFile(
            f"{name or path.name} does not look like a {fmt.NAME} export: its columns are "
            f"{', '.join(c for c in table.columns if c)[:200]}. Check the file, or use --map."
        )
    export = Export(path, fmt, kind, table=table, mapping=dict(mapping or {}))
    try:
        from bot.importing.formats.common import column_map

        found = column_map(table.columns, fmt.COLUMNS, export.mapping)
    except MappingError:
        raise
    if "title" not in found:
        raise BadFile(f"{path.name} has no title column; name it with --map COLUMN=title.")
    return export
