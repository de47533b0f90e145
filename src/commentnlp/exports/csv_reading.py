"""Reading CSV: its encoding and delimiter found from its start, its header row (below a title too), its rows."""

from __future__ import annotations

import csv
import functools
import io
import re
import sys
from itertools import islice
from typing import IO, Callable, Iterator

from .fields import text_field_in
from .items import Item
from .plurals import plural
from .text_encodings import _peekable, bom_encoding
from .writers import written_by_label


#: Largest CSV field accepted (a C long on every platform): a 1 MB comment must not be an error.
CSV_FIELD_LIMIT = min(sys.maxsize, 2**31 - 1)


def allow_long_csv_fields() -> None:
    """Raise the csv module's field size limit to :data:`CSV_FIELD_LIMIT` (on use, not at import)."""
    if csv.field_size_limit() < CSV_FIELD_LIMIT:
        csv.field_size_limit(CSV_FIELD_LIMIT)


def _repair(value: str) -> tuple[str, bool]:
    """Undo ``surrogateescape`` decoding: ``(text with U+FFFD for bad bytes, had_bad_bytes)``."""
    try:
        value.encode("utf-8")
        return value, False
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace"), True


#: CSV field separators recognised in a header row: Excel writes ``;`` where the decimal mark is
#: a comma, and tabs in its "Unicode Text" (UTF-16) export
CSV_DELIMITERS = (",", ";", "\t", "|")
_QUOTED = re.compile(r'"[^"]*"')


#: Excel's first line naming a CSV file's delimiter (``sep=;``), which Excel writes and reads
_EXCEL_SEP = re.compile(r"sep=([^\r\n])\r?")


def sniff_csv(stream: IO[bytes], text_field: str | None = None) -> tuple[str, str]:
    """``(encoding, delimiter)`` of a CSV byte stream, from the bytes it starts with (peeked, not
    consumed, so ``stream`` must have ``peek``: an open file, gzip or stdin does). UTF-16 or UTF-32 when
    it starts with that byte-order mark, else UTF-8 (with or without one); the delimiter is the one
    of :data:`CSV_DELIMITERS` that splits one of the first rows into a header (:func:`is_header`,
    naming ``text_field``; a title may stand above it), else the one found most often outside quotes
    in the first row (a comma when none is)."""
    return _sniff_csv(stream, text_field)[:2]


#: A line's end: CR LF, LF, or a CR alone (Excel's "CSV (Macintosh)", classic Mac text)
_LINE_END = re.compile(r"\r\n|\n|\r")


def _sniff_csv(stream: IO[bytes], text_field: str | None = None) -> tuple[str, str, bool, bool]:
    """:func:`sniff_csv`'s ``(encoding, delimiter)``, and what the file has before its header row,
    for a CSV output to write back: whether it starts with a byte-order mark (Excel's "CSV UTF-8" and
    "Unicode Text" write one, and read a UTF-8 file without one as the ANSI code page) and whether
    its first line is Excel's ``sep=X`` (which names the delimiter)."""
    head = stream.peek(1 << 16)[: 1 << 16]
    encoding = bom_encoding(head) or "utf-8-sig"
    bom = encoding != "utf-8-sig" or head.startswith(b"\xef\xbb\xbf")
    text = head.decode(encoding, errors="replace").lstrip("\ufeff")
    first = _LINE_END.split(text, 1)[0]
    excel = _EXCEL_SEP.fullmatch(first)
    if excel:
        return encoding, excel.group(1), bom, True
    # the rows each delimiter makes of the start (a quoted cell may hold a line break), but for a last one the
    # 64 KiB read may have cut short
    whole = len(head) < 1 << 16
    split = {d: list(islice(csv.reader(io.StringIO(text, newline=""), delimiter=d), MAX_PREAMBLE_ROWS + 2))
             for d in CSV_DELIMITERS}
    if not whole:
        split = {d: rows[:-1] or rows for d, rows in split.items()}
    names_text = functools.partial(is_header, text_field=text_field)
    for i in range(MAX_PREAMBLE_ROWS + 1):  # the header, maybe below a title (which may hold a comma), as read_csv finds it
        for d in CSV_DELIMITERS:
            rows = split[d]
            if i >= len(rows):
                continue
            # below the first row, a data row split at another delimiter may spell a field's name ("...; body"):
            # one of the rows after a header has its width (one of them may be a bad row)
            following = [row for row in rows[i + 1:] if row][:5]
            if _heads_rows_below(rows[i], rows[:i], names_text) \
                    and (i == 0 or not following or any(len(row) == len(rows[i]) for row in following)):
                return encoding, d, bom, False
    counts = [_QUOTED.sub("", first).count(d) for d in CSV_DELIMITERS]  # else the first row's most frequent
    return encoding, CSV_DELIMITERS[counts.index(max(counts))] if max(counts) else ",", bom, False


#: Rows searched for the header when the first row names no text field: exports of social-listening
#: tools open with a title and a few lines about the query before it.
MAX_PREAMBLE_ROWS = 30


def read_csv(stream: IO[bytes], on_blank: Callable[[int], None] | None = None,
             dialect: tuple[str, str] | None = None,
             on_preamble: Callable[[list[list[str]]], None] | None = None,
             text_field: str | None = None, on_header: Callable[[list[str]], None] | None = None) -> Iterator[Item]:
    """Parse a CSV byte stream with a header row (quoted fields may hold delimiters and newlines).

    ``dialect`` is ``(encoding, delimiter)``; by default :func:`sniff_csv` finds them. Empty rows
    hold no record: they are skipped and reported to ``on_blank(line_number)``. When the first row
    names no text field (``text_field``, or by default one of :data:`TEXT_FIELDS`) but one of the
    next :data:`MAX_PREAMBLE_ROWS`, wider than every row above it, does, as in an export that opens with a title, that row is the header,
    and the rows before it are given to ``on_preamble`` (once, before the first record). The
    header's names go to ``on_header`` (once, before the first record).
    """
    allow_long_csv_fields()
    if dialect is None:
        stream = _peekable(stream)
        dialect = sniff_csv(stream, text_field)
    encoding, delimiter = dialect
    text = io.TextIOWrapper(stream, encoding=encoding, errors="surrogateescape", newline="")
    row_lines: list[str] = []  # the lines of the row being read
    ended = [False]  # whether the reader has read the last line

    def lines() -> Iterator[str]:
        for line in text:
            row_lines.append(line)
            yield line
        ended[0] = True

    reader = csv.reader(lines(), delimiter=delimiter)
    header: list[str] | None = None
    while header is None:
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Item(reader.line_num or 1, {}, f"unreadable CSV header ({exc})")
            return
        if reader.line_num == 1 and len(header) <= 2 and _EXCEL_SEP.fullmatch(delimiter.join(header)):
            header = None  # Excel's "sep=;" line: the header is the next one
    ahead: list[tuple[int, list[str] | None, str | None]] = []  # rows read looking for a header further down

    names_text = functools.partial(is_header, text_field=text_field)
    if not names_text(header):
        header, ahead = _header_further_down(reader, header, names_text, on_preamble)
    named = [_repair(h)[0] for h in header]
    header = _unique_names(named)
    if on_header:
        on_header(header)

    def rows() -> Iterator[tuple[int, list[str] | None, str | None]]:
        """``(first line, row or None, csv error)`` of the rows after the header."""
        yield from ahead
        start = reader.line_num + 1
        while True:
            row_lines.clear()
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield start, None, str(exc)
                start = reader.line_num + 1
                continue
            line, start = start, reader.line_num + 1
            # a quote left open reads the rest of the file into one field (an odd count of quotes)
            unclosed = ended[0] and start - line > 1 and sum(part.count('"') for part in row_lines) % 2
            yield line, row, (f"a quote opened in this row is never closed: it runs to the end of the file, "
                              f"{plural(start - line, 'line')} read as one row") if unclosed else None

    for line, row, error in rows():
        if row is None:
            yield Item(line, {}, f"unreadable CSV row ({error})")
            continue
        if error is not None:
            yield Item(line, {"raw": [_repair(v)[0] for v in row]}, error)
            continue
        if not row:
            if on_blank:
                on_blank(line)
            continue
        bad = False
        fixed = []
        for v in row:
            v, b = _repair(v)
            fixed.append(v)
            bad = bad or b
        record = dict(zip(header, fixed))
        if len(named) > 1 and [fixed[0].lstrip("\ufeff"), *fixed[1:]] == named:  # files joined with their headers
            # (Excel's "CSV UTF-8" starts each with a byte-order mark): that row is no comment
            yield Item(line, record, "a repeat of the header row (CSV files joined together?)")
        elif len(fixed) != len(header):
            record = {"raw": fixed}
            yield Item(line, record, f"row has {len(fixed)} fields, the header has {len(header)}")
        elif bad:
            yield Item(line, record, "invalid UTF-8")
        else:
            yield Item(line, record)


def is_header(row: list[str], text_field: str | None = None) -> bool:
    """Whether a CSV row is a header: it names the text field (``text_field``, or one of
    :data:`TEXT_FIELDS`), or it is the header ``label`` writes (its text column named otherwise)."""
    return (text_field in row if text_field else text_field_in(row) is not None) or written_by_label(row)


def _header_further_down(reader, first: list[str], names_text: Callable[[list[str]], bool],
                         on_preamble: Callable[[list[list[str]]], None] | None,
                         ) -> tuple[list[str], list[tuple[int, list[str] | None, str | None]]]:
    """``(header, rows read after it)``: the first of the next :data:`MAX_PREAMBLE_ROWS` rows that
    names a text field and is wider than the rows above it, which go to ``on_preamble``; else
    ``first``, and the rows read while looking, as ``(first line, row or None, csv error)``, to be
    read as data."""
    read: list[tuple[int, list[str] | None, str | None]] = []
    start = reader.line_num + 1
    for _ in range(MAX_PREAMBLE_ROWS):
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            read.append((start, None, str(exc)))
            break
        read.append((start, row, None))
        start = reader.line_num + 1
        if _heads_rows_below(row, [first, *(r for _, r, _ in read[:-1] if r is not None)], names_text):
            if on_preamble:
                on_preamble([first, *(r for _, r, _ in read[:-1] if r is not None)])
            return row, []
    return first, read


def _heads_rows_below(row: list[str], above: list[list[str]], names_text: Callable[[list[str]], bool]) -> bool:
    """Whether a CSV row is the header below the rows ``above`` it (a title, lines about a query): it names a
    text field and is wider than every row above it, their empty cells at the end aside (Excel pads a title to
    the table's width; a data row of a table whose header names none has that header's width, and never counts)."""
    return len(row) > max((_width(r) for r in above), default=0) and names_text(row)


def _width(row: list[str]) -> int:
    """A row's cells up to its last that is not empty."""
    return next((n for n in range(len(row), 0, -1) if row[n - 1].strip()), 0)


def _unique_names(header: list[str]) -> list[str]:
    """Column names with repeats numbered as pandas does (``text, text`` -> ``text, text.1``), so
    no column of a row is lost to a record's repeated key."""
    taken, used, out = set(header), set(), []
    for name in header:
        if name in used:
            n = 1
            while f"{name}.{n}" in taken:
                n += 1
            name = f"{name}.{n}"
            taken.add(name)
        used.add(name)
        out.append(name)
    return out
