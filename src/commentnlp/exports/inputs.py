"""Opening inputs (a file or stdin, gzip, a workbook) as the readers read them, and an export's likely text fields."""

from __future__ import annotations

import contextlib
import gzip
import io
import sys
import zlib
from itertools import islice
from pathlib import Path
from typing import IO, Any

from .csv_reading import MAX_PREAMBLE_ROWS, is_header, read_csv
from .fields import _field_key
from .formats import detect_format, names_a_format
from .items import InputError
from .json_reading import read_jsonl
from .text_encodings import _not_utf16_without_its_mark, _peekable, as_utf8, bom_encoding, lines_ending_in_cr


#: Parts of field names that may hold a comment's text, for a hint when no field has a known name
_TEXTY = ("comment", "message", "text", "content", "body", "sentence", "snippet", "caption", "review", "post")


def likely_text_fields(input_path: str | Path) -> tuple[list[str], list[str]]:
    """``(fields, likely)``: the fields of an export's first record, and those whose names suggest
    the comment's text (``Hit Sentence``, ``Comment Message``), for a hint when no field has a known
    name; nothing for stdin or an input that cannot be read. A CSV that opens with a title: the
    fields of the header row below it (wider than the title, naming such a field)."""
    if str(input_path) == "-":
        return [], []
    try:
        fmt, gz = detect_format(input_path)
        raw, stream = open_input(input_path, gz, fmt)
        with raw:
            stream, fmt, _, _ = readable(stream, fmt, str(input_path))
            items = list(islice(read_csv(stream) if fmt == "csv" else read_jsonl(stream), MAX_PREAMBLE_ROWS + 1))
    except (OSError, ValueError):
        return [], []
    record = next((i.record for i in items if i.error is None), {})

    def texty(name: str) -> bool:
        return any(part in _field_key(name) for part in _TEXTY) and not _field_key(name).endswith(("id", "count", "url"))

    header = next((cells for cells in (i.record.get("raw") for i in items if i.error is not None)
                   if isinstance(cells, list) and len(cells) > max(1, len(record))
                   and any(isinstance(c, str) and texty(c) for c in cells)), None) if fmt == "csv" else None
    if header is not None:  # the header under a title: its rows were "row has 3 fields, the header has 1"
        return [str(c) for c in header], [c for c in header if isinstance(c, str) and texty(c)]
    fields = [k for k in record if isinstance(k, str)]
    likely = [k for k in fields if texty(k) and isinstance(record[k], str) and record[k].strip()]
    return fields, likely


class _CheckedInput(io.RawIOBase):
    """A binary input whose read errors say they are the input's, not the output's."""

    def __init__(self, inner: IO[bytes], name: str):
        self.inner, self.name = inner, name

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        try:
            data = self.inner.read(len(buffer))
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"cannot read input {self.name}: {exc}") from exc
        buffer[: len(data)] = data
        return len(data)


def check_input_file(input_path: str | Path) -> None:
    """Raise a clear error unless ``input_path`` is ``"-"`` (stdin) or an existing file."""
    if str(input_path) == "-" or Path(input_path).is_file():
        return
    if Path(input_path).is_dir():
        raise InputError(f"input is a directory, not an export file: {input_path}")
    if Path(input_path).exists():  # <(cat x), a named pipe, a device: read once, as stdin is
        raise InputError(f"input {input_path} is a pipe or a device, not a file: give it on stdin instead, as '-' "
                         "(e.g. ... | commentnlp label - -o labeled.jsonl)")
    suffix = Path(input_path).suffix
    text = " " in Path(input_path).name and (not suffix or " " in suffix)  # no file extension: words
    hint = " (a comment's text? `commentnlp classify \"...\"` labels texts)" if text else ""
    raise FileNotFoundError(f"input file not found: {input_path}{hint}")


def open_input(input_path: str | Path, gz: bool, fmt: str | None = None) -> tuple[Any, IO[bytes]]:
    """``(raw, stream)``: what to close when done (stdin's stays open) and the stream to read,
    gunzipped; ``"-"`` is stdin, as :func:`open_stdin` opens it. With ``fmt="xlsx"`` the stream is
    the file itself (a workbook is a zip archive, read by seeking: :func:`xlsx_as_csv`)."""
    check_input_file(input_path)
    if str(input_path) == "-":
        return open_stdin()[2:]
    try:
        raw = open(input_path, "rb")
    except OSError as exc:
        raise InputError(f"cannot read input {input_path}: {exc.strerror or exc}") from exc
    if fmt == "xlsx":
        return raw, raw
    stream = _checked_stream(raw, gz, str(input_path))
    try:
        _not_binary(stream.peek(8), f"input {input_path}")
    except InputError:  # that, or a corrupt gzip
        raw.close()
        raise
    return raw, stream


def xlsx_as_csv(source: IO[bytes], sheet: str | None, name: str,
                text_field: str | None = None) -> tuple[IO[bytes], list[str]]:
    """:func:`~commentnlp.spreadsheets.read_xlsx_as_csv` of an open workbook (a stream that cannot
    seek, such as stdin, is read into memory first): the sheet named, else the first with a header
    (:func:`is_header`); its errors :class:`InputError` s naming it."""
    from ..spreadsheets import read_xlsx_as_csv

    seekable = getattr(source, "seekable", lambda: False)()
    try:
        return read_xlsx_as_csv(source if seekable else io.BytesIO(source.read()), sheet,
                                lambda row: is_header(row, text_field))
    except ValueError as exc:
        raise InputError(f"cannot read input {name}: {exc}") from None


def _not_binary(head: bytes, name: str) -> None:
    """Raise :class:`InputError` if an input's first bytes show a file that is not text, whatever its
    name says (read as text, every line would be 'invalid UTF-8')."""
    kind = next((kind for magic, kind in _BINARY_MAGIC.items() if head.startswith(magic)), None)
    if kind is not None:
        raise InputError(f"cannot read {name}: it is {kind}, not JSONL, CSV or text")


#: The first bytes of files an export is sometimes saved as by mistake, and what they are.
_BINARY_MAGIC = {b"PK\x03\x04": "a zip archive (an Excel workbook is one: name it .xlsx, or give --format xlsx)",
                 b"\xd0\xcf\x11\xe0": "an Excel 97-2003 workbook (save it as .xlsx or CSV)",
                 b"PAR1": "a Parquet file (--engine spark reads Parquet)", b"%PDF": "a PDF",
                 b"BZh": "bzip2-compressed (decompress it, or use gzip)",
                 b"\xfd7zXZ\x00": "xz-compressed (decompress it, or use gzip)"}


def open_export(input_path: str | Path, given: str = "auto", notes: list[str] | None = None,
                ) -> tuple[str, bool, Any, IO[bytes]]:
    """``(format, gzipped, raw, stream)`` of an export (``"-"``: stdin, :func:`open_stdin`): the format
    ``given``, else its name's, else, for a name that says none (``comments``, ``export.dat``), its first
    bytes' (gzip by its magic number, then as stdin's, said in ``notes``: a CSV so named was read as JSON
    lines, every line 'not valid JSON'). Closing ``raw`` closes the file (not stdin)."""
    if str(input_path) == "-":
        return open_stdin(given)
    fmt, gz = detect_format(input_path, given)
    raw, stream = open_input(input_path, gz, fmt)
    if given == "auto" and not names_a_format(input_path, readable=True):
        if not gz and is_gzip(stream.peek(2)):  # type: ignore[attr-defined]
            raw.close()
            gz = True
            raw, stream = open_input(input_path, gz, fmt)
        fmt = format_from_head(stream.peek(1 << 12)[: 1 << 12])  # type: ignore[attr-defined]
        if notes is not None:
            notes.append(f"read as {'JSON lines' if fmt == 'jsonl' else 'CSV'}, as its first bytes show "
                         "(its name does not say; --format names it)")
    return fmt, gz, raw, stream


def is_gzip(head: bytes) -> bool:
    """Whether bytes start as gzip's do (its magic number), whatever the name says."""
    return head[:2] == b"\x1f\x8b"


def open_stdin(given: str = "auto") -> tuple[str, bool, Any, IO[bytes]]:
    """``(format, gzipped, raw, stream)`` of stdin: the format ``given``, or with ``"auto"`` the one
    its first bytes show, as stdin has no name to tell: gzip by its magic number (either way); JSON
    lines, or one JSON array, when the first character is ``{`` or ``[``; else CSV. Closing
    ``raw`` leaves stdin open, for the caller."""
    peekable = _peekable(sys.stdin.buffer)
    head = peekable.peek(1 << 12)[: 1 << 12]  # type: ignore[attr-defined]
    gz = is_gzip(head)
    if gz:
        head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head)
    if given != "xlsx":
        _not_binary(head, "stdin")
    fmt = format_from_head(head) if given == "auto" else detect_format(None, given)[0]
    return fmt, gz, _StaysOpen(), _checked_stream(peekable, gz, "<stdin>")


def format_from_head(head: bytes) -> str:
    """The format of an input whose name does not tell (stdin, ``comments``, ``export.dat``), from its
    first bytes: JSON lines, or one JSON array, when its first character is ``{`` or ``[``; else CSV."""
    encoding = bom_encoding(head)
    if encoding:
        head = head.decode(encoding, "replace").encode()
    return "jsonl" if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[", b"") else "csv"


class _StaysOpen(contextlib.nullcontext):
    """Stands for stdin where an opened file is closed (``with raw:``, ``raw.close()``): stdin is the caller's."""

    def close(self) -> None:
        pass


def _checked_stream(raw: IO[bytes], gz: bool, name: str) -> IO[bytes]:
    """The buffered stream to read from ``raw``, gunzipped, its read errors :class:`InputError` s."""
    inner: IO[bytes] = gzip.GzipFile(fileobj=raw) if gz else raw
    return io.BufferedReader(_CheckedInput(inner, name), buffer_size=1 << 16)  # type: ignore[arg-type]


def readable(stream: IO[bytes], fmt: str, name: str, *, encoding: str | None = None, sheet: str | None = None,
             text_field: str | None = None, find_table: bool = True) -> tuple[IO[bytes], str, list[str], bool]:
    """``(stream, format, notes, transcoded)``: an opened input (:func:`open_input`) as the readers
    read it: a workbook as the CSV of its sheet (:func:`xlsx_as_csv`), UTF-16 or ``encoding`` as
    UTF-8 (:func:`as_utf8`), a ``.txt`` whose first line is a tab-separated header as CSV (unless
    ``find_table`` is false: a format given as txt); ``transcoded``: the input was not UTF-8."""
    if fmt == "xlsx":
        stream, notes = xlsx_as_csv(stream, sheet, name, text_field)
        return stream, "csv", notes, True
    if encoding is None:
        _not_utf16_without_its_mark(stream.peek(1 << 10)[: 1 << 10], name)  # type: ignore[attr-defined]
    stream, transcoded = as_utf8(stream, encoding, keep_utf16=fmt == "csv")
    notes = []
    if fmt in ("jsonl", "txt"):  # a CSV reader reads such lines itself
        stream, cr = lines_ending_in_cr(stream)
        if cr:
            notes.append("its lines end in a carriage return alone (an old Mac's, or Excel's \"CSV (Macintosh)\"): "
                         "read as lines")
    if fmt == "txt" and find_table and is_tab_separated_table(stream, text_field):
        return stream, "csv", [*notes, "read as a tab-separated table (as Excel saves \"Unicode Text\"): its first "
                                          "line is a header that names the text column"], transcoded
    return stream, fmt, notes, transcoded


def is_tab_separated_table(stream: IO[bytes], text_field: str | None) -> bool:
    """Whether a plain-text input is a table after all: its first line a tab-separated header that
    names the text field (Excel saves its "Unicode Text" tables as ``.txt``)."""
    head = stream.peek(1 << 16)[: 1 << 16]  # type: ignore[attr-defined]
    cells = head.split(b"\n", 1)[0].decode("utf-8-sig", "replace").rstrip("\r").split("\t")
    return len(cells) > 1 and is_header(cells, text_field)  # label's own header too (its text field named otherwise)
