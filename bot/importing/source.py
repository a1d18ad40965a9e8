"""Opening an export: what kind of file it really is, and its rows, read as a stream.

A table (CSV or XLSX) is read again from the start for each pass, so that a 50,000-row file is
never held in memory; only Trello's JSON, one document, is loaded whole."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SNIFF_BYTES = 64 * 1024
CLAIMS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".json": "json", ".xlsx": "xlsx"}
NAMES = {"csv": "a CSV file", "json": "a JSON file", "xlsx": "an Excel workbook (.xlsx)"}


class BadFile(ValueError):
    """The file is not what it claims to be, or holds nothing to import; one sentence."""


def sniff(path: Path, name: str | None = None) -> str:
    """csv, json or xlsx, from the bytes, checked against what the file's name claims."""
    try:
        head = path.read_bytes()[:SNIFF_BYTES] if path.stat().st_size else b""
    except OSError as exc:
        raise BadFile(f"I can't read {path.name}: {exc.strerror or exc}.") from None
    if not head.strip():
        raise BadFile(f"{name or path.name} is empty; export the board again.")
    if head.startswith(b"PK\x03\x04"):
        found = "xlsx"
    elif head.lstrip(b"\xef\xbb\xbf \r\n\t")[:1] in (b"{", b"["):
        found = "json"
    elif b"\x00" in head:
        found = "binary"
    else:
        found = "csv"
    claimed = CLAIMS.get(Path(name or path.name).suffix.lower())
    if found == "binary" or (claimed and claimed != found):
        what = NAMES.get(claimed or "", "an export")
        raise BadFile(
            f"{name or path.name} is not {what}: its contents are "
            f"{'not text' if found == 'binary' else NAMES[found]}. "
            "Export the board again as CSV, JSON or XLSX."
        )
    return found


def load_json(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8-sig") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise BadFile(
            f"{path.name} is not valid JSON (line {exc.lineno}: {exc.msg}); export the board again."
        ) from None


@dataclass
class Table:
    """A sheet of rows with a header row. `records()` and `rows()` start afresh each call."""

    path: Path
    kind: str  # csv or xlsx
    columns: list[str] = field(default_factory=list)
    header_line: int = 0

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        """(line number, cells) for every row after the header, blank ones included."""
        for line, cells in self._all_rows():
            if line > self.header_line:
                yield line, cells

    def records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        for line, cells in self.rows():
            if any(_filled(c) for c in cells):
                yield line, dict(zip(self.columns, cells, strict=False))

    def _all_rows(self) -> Iterator[tuple[int, list[Any]]]:
        if self.kind == "xlsx":
            yield from _xlsx_rows(self.path)
        else:
            yield from _csv_rows(self.path)


def open_table(path: Path, kind: str) -> Table:
    table = Table(path, kind)
    for line, cells in table._all_rows():
        # The header is the first row with two or more cells: monday.com puts the board's and
        # the group's names alone on the rows above it.
        if sum(1 for c in cells if _filled(c)) >= 2:
            table.columns = [" ".join(str(c).split()) if c is not None else "" for c in cells]
            table.header_line = line
            return table
    raise BadFile(f"{path.name} has no header row; the first row should name the columns.")


def _filled(cell: Any) -> bool:
    return cell is not None and str(cell).strip() != ""


def _encoding(path: Path) -> str:
    head = path.read_bytes()[:SNIFF_BYTES]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not merely a character cut at the sniffing boundary
            return "cp1252"  # what Excel writes on Windows when asked for plain CSV
    return "utf-8-sig"


def _csv_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    with path.open(encoding=_encoding(path), newline="") as fh:
        first = fh.readline()
        fh.seek(0)
        # The delimiter the header row uses: commas, or what Excel writes where the comma is the
        # decimal mark (semicolons), or tabs. Guessing from data rows misleads on titles.
        delimiter = max(",;\t", key=first.count) if first.strip() else ","
        reader = csv.reader(fh, delimiter=delimiter)
        start = 1
        try:
            for cells in reader:
                yield start, cells
                start = reader.line_num + 1  # a quoted cell may span lines
        except csv.Error as exc:
            raise BadFile(f"{path.name} line {start} is not valid CSV ({exc}).") from None


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise BadFile(f"{path.name} is not a readable Excel workbook ({exc}).") from None
    try:
        sheet = book.worksheets[0]
        for line, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield line, list(cells)
    finally:
        book.close()


def csv_text(rows: list[list[Any]]) -> str:
    """Rows as CSV text (for tests and the benchmark)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()
