"""Excel workbooks (``.xlsx``): read as CSV (one sheet's rows, streamed, for the CSV reader), and
written from the rows a CSV output would hold (:class:`SheetWriter`).

A workbook is read with openpyxl (read-only: rows are streamed, not loaded whole), one sheet
(the first whose header names the comments' column, or the one named), and its rows are handed on as the lines of a UTF-8 CSV, so that
everything the CSV reader does (the header row, found below a title; duplicate column names;
rows of the wrong width) holds for a sheet too. Cells are written as Excel shows them: a date as
``2026-11-01 10:00:00``, a whole number without ``.0``, TRUE/FALSE as ``true``/``false``, an empty
cell as empty; a formula as its last computed value. Rows with no value at all hold no record;
a row's empty cells at its end are as many as the widest row above it has (Excel stores none).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
from datetime import datetime, time
from itertools import islice
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator

__all__ = ["read_xlsx_as_csv", "SheetWriter"]


def read_xlsx_as_csv(stream: IO[bytes], sheet: str | None = None,
                     names_text: Callable[[list[str]], bool] | None = None) -> tuple[IO[bytes], list[str]]:
    """``(CSV byte stream, notes)`` of one sheet of a workbook: the one ``sheet`` names, else the
    first with a row among its first :data:`~commentnlp.exports.MAX_PREAMBLE_ROWS` that
    ``names_text`` (a header naming the comments' column; a cover sheet comes first in many
    exports), else the first; the notes say which sheet was read when the workbook has several.
    A ValueError when the workbook cannot be read or has no such sheet."""
    from .exports import MAX_PREAMBLE_ROWS, ChunkStream

    try:
        import openpyxl
    except ImportError as exc:  # a dependency: only a broken install lacks it
        raise ValueError("reading .xlsx needs openpyxl: pip install openpyxl") from exc
    try:
        book = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError and its own errors for a bad file
        raise ValueError(f"not a readable Excel workbook ({type(exc).__name__}: {exc})") from None
    names = [ws.title for ws in book.worksheets]  # not its chart sheets: they hold no rows
    if sheet is not None and sheet not in names:
        what = "a chart, not a sheet of rows" if sheet in book.sheetnames else "not in the workbook"
        raise ValueError(f"sheet {sheet!r} is {what}; its sheets: {', '.join(map(repr, names))}")
    if not names:
        raise ValueError("the workbook has no sheet of rows (only charts)")
    for name in names:  # rows as the sheet holds them, not padded to the size it declares (XFD1048576:
        book[name].reset_dimensions()  # 16,384 cells a row, a 5 KB file kept label busy for half an hour)

    def has_header(name: str) -> bool:
        first_rows = islice(book[name].iter_rows(values_only=True), MAX_PREAMBLE_ROWS)
        return names_text is not None and any(names_text([_cell_text(c) for c in row]) for row in first_rows)

    chosen = sheet if sheet is not None else next((n for n in names if has_header(n)), names[0])
    notes = ([f"read sheet {chosen!r} of {len(names)} ({', '.join(map(repr, names))}); name another with --sheet"]
             if len(names) > 1 and sheet is None else [])
    rows = book[chosen].iter_rows(values_only=True)
    return io.BufferedReader(ChunkStream(_csv_lines(rows), book.close), buffer_size=1 << 16), notes


def _csv_lines(rows: Iterator[tuple[Any, ...]]) -> Iterator[bytes]:
    """Each sheet row as one CSV line (UTF-8), its trailing empty cells dropped, then padded to the
    widest row so far; a row with no value as an empty line. A ValueError when the sheet breaks off."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    width = 0
    while True:
        try:
            row = next(rows, None)
        except Exception as exc:  # a sheet whose XML breaks off part way
            raise ValueError(f"the workbook cannot be read further ({type(exc).__name__}: {exc})") from None
        if row is None:
            return
        cells = list(row)
        while cells and (cells[-1] is None or cells[-1] == ""):
            cells.pop()
        if not cells:
            yield b"\n"
            continue
        width = max(width, len(cells))
        writer.writerow([_cell_text(c) for c in cells] + [""] * (width - len(cells)))
        yield out.getvalue().encode("utf-8", "surrogatepass")
        out.seek(0)
        out.truncate()


def _cell_text(value: Any) -> str:
    """A cell's value as Excel shows it, as text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds") if value.microsecond == 0 else value.isoformat(sep=" ")
    if isinstance(value, time):
        return value.isoformat()
    return str(value)


#: Excel's limits: rows in a sheet, characters in a cell
MAX_ROWS, MAX_CELL = 1_048_576, 32_767
_WHOLE = re.compile(r"0|-?[1-9][0-9]{0,14}")  # beyond 15 digits Excel rounds: an id stays text
_DECIMAL = re.compile(r"-?[0-9]+\.[0-9]+")
_DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")


class SheetWriter:
    """A new workbook of one sheet, written row by row as ``csv.writer`` writes (``writerow``,
    ``writerows``; streamed: openpyxl's write-only mode), then ``save``d. Cells given as text that
    is a number or a date written as :func:`read_xlsx_as_csv` writes one become one again (an id of
    16 or more digits, or ``007``, stays text); text that starts with ``=`` stays text, not a formula
    (a comment is never run as one); characters a sheet cannot hold become U+FFFD, and a cell is cut
    at Excel's 32,767 characters, both counted in :meth:`notes`."""

    def __init__(self, title: str = "labeled"):
        import openpyxl

        self.book = openpyxl.Workbook(write_only=True)
        self.sheet = self.book.create_sheet(re.sub(r"[\\/*?:\[\]]", "_", title)[:31] or "labeled")
        self.rows = self.replaced = self.cut = 0

    def writerow(self, row: Iterable[Any]) -> None:
        from openpyxl.cell import WriteOnlyCell

        self.rows += 1
        if self.rows > MAX_ROWS:
            raise ValueError(f"more rows than an Excel sheet holds ({MAX_ROWS:,}): label into CSV or JSONL instead")
        cells = []
        for value in row:
            cell = WriteOnlyCell(self.sheet, value=self._value(value))
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
            cells.append(cell)
        self.sheet.append(cells)

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)

    def save(self, path: str | Path) -> None:
        self.book.save(path)

    def discard(self) -> None:
        """Drop a workbook that will not be saved (its run failed), and its sheet's temporary file."""
        with contextlib.suppress(Exception):  # openpyxl's internals: nothing to save, nothing to report
            self.sheet.close()
            os.remove(self.sheet._writer.out)

    def notes(self) -> list[str]:
        """What a sheet could not hold as it was given."""
        return ([f"{self.replaced:,} cells held characters a sheet cannot (control characters): written as U+FFFD"]
                if self.replaced else []) + (
            [f"{self.cut:,} cells were longer than Excel's {MAX_CELL:,} characters: cut there (CSV or JSONL keep them whole)"]
            if self.cut else [])

    def _value(self, value: Any) -> Any:
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        if not isinstance(value, str):
            return value
        if value == "":
            return None
        if _WHOLE.fullmatch(value):
            return int(value)
        if _DECIMAL.fullmatch(value) and repr(float(value)) == value:
            return float(value)
        if _DATE_TIME.fullmatch(value):
            with contextlib.suppress(ValueError):
                return datetime.fromisoformat(value)
        text, n = ILLEGAL_CHARACTERS_RE.subn("\ufffd", value)
        self.replaced += bool(n)
        if len(text) > MAX_CELL:
            text, self.cut = text[:MAX_CELL], self.cut + 1
        return text
