"""Label comment exports: every input record comes back, in order, with labels or an error.

Formats: JSON Lines and CSV, plain or ``.gz`` (by extension, or given), from a file or
stdin, to a file or stdout; a CSV's separator (``, ; tab |``) and encoding (UTF-8, or UTF-16
with a byte-order mark) are found from its start (:func:`sniff_csv`), and CSV output keeps the
separator; JSON lines and text may be UTF-16 too, and any input another encoding, when named.
A record is written back unchanged plus ``labels`` (the four heads), ``scores`` and ``action``
(CSV: flat ``style, intent, sentiment, troll, action`` columns and one ``<head>_score`` column
per head). A record that cannot be labelled (not JSON, not an object, invalid UTF-8, a CSV row
of the wrong width or with a quote never closed, no text, empty or non-string text) is carried
through with an ``error`` field giving the line number and the reason, and counted in the
:class:`LabelSummary`.

Files are streamed in chunks (constant memory) into ``.<name>.part`` beside the output,
which is renamed only once complete. After every chunk a checkpoint
(``.<name>.part.json``: records and bytes written) is saved, so ``resume=True`` continues an
interrupted run without duplicating or skipping records.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import functools
import gzip
import hashlib
import io
import json
import os
import re
import stat
import sys
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, Mapping

from .preprocessing import blank_kind, is_blank
from .schema import FALSE_WORDS, HEAD_NAMES, THREAD_POSITIONS, TRUE_WORDS, UNSURE
from .validation import as_bool, is_missing, is_number, is_whole
from .userwarnings import warn

__all__ = ["TEXT_FIELDS", "FORMATS", "INPUT_FORMATS", "LabelSummary", "InputError", "read_jsonl", "read_text_lines",
           "read_json_documents", "json_documents", "holds_json_documents", "read_csv", "sniff_csv", "record_of_csv_row",
           "record_of_spark_row", "label_records", "label_file", "open_input", "open_stdin", "open_export", "default_output_path", "detect_format",
           "check_input_file", "text_of", "text_field_in", "first_field", "as_utf8", "is_tab_separated_table",
           "written_by_label", "likely_text_fields", "xlsx_as_csv", "reply_field_in", "readable", "field_among"]

#: Largest CSV field accepted (a C long on every platform): a 1 MB comment must not be an error.
CSV_FIELD_LIMIT = min(sys.maxsize, 2**31 - 1)


def allow_long_csv_fields() -> None:
    """Raise the csv module's field size limit to :data:`CSV_FIELD_LIMIT` (on use, not at import)."""
    if csv.field_size_limit() < CSV_FIELD_LIMIT:
        csv.field_size_limit(CSV_FIELD_LIMIT)

#: Formats read and written (a ``.gz`` suffix adds gzip compression to JSONL and CSV); ``xlsx``, an
#: Excel workbook: one sheet read, as CSV is, and written as a sheet of the rows a CSV output holds.
FORMATS = ("jsonl", "csv", "xlsx")
#: Formats read but not written: ``txt``, plain text with one comment per line (labelled as JSONL).
INPUT_FORMATS = (*FORMATS, "txt")

#: Field names tried, in order, when no text field is given: the usual ones, then those of
#: Facebook comment scrapes (``comment_text``), Twitter's API and tweet datasets (``full_text``,
#: ``tweet_text``), YouTube's API (``textOriginal``; not ``textDisplay``, which is HTML) and
#: product Q&A (``question``). A name matches in any case and spelling: ``Message``,
#: ``commentText`` and ``Comment Text`` match too.
TEXT_FIELDS = ("text", "message", "comment", "body", "content", "comment_text", "full_text", "tweet_text",
               "text_original", "question")

#: Dotted paths tried when a record has none of :data:`TEXT_FIELDS`: YouTube's Data API
#: ``commentThreads`` and ``comments`` resources.
NESTED_TEXT_FIELDS = ("snippet.topLevelComment.snippet.textOriginal", "snippet.textOriginal")

#: Fields that tell whether a record is a reply in a thread, tried in order (``reply_of``):
#: a flag, a kind (Facebook exports' ``comment_type``: "initial" or "reply"), or a parent's id
#: (Facebook ``parent_id``, YouTube ``parentId``, X/Twitter ``in_reply_to_status_id``), or the
#: parent itself (Facebook's Graph API: ``"parent": {"id": ...}`` on a reply, null on a top-level comment).
REPLY_FIELDS = ("is_reply", "comment_type", "parent_id", "parentId", "in_reply_to_status_id",
                "in_reply_to_status_id_str", "parent")
_REPLY_KINDS = {**THREAD_POSITIONS, "comment": False, "top-level": False, "top_level": False}
#: A parent id that says "no parent" as database exports write it (SQL's NULL, psql's \\N, "N/A").
_NO_PARENT = frozenset({"", "null", "none", "nil", "\\n", "n/a", "na", "nan", "-", "undefined"})

#: Records per chunk, with or without worker processes: the output is checkpointed after each one,
#: and the model's batches are formed within it (sorted by length), so a comment's batch-mates, and
#: with them its int8 scores, are the same either way.
CHUNK = 4096


@dataclass
class LabelSummary:
    """What a labelling run did: counts, the reasons for errors, where the output went."""

    total: int = 0
    resumed: int = 0
    labeled: int = 0
    errors: int = 0
    blank_lines: int = 0
    reasons: Counter = field(default_factory=Counter)
    #: records per suggested action (the playbook rule's id), of the records labelled (before an
    #: interruption too, when resumed)
    actions: Counter = field(default_factory=Counter)
    #: how the input was read, where it is not one record per line or row (API responses)
    notes: list[str] = field(default_factory=list)
    output: str = ""
    seconds: float = 0.0

    def add(self, other: "LabelSummary") -> None:
        """Add the counts of ``other`` (a part of the same run) to these."""
        self.total += other.total
        self.labeled += other.labeled
        self.errors += other.errors
        self.reasons.update(other.reasons)
        self.actions.update(other.actions)

    def counts(self) -> dict[str, Any]:
        """The counts a checkpoint keeps (a resumed run's summary covers the whole output), and a
        worker process sends with a chunk."""
        return {"labeled": self.labeled, "errors": self.errors, "reasons": dict(self.reasons),
                "actions": dict(self.actions)}

    def restore(self, counts: Mapping[str, Any]) -> None:
        """Take the counts of :meth:`counts` (an interrupted run's, as this run's start; a chunk's)."""
        labeled, errors = int(counts["labeled"]), int(counts["errors"])  # all read before any is taken
        reasons, actions = Counter(counts["reasons"]), Counter(counts["actions"])
        self.labeled, self.errors, self.reasons, self.actions = labeled, errors, reasons, actions

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "resumed": self.resumed, "labeled": self.labeled, "errors": self.errors, "blank_lines": self.blank_lines,
                "reasons": dict(self.reasons), "actions": dict(self.actions), "notes": self.notes, "output": self.output,
                "seconds": round(self.seconds, 2)}


@dataclass
class Item:
    """One input record: its line (or, in a JSON array, its position), the record to write back, and
    why it cannot be labelled (if so)."""

    line: int
    record: dict[str, Any]
    error: str | None = None
    where: str = "line"  # "item" in a JSON array: errors say "item 3: ..."


#: A JSONL line not yet parsed: its number and its bytes (stripped, BOM removed).
RawLine = tuple[int, bytes]


def read_jsonl(stream: IO[bytes], on_blank: Callable[[int], None] | None = None) -> Iterator[Item]:
    """Parse a JSONL byte stream; bad lines become items carrying an ``error`` and their raw text.

    Empty and whitespace-only lines hold no record: they are skipped and reported to
    ``on_blank(line_number)``.
    """
    for lineno, raw in jsonl_lines(stream, on_blank):
        yield parse_jsonl_line(lineno, raw)


def jsonl_lines(stream: IO[bytes], on_blank: Callable[[int], None] | None = None) -> Iterator[RawLine]:
    """The non-blank lines of a JSONL byte stream, unparsed (``read_jsonl`` without the parsing)."""
    for lineno, raw in enumerate(stream, 1):
        if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        stripped = raw.strip()
        if stripped:
            yield lineno, stripped
        elif on_blank:
            on_blank(lineno)


def read_text_lines(stream: IO[bytes], on_blank: Callable[[int], None] | None = None) -> Iterator[Item]:
    """Each non-blank line of a plain-text byte stream as one comment, ``{"text": line}`` (spaces
    around it stripped); a line that is not UTF-8 carries its ``error``, as in JSON lines."""
    for lineno, raw in jsonl_lines(stream, on_blank):
        try:
            yield Item(lineno, {"text": raw.decode("utf-8")})
        except UnicodeDecodeError as exc:
            yield _not_utf8(lineno, raw, exc)


#: Deepest nesting of a record read: Python's JSON parser and writer recurse, and fail near 1,000 levels
MAX_DEPTH = 400
#: Why a record nested deeper is not read (it is written back as its line's text)
TOO_DEEP = f"not readable JSON (nested over {MAX_DEPTH} levels deep)"


def deeper_than(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether a parsed JSON value nests lists and objects more than ``limit`` levels deep."""
    stack = [(value, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > limit:
                return True
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))
    return False


def _not_utf8(lineno: int, raw: bytes, exc: UnicodeDecodeError) -> Item:
    """The item of a line that is not UTF-8: its text with U+FFFD for the bad bytes, and where the first is."""
    return Item(lineno, {"raw": raw.decode("utf-8", errors="replace")}, f"invalid UTF-8 (at byte {exc.start})")


def parse_jsonl_line(lineno: int, raw: bytes) -> Item:
    """One non-blank JSONL line as an :class:`Item`; a bad line carries its ``error`` and raw text."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _not_utf8(lineno, raw, exc)
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return Item(lineno, {"raw": line}, f"not valid JSON ({exc.msg.removesuffix(' at')} at column {exc.colno})")
    except RecursionError:
        return Item(lineno, {"raw": line}, TOO_DEEP)
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and deeper_than(record):  # written back, it would fail
        return Item(lineno, {"raw": line}, TOO_DEEP)
    if not isinstance(record, dict):
        return Item(lineno, {"raw": record}, f"not a JSON object (got {type(record).__name__})")
    return Item(lineno, record)


#: Keys (dotted: in nested objects) under which an API response lists its records: Facebook's and
#: Instagram's Graph API (``data``), YouTube's Data API (``items``), TikTok's Research API
#: (``data.comments``).
API_LIST_KEYS = ("data", "items", "data.comments")


#: Fields an API response has beside its list of records (paging, cursors, its kind): a response
#: listing none (a crawl's last page) is known by having nothing else
_PAGE_FIELDS = frozenset({"paging", "next", "previous", "summary", "nextPageToken", "prevPageToken", "pageInfo", "kind",
                          "etag", "cursor", "has_more", "error", "search_id"})


def _api_list_key(value: Any, text_field: str | None = None) -> str | None:
    """The key under which ``value``, an API response (``{"data": [...], "paging": {...}}``),
    lists its records (none, on a crawl's last page, when it holds nothing but paging); None for a
    record (it has a text field: ``text_field``, or one of the usual ones) or anything else."""
    if not isinstance(value, dict):
        return None
    if text_field_in(value) is not None or (text_field is not None and text_of(value, text_field)[1] is None):
        return None
    for key in API_LIST_KEYS:
        found = _records_at(value, key, empty=True)
        if found or (found is not None and all(name.rsplit(".", 1)[-1] in _PAGE_FIELDS for name in _beside(value, key))):
            return key
    return None


def _records_at(value: dict[str, Any], path: str, empty: bool = False) -> list[dict[str, Any]] | None:
    """The list of objects at a dotted ``path`` of ``value`` (an API's records; an empty one only
    if ``empty``), or None."""
    found = _nested(value, path)
    return found if isinstance(found, list) and (found or empty) and all(isinstance(v, dict) for v in found) else None


def read_json_documents(data: bytes, text_field: str | None = None, encoding: str | None = None,
                        ) -> tuple[list[Item], list[str]] | None:
    """The records of JSON documents that are not JSON lines: an array of records (scrapers export
    comments as one), a record written over several lines, an API response listing records under
    ``data`` or ``items`` (its records are read; its other fields, such as ``paging``, are not
    written; replies nested in a record are read as records of their own, after it), or several
    such responses, one after another or in an array, or records pretty-printed one after another
    (as ``jq`` writes them). Returns the records' items (errors name their position, ``item N``) and
    notes on what was read; None when ``data`` is none of these, JSON lines among them (it is then
    read as JSON lines). ``text_field``: an object that has it is a record, not a response. A document
    that is not UTF-8 is an :class:`InputError` naming the first bad byte, or, read from ``encoding``
    (transcoded), one whose bytes that encoding has no character for become U+FFFD, a note says."""
    try:
        return _documents_of_text(data.decode("utf-8-sig"), text_field)
    except UnicodeDecodeError as exc:
        text = data.decode("utf-8-sig", "replace")
        documents = _documents_of_text(text, text_field)
        if documents is None:
            return None  # JSON lines: the lines that are not UTF-8 say so
        if encoding is not None:
            bad = text.count("\ufffd") - data.count("\ufffd".encode())  # those the data did not hold already
            return documents[0], [*documents[1], f"{plural(bad, 'byte')} that {encoding} has no character for "
                                                 f"read as U+FFFD"]
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(f"the JSON document is not UTF-8 (line {line}, byte {exc.start}: "
                         f"{data[exc.start:exc.start + 1]!r}), and a document is read whole: save it as UTF-8, or name "
                         "its encoding (label's --encoding, e.g. cp1252, Excel's on Windows, or latin-1)") from None


def _documents_of_text(text: str, text_field: str | None) -> tuple[list[Item], list[str]] | None:
    """:func:`read_json_documents` of the decoded text."""
    decoder, values, any_key, multiline = json.JSONDecoder(), [], False, False
    pos = _BLANKS.match(text).end()
    while pos < len(text):
        try:
            value, end = decoder.raw_decode(text, pos)
        except (ValueError, RecursionError):  # read as JSON lines, where the line says what is wrong
            return None
        values.append(value)
        any_key = any_key or _api_list_key(value, text_field) is not None
        multiline = multiline or text.find("\n", pos, end) >= 0
        if len(values) == 2 and not any_key and not multiline:
            return None  # several values, no response, none over several lines: JSON lines (told at the second
            # value: a JSONL read whole for its long first line is not parsed whole too; both only ever turn true)
        pos = _BLANKS.match(text, end).end()
    if len(values) > 1 and not all(isinstance(v, dict) for v in values):
        return None  # several values, not all objects: JSON lines (a bad first line opening with '[')
    if len(text) > MAX_DEPTH and any(deeper_than(v, MAX_DEPTH + 3) for v in values):
        return None  # a record too deep to write back: JSON lines, each line carried through as its text
    records: list[Any] = []
    pages: Counter = Counter()
    replies: Counter = Counter()
    left_out: set[str] = set()
    for value in [v for value in values for v in (value if isinstance(value, list) else [value])]:
        key = _api_list_key(value, text_field)  # an API response, alone or in an array of them (a saved crawl)
        if key is None:
            records.append(value)
            continue
        pages[key] += 1
        left_out.update(_beside(value, key))
        for record in _nested(value, key):
            records.append(record)
            records += _nested_replies(record, replies)
    notes = [f"read the records listed under {key!r} of {plural(n, 'API response')}" for key, n in pages.items()]
    if multiline and len(values) > 1 and len(values) > sum(pages.values()):  # records pretty-printed one after another
        notes.append(f"read {plural(len(values), 'JSON value')} written one after another (as jq writes them), not one "
                     "per line")
    notes += [f"labelled {plural(n, 'reply', 'replies')} nested in their comments (under {path!r}) as records of their own, "
              f"each after its comment (which keeps them too)" for path, n in replies.items()]
    if left_out:
        notes.append(f"not written: the responses' {', '.join(sorted(left_out))}")
    return [_item(i, v) for i, v in enumerate(records, 1)], notes


def _beside(value: dict[str, Any], path: str) -> Iterator[str]:
    """The (dotted) names of the fields of ``value`` beside those on ``path``: ``paging`` beside
    ``data``; ``data.cursor`` and ``error`` beside ``data.comments``."""
    prefix = ""
    for key in path.split("."):
        yield from (prefix + k for k in value if k != key)
        value, prefix = value[key], f"{prefix}{key}."


#: Where an API's comment holds its replies: Facebook's Graph API (``comments.data``), Instagram's
#: (``replies.data``), YouTube's ``commentThreads`` (``replies.comments``).
NESTED_REPLY_PATHS = ("comments.data", "replies.data", "replies.comments")


def _nested_replies(record: Any, counts: Counter) -> list[dict[str, Any]]:
    """The replies an API's comment holds (:data:`NESTED_REPLY_PATHS`), each as a record with its
    comment's ``id`` as ``parent_id`` (so it is read as a reply) unless it names its parent already."""
    out: list[dict[str, Any]] = []
    for path in NESTED_REPLY_PATHS if isinstance(record, dict) else ():
        found = _records_at(record, path)
        if found is not None:
            counts[path] += len(found)
            parent = record.get("id")
            out += [r if parent is None or reply_of(r) is not None else {**r, "parent_id": parent} for r in found]
    return out


_BLANKS = re.compile(r"\s*")


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """``"1 reply"``, ``"2 replies"``, ``"1,024 comments"``: a count and its noun, for messages."""
    return f"{n:,} {noun if n == 1 else nouns or noun + 's'}"


def _item(position: int, value: Any) -> Item:
    """A record given as a parsed value (an element of a JSON array, or of what a caller passes
    :func:`label_records`): errors name its position, ``item N``."""
    if isinstance(value, Item):
        return value
    if isinstance(value, Mapping):
        return Item(position, dict(value), where="item")
    return Item(position, {"raw": value}, f"not a JSON object (got {type(value).__name__})", where="item")


def json_documents(stream: IO[bytes], text_field: str | None = None, encoding: str | None = None,
                   ) -> tuple[tuple[list[Item], list[str]] | None, IO[bytes]]:
    """``(documents, stream)``: the records and notes of the JSON documents a peekable stream holds
    (:func:`holds_json_documents`, :func:`read_json_documents`), or None and a stream to read as
    JSON lines from its start (the stream itself, or what was read of it, when it held none)."""
    if not holds_json_documents(stream, text_field):
        return None, stream
    data = stream.read()
    documents = read_json_documents(data, text_field, encoding)
    return documents, stream if documents is not None else io.BufferedReader(io.BytesIO(data))  # type: ignore[return-value]


def holds_json_documents(stream: IO[bytes], text_field: str | None = None) -> bool:
    """Whether a peekable byte stream is read whole as JSON documents (:func:`read_json_documents`)
    rather than as JSON lines: it starts with an array, with an object its first line does not hold
    whole (pretty-printed), with an API response listing records, or with one line longer than can
    be peeked at (API responses run long). Read whole, what is none of these is read as JSON lines
    after all."""
    head = stream.peek(1 << 16)[: 1 << 16].removeprefix(b"\xef\xbb\xbf").lstrip()  # type: ignore[attr-defined]
    if head.startswith(b"["):
        return True
    end = head.find(b"\n")
    if end < 0:
        return head.startswith(b"{")
    first = head[:end].strip()
    try:
        return _api_list_key(json.loads(first), text_field) is not None
    except (ValueError, RecursionError):  # a record written over several lines (or a bad line: JSON lines after all)
        return first.startswith(b"{")


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


def _peekable(stream: IO[bytes]) -> IO[bytes]:
    return stream if hasattr(stream, "peek") else io.BufferedReader(stream)  # type: ignore[arg-type]


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


@functools.lru_cache(maxsize=4096)  # the same few field names, record after record
def _field_key(name: str) -> str:
    """``"Comment Text"``, ``"commentText"``, ``"comment_text"`` -> ``"commenttext"``."""
    return _NOT_ALNUM.sub("", name.lower())


_NOT_ALNUM = re.compile(r"[^0-9a-z]")


def first_field(names: Iterable[str], candidates: tuple[str, ...]) -> str | None:
    """The first of ``candidates`` among ``names``, spelt as listed; else the first name that matches
    one in any case and spelling (``Message``, ``commentText``), in the candidates' order."""
    found = next((f for f in candidates if f in names), None)
    if found is None:
        by_key: dict[str, str] = {}
        for name in names:
            if isinstance(name, str):
                by_key.setdefault(_field_key(name), name)
        found = next((by_key[k] for k in map(_field_key, candidates) if k in by_key), None)
    return found


@functools.lru_cache(maxsize=1024)  # the records of an export share their fields
def field_among(names: tuple[str, ...], candidates: tuple[str, ...]) -> str | None:
    """:func:`first_field`, remembered for the field names records share (a record's ``tuple(record)``)."""
    return first_field(names, candidates)


def text_field_in(names: Iterable[str]) -> str | None:
    """The first of :data:`TEXT_FIELDS` among ``names``, as :func:`first_field` finds it."""
    return first_field(names, TEXT_FIELDS)


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


def text_of(record: dict[str, Any], text_field: str | None = None) -> tuple[str | None, str | None]:
    """The comment text of an export record: ``(text, None)``, or ``(None, why it has none)``.

    ``text_field`` names the field, or a field of nested objects by its dotted path (YouTube's
    API: ``snippet.topLevelComment.snippet.textOriginal``); by default :func:`text_field_in` finds it.
    """
    if text_field is not None:
        name = text_field
        if text_field in record:
            value = record[text_field]
        else:
            value = _nested(record, text_field, cells=True)
            if value is _MISSING:
                return None, f"no {text_field!r} field"
    else:
        name = text_field_in(record)
        if name is not None:
            value = record[name]
        else:  # a resource of YouTube's Data API holds its text in nested objects
            name = next((path for path in NESTED_TEXT_FIELDS if _nested(record, path, cells=True) is not _MISSING), None)
            if name is None:
                return None, f"no text field (looked for {', '.join(TEXT_FIELDS)})"
            value = _nested(record, name, cells=True)
    if not isinstance(value, str):
        return None, f"{name!r} is {'null' if _missing(value) else type(value).__name__}, not a string"
    if is_blank(value):
        return None, f"{name!r} is {blank_kind(value)}"
    return value, None


_MISSING = object()


def _missing(value: Any) -> bool:
    """Whether a value stands for a missing one: null, NaN (JSON's, or pandas'), pandas' NA."""
    return is_missing(value) or type(value).__name__ == "NAType"


def _nested(record: Mapping[str, Any], path: str, cells: bool = False) -> Any:
    """The value at a dotted path of nested objects (``a.b.c``), or ``_MISSING``; with ``cells``,
    an object on the way may be a CSV cell holding it as JSON, as ``label`` writes one (YouTube's
    ``snippet`` column)."""
    value: Any = record
    for key in path.split("."):
        if cells and isinstance(value, str) and value.startswith("{"):
            with contextlib.suppress(ValueError, RecursionError):
                value = json.loads(value)
        if not isinstance(value, Mapping) or key not in value:
            return _MISSING
        value = value[key]
    return value


def reply_of(record: Mapping[str, Any]) -> bool | None:
    """Whether a record is a reply to another comment (True), a top-level comment (False), or unknown (None).

    Read from the first of :data:`REPLY_FIELDS` present (:func:`reply_field_in`: also in any case and
    spelling, as a sheet names it: ``Is Reply``, ``Parent ID``): ``is_reply`` (a bool, 1/0, 1.0/0.0 as
    pandas writes a numeric column with nulls, or "true"/"false" in a CSV), ``comment_type``
    ("reply" or "initial"), or a parent id (empty, null, NaN, a number equal to 0, or the word
    NULL, ``\\N``, N/A or None: the usual "no parent" of database exports: top level). A value it cannot read gives None, so the text
    alone decides.
    """
    found = reply_field_in(record)
    return None if found is None else reply_value(found[1], record[found[0]])


#: the one of :data:`REPLY_FIELDS` a field name stands for, by its spelling-free key (``parentId``: ``parent_id``)
_REPLY_KINDS_BY_KEY = {_field_key(f): f for f in reversed(REPLY_FIELDS)}


def reply_field_in(names: Iterable[str]) -> tuple[str, str] | None:
    """``(field, kind)``: the first of :data:`REPLY_FIELDS` among ``names``, as :func:`first_field`
    finds it (``Is Reply``, ``Parent ID``), and the one of :data:`REPLY_FIELDS` it stands for."""
    found = field_among(tuple(names), REPLY_FIELDS)
    return None if found is None else (found, _REPLY_KINDS_BY_KEY[_field_key(found)])


def reply_value(name: str, value: Any) -> bool | None:
    """:func:`reply_of` for the value of one of :data:`REPLY_FIELDS`, ``name``."""
    if isinstance(value, str):  # a CSV's cells, most JSON: read first, with no other type to tell
        word = value.strip().lower()
        if name == "comment_type":
            return _REPLY_KINDS.get(word)
        if name == "is_reply":
            if word in TRUE_WORDS or word in FALSE_WORDS:
                return word in TRUE_WORDS
            number = _number_in(word)
            return None if number not in (0.0, 1.0) else number == 1.0  # NaN is in neither
        if name == "parent":
            return None
        number = _number_in(word)
        return word not in _NO_PARENT if number is None else not (number == 0 or number != number)
    flag = as_bool(value)
    if name == "comment_type":
        return None
    if name == "is_reply":
        return flag if flag is not None else (None if not is_number(value) or value not in (0, 1) else bool(value == 1))
    if name == "parent":  # Graph API's parent comment object; another kind of "parent" says nothing
        return bool(value) if isinstance(value, Mapping) else False if is_missing(value) else None
    if is_missing(value) or flag is not None:
        return None if flag is not None else False
    return bool(value != 0) if is_number(value) else True  # 0 or 0.0: no parent


def _number_in(word: str) -> float | None:
    """A numeric string as a number ("0.0" in a CSV written by pandas from a column with nulls), else None."""
    if not word or not (word[0].isdigit() or word[0] in "+-.in"):  # most ids are not numbers: no exception for them
        return None
    try:
        return float(word)
    except ValueError:
        return None


def replies_to_label(items: Iterable[Item]) -> list[bool | None]:
    """:func:`reply_of` of each item that can be labelled (no ``error``), aligned with :func:`texts_to_label`."""
    return [reply_of(item.record) for item in items if item.error is None]


def label_records(
    items: Iterable[Item | Mapping[str, Any]],
    classifier,
    *,
    text_field: str | None = None,
    batch_size: int | None = None,
    summary: LabelSummary | None = None,
    chunk: int = CHUNK,
    abstain: bool = False,
) -> Iterator[dict[str, Any]]:
    """Yield one output record per input record, in order: a copy with ``labels``, ``scores`` and
    ``action`` added, or with an ``error`` (``"item 3: 'message' is null, not a string"``).

    Records are dicts as an export holds them (the text field found as ``label`` finds it, the
    thread position read from their reply fields), or :class:`Item` s, or a pandas (or polars)
    DataFrame's rows; they are read lazily, in
    chunks of ``chunk``. ``abstain``: a head below the model's threshold is labelled ``"unsure"``.
    ``classifier``: a :class:`~commentnlp.Classifier`, or a model as ``classify`` takes it (None: the
    default model, a bundled model's name or a directory), loaded once per process."""
    if not is_whole(chunk, 1):  # 0 gave no records at all, silently
        raise ValueError(f"chunk must be a whole number >= 1, not {chunk!r}")
    if classifier is None or isinstance(classifier, (str, Path)):
        from .classifier import load_cached

        classifier = load_cached(classifier)
    items = rows_of(items)
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable):
        given = "one record: pass a list of them, [record]" if isinstance(items, Mapping) else type(items).__name__
        raise TypeError(f"records must be dicts (an iterable of them), got {given}"
                        + (" (texts are labelled with classify)" if isinstance(items, str) else ""))
    summary = summary if summary is not None else LabelSummary()
    numbered = (_item(i, v) for i, v in enumerate(items, 1))
    chunks = labelled_chunks(numbered, classifier, text_field=text_field, batch_size=batch_size, summary=summary,
                             chunk=chunk, abstain=abstain)
    return (record for records in chunks for record in records)


def labelled_chunks(items: Iterable[Item], classifier, *, text_field: str | None, batch_size: int | None,
                    summary: LabelSummary, chunk: int, abstain: bool = False) -> Iterator[list[dict[str, Any]]]:
    """The output records of each chunk of ``chunk`` items, in order, labelled in this process."""
    for block in chunked(items, chunk):
        texts = texts_to_label(block, text_field)
        predictions = classifier.predict(texts, batch_size=batch_size, abstain=abstain, is_reply=replies_to_label(block))
        yield output_records(block, predictions, summary)


def chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive lists of ``size`` items (the last one shorter)."""
    it = iter(items)
    while block := list(islice(it, size)):
        yield block


def rows_of(items: Any) -> Any:
    """A pandas or polars DataFrame as its rows (dicts), anything else as it is (iterated, a DataFrame gives its
    column names)."""
    if hasattr(items, "columns") and hasattr(items, "to_dicts"):  # polars
        return items.to_dicts()
    if hasattr(items, "columns") and hasattr(items, "to_dict"):  # pandas
        return items.to_dict("records")
    return items


def texts_to_label(items: Iterable[Item], text_field: str | None) -> list[str]:
    """The texts of the items that can be labelled, in order; any other item gets its ``error`` set."""
    texts = []
    for item in items:
        if item.error is None:
            text, reason = text_of(item.record, text_field)
            if reason:
                item.error = reason
            else:
                texts.append(text)
    return texts


def output_records(items: Iterable[Item], predictions: Iterable, summary: LabelSummary) -> list[dict[str, Any]]:
    """Each item's record plus its prediction (one per item without an ``error``, in order) or its error."""
    predicted = iter(predictions)
    records = []
    for item in items:
        summary.total += 1
        out = _without_earlier_output(item.record)
        if item.error is not None:
            summary.errors += 1
            summary.reasons[item.error.split(" (")[0]] += 1
            out["error"] = f"{item.where} {item.line}: {item.error}"
        else:
            p = next(predicted)
            summary.labeled += 1
            out["labels"] = p.labels
            out["scores"] = p.scores
            out["action"] = p.action
            summary.actions[p.action_id] += 1
        records.append(out)
    return records


#: The fields ``label`` adds to a record.
OUTPUT_FIELDS = ("labels", "scores", "action", "error")
_OUR_ERROR = re.compile(r"(line|item) \d+: ")
_HEAD_SET = frozenset(HEAD_NAMES)


def _without_earlier_output(record: dict[str, Any]) -> dict[str, Any]:
    """A copy of an input record ready for this run's fields: what an earlier ``label`` run wrote
    (labelling its output again) is dropped, so a record is never both labelled and in error; an
    input field of the same name that ``label`` did not write is kept as ``<name>.input``."""
    if not any(name in record for name in OUTPUT_FIELDS):  # nearly every record: nothing to sort out
        return dict(record)
    labels = record.get("labels")
    ours = isinstance(labels, dict) and bool(labels) and labels.keys() <= _HEAD_SET
    earlier = {
        "labels": ours,
        "scores": isinstance(record.get("scores"), dict) and record["scores"].keys() <= _HEAD_SET,
        "action": ours and isinstance(record.get("action"), str),
        "error": isinstance(record.get("error"), str) and _OUR_ERROR.match(record["error"]) is not None,
    }
    return {(f"{k}.input" if k in OUTPUT_FIELDS else k): v for k, v in record.items() if not earlier.get(k)}


#: half a surrogate pair: valid in a JSON string (``"\\ud83d"``, an emoji an export cut in two), not in UTF-8
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _json_text(value: Any) -> str:
    """``value`` as JSON, UTF-8 text kept as is; a lone surrogate, which UTF-8 cannot hold, stays
    escaped as the input had it (``json.loads`` gives the same value back)."""
    text = json.dumps(value, ensure_ascii=False)
    if not text.isascii() and _LONE_SURROGATE.search(text):  # only inside strings: escape it there
        text = _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text


def jsonl_line(record: dict[str, Any]) -> str:
    """One output record as a JSON line (:func:`_json_text`)."""
    return _json_text(record) + "\n"


#: File name endings read and written as CSV (a ``.tsv`` output is tab-separated).
_CSV_SUFFIXES = (".csv", ".tsv")
_JSON_SUFFIXES = (".jsonl", ".ndjson", ".json", ".jsonlines", ".ldjson")
#: File name endings of formats that are neither JSONL nor CSV, and what to do instead.
_OTHER_FORMATS = {".parquet": "--engine spark reads and writes Parquet",
                  ".xls": "an Excel 97-2003 workbook: save it as .xlsx or CSV", ".avro": "convert it to JSONL or Parquet",
                  ".orc": "convert it to JSONL or Parquet",
                  **dict.fromkeys((".zip", ".tar", ".7z", ".rar"), "an archive: unpack it and label the file inside "
                                  "(a JSONL or CSV output may end in .gz to be compressed)"),
                  **dict.fromkeys((".bz2", ".xz", ".zst"), "compressed otherwise than gzip: decompress it, or use .gz")}


#: Other names of the formats: tsv is CSV (tab-separated when written), json and ndjson are JSON lines
_FORMAT_ALIASES = {"tsv": "csv", "json": "jsonl", "ndjson": "jsonl"}


def names_tsv(output_format: str | None) -> bool:
    """Whether a format given by name is ``tsv`` (``.gz`` or not): CSV written with tabs."""
    return (output_format or "").strip().lower().removesuffix(".gz") == "tsv"


def detect_format(path: str | Path | None, given: str = "auto") -> tuple[str, bool]:
    """``(format, gzipped)`` from an explicit format or the file name (``x.csv.gz`` -> csv, gzip;
    ``.tsv`` is CSV, whose separator is read from the header; ``.txt`` is plain text, one comment per
    line, and ``.xlsx`` an Excel workbook, both read only; other names are JSONL, except those of
    formats that are none of these, e.g. ``.parquet`` or ``.xls``: a ValueError that says what to do)."""
    name = "" if path is None or str(path) == "-" else str(path).lower()
    gz = name.endswith(".gz")
    if given != "auto":
        given = given.strip().lower()  # --format CSV, --output-format tsv
        fmt = given[:-3] if given.endswith(".gz") else given
        fmt = _FORMAT_ALIASES.get(fmt, fmt)
        gz = gz or given.endswith(".gz")
    else:
        base = name[:-3] if gz else name
        other = next((hint for ext, hint in _OTHER_FORMATS.items() if base.endswith(ext)), None)
        if other is not None:  # writing JSON lines under that name would make a file nothing opens
            raise ValueError(f"{path}: not a format label reads or writes (JSONL or CSV, optionally .gz); {other}")
        fmt = ("csv" if base.endswith(_CSV_SUFFIXES) else "txt" if base.endswith(".txt") else
               "xlsx" if base.endswith(".xlsx") else "jsonl")
    if fmt not in INPUT_FORMATS:
        raise ValueError(f"unknown format {given!r}; use one of {', '.join(INPUT_FORMATS)} (optionally .gz)")
    if fmt == "xlsx" and gz:
        raise ValueError(f"{path or given}: an Excel workbook is compressed already (it is a zip archive): no .gz")
    return fmt, gz


def names_a_format(path: str | Path, readable: bool = False) -> bool:
    """Whether a file name's extension names a format (``.csv``, ``.jsonl``, ``.json``, ``.xlsx``, ...;
    ``.gz`` aside): one commentnlp reads, or (unless ``readable``) one it refuses with what to do
    (``.parquet``, ``.xls``)."""
    name = str(path).lower().removesuffix(".gz")
    return name.endswith((*_CSV_SUFFIXES, *_JSON_SUFFIXES, ".txt", ".xlsx", *(() if readable else _OTHER_FORMATS)))


def names_a_folder(output: str | Path) -> bool:
    """Whether an output names a folder to write into: one that is, or a name ending in a slash (``labeled/``,
    made when written)."""
    return str(output).endswith(("/", os.sep)) or Path(output).is_dir()


def default_output_path(input_path: str | Path, output_format: str | None = None) -> Path:
    """``export.jsonl`` -> ``export.labeled.jsonl``; ``a.csv.gz`` -> ``a.labeled.csv.gz`` (beside the input)."""
    p = Path(input_path)
    name = p.name
    gz = name.lower().endswith(".gz")
    stem = name[:-3] if gz else name
    base, dot, ext = stem.rpartition(".")
    if not dot:
        base, ext = stem, "jsonl"
    if output_format:
        fmt, gz = detect_format(None, output_format)
        if names_tsv(output_format):  # tab-separated: named so, and written so
            ext = "tsv"
        try:  # the input's own extension if it names that format (.tsv, .ndjson), not one it does not (.dat)
            same = names_a_format(f"x.{ext}", readable=True) and detect_format(f"x.{ext}")[0] == fmt
        except ValueError:
            same = False
        if not same:
            ext = fmt
    return p.with_name(f"{base}.labeled.{ext}" + (".gz" if gz else ""))


def _count_lines(path: Path, gz: bool) -> int | None:
    if gz:
        return None
    with path.open("rb") as f:
        return sum(buf.count(b"\n") for buf in iter(lambda: f.read(1 << 20), b""))


class _CsvSink:
    """Writes output records as CSV: input columns first, then flat labels and scores
    (:func:`record_of_csv_row` reads a row back)."""

    LABEL_COLUMNS = (*HEAD_NAMES, "action")
    SCORE_COLUMNS = tuple(f"{h}_score" for h in HEAD_NAMES)
    #: Output columns an input field cannot take: an input field of that name goes to ``extra``.
    RESERVED = frozenset((*HEAD_NAMES, *SCORE_COLUMNS, "extra"))

    def __init__(self, out: IO[str], columns: list[str] | None = None, delimiter: str = ",",
                 bom: bool = False, excel_sep: bool = False, rows_above: list[list[str]] | None = None,
                 writer: Any = None, input_columns: list[str] | None = None):
        #: what writes the rows: a CSV writer on ``out``, or a sheet's (:class:`~commentnlp.spreadsheets.SheetWriter`)
        self.writer = writer if writer is not None else csv.writer(out, delimiter=delimiter)
        self.columns = columns
        #: written before the header row, as the input had them: a byte-order mark, Excel's ``sep=;`` line
        self.preamble = ("\ufeff" if bom else "") + (f"sep={delimiter}\r\n" if excel_sep else "")
        #: rows the input had above its header (a title), written back there; filled as the input is read
        self.rows_above = rows_above if rows_above is not None else []
        self._out = out
        self._flat = set(columns or ()) - self.RESERVED  # record fields written to their own column
        #: the first chunk's records, held until its end: the header holds the fields of all of them
        self._first: list[dict[str, Any]] = []
        #: the input's header, filled as it is read: the output's when no record comes (a day without comments)
        self.input_columns = input_columns if input_columns is not None else []
        #: cells of a CSV (not a sheet's: text there) that Excel opens as a formula (:func:`opens_as_formula`)
        self.formulas = 0
        self._count_formulas = writer is None

    def header_for(self, first: dict[str, Any]) -> list[str]:
        inputs = [k for k in first if k not in OUTPUT_FIELDS and k not in self.RESERVED]
        return inputs + list(self.LABEL_COLUMNS) + list(self.SCORE_COLUMNS) + ["error", "extra"]

    def write(self, record: dict[str, Any]) -> None:
        if self.columns is None:
            self._first.append(record)
        else:
            self._row(record)

    def flush(self) -> None:
        """Write the first chunk's records under a header of all their fields, in the order they
        first appear (at a checkpoint, and at the end): a field that the first record lacks (a reply's
        ``parent_id``) gets its column, and a bad first line does not make the header ``raw``."""
        if self.columns is not None or not (self._first or self.input_columns):
            return
        readable = [r for r in self._first if not r.keys() <= {"raw", "error"}] or self._first or [self.input_columns]
        self.columns = self.header_for(dict.fromkeys(k for r in readable for k in r))
        self._flat = set(self.columns) - self.RESERVED
        self._out.write(self.preamble)
        self.writer.writerows([_cell(c) for c in row] for row in self.rows_above)
        self.writer.writerow([_cell(c) for c in self.columns])
        first, self._first = self._first, []
        for record in first:
            self._row(record)

    def _row(self, record: dict[str, Any]) -> None:
        flat: dict[str, Any] = {}
        extra = {}
        for k, v in record.items():
            if k in ("labels", "scores"):
                continue
            if k in self._flat:
                flat[k] = v
            else:
                extra[k] = v
        for head, label in (record.get("labels") or {}).items():
            flat[head] = "true" if label is True else "false" if label is False else label
            scores = (record.get("scores") or {}).get(head, {})  # unsure: the top score, below the head's threshold
            flat[f"{head}_score"] = scores.get(flat[head], "") if flat[head] != UNSURE else max(scores.values(), default="")
        if extra:
            flat["extra"] = _json_text(extra)
        row = [_cell(flat.get(c, "")) for c in self.columns]
        if self._count_formulas:
            self.formulas += sum(opens_as_formula(v) for v in row)
        self.writer.writerow(row)


#: A CSV cell that Excel reads as a formula starts so (OWASP's "CSV injection"); a number such as -5 does not
_FORMULA_START = re.compile(r"[=+\-@\t\r]")
_SIGNED_NUMBER = re.compile(r"[+-]?[0-9][0-9 .,]*%?")


def opens_as_formula(cell: Any) -> bool:
    """Whether Excel, opening a CSV, would run this cell as a formula: text starting with ``=``, ``+``,
    ``-``, ``@``, a tab or a CR (``=HYPERLINK("http://evil", "click")``, ``@john`` too), but not a signed number."""
    return isinstance(cell, str) and len(cell) > 1 and _FORMULA_START.match(cell) is not None \
        and _SIGNED_NUMBER.fullmatch(cell) is None


def formula_note(cells: int) -> str:
    """The summary's warning about cells that Excel runs as formulas."""
    return (f"{plural(cells, 'cell')} of the CSV start with =, +, -, @ or a tab, which Excel runs as a formula when it "
            "opens a CSV (a comment such as =HYPERLINK(...) can act in the spreadsheet, and '@name ...' shows as an "
            "error): open it in Excel with Data > From Text/CSV, or label into .xlsx, where every cell is text")


#: the columns a CSV that ``label`` wrote always has
_OUR_CSV_COLUMNS = frozenset((*_CsvSink.LABEL_COLUMNS, *_CsvSink.SCORE_COLUMNS, "error", "extra"))


def record_of_csv_row(row: dict[str, str]) -> dict[str, Any]:
    """A row of the CSV that ``label`` writes as the record its JSONL output holds: the input
    fields (``extra`` merged back), ``labels``, ``scores`` (the chosen label's), ``error``."""
    record: dict[str, Any] = {k: v for k, v in row.items() if k not in _CsvSink.RESERVED and k != "error"}
    if row.get("extra"):
        try:
            extra = json.loads(row["extra"])
        except json.JSONDecodeError:
            extra = None
        if isinstance(extra, dict):
            record.update(extra)
    if row.get("error"):
        record["error"] = row["error"]
    if not record.get("action"):  # a row in error has an empty action cell
        record.pop("action", None)
    labels = {h: row[h] for h in HEAD_NAMES if row.get(h)}
    if labels:
        record["labels"] = labels
        scores = {}
        for head, label in labels.items():
            try:
                # a comma for a decimal mark: Excel re-saved it where that is the custom ("0,9214")
                scores[head] = {label: float((row.get(f"{head}_score") or "nan").replace(",", "."))}
            except ValueError:
                pass
        record["scores"] = scores
    return record


def record_of_spark_row(record: dict[str, Any]) -> dict[str, Any]:
    """A JSON record as ``label`` writes it, as :func:`record_of_csv_row` makes a CSV row: one that ``label
    --engine spark`` wrote (its labels as top-level columns, its scores a JSON string, its error null) too; any
    other record as it is."""
    if "labels" in record or "action" not in record or not all(h in record for h in HEAD_NAMES):
        return record
    out = {k: v for k, v in record.items() if k not in HEAD_NAMES}
    if out.get("error") is None:
        out.pop("error", None)
        out["labels"] = {h: record[h] for h in HEAD_NAMES if record[h] is not None}
        if isinstance(out.get("scores"), str):
            try:
                out["scores"] = json.loads(out["scores"])
            except ValueError:
                del out["scores"]
    return out


def written_by_label(columns: Iterable[str]) -> bool:
    """Whether CSV columns are those ``label`` writes (labels, top scores, error and extra)."""
    return _OUR_CSV_COLUMNS <= set(columns)


def _csv_item(item: Item) -> Item:
    """A row of a CSV that ``label`` wrote, labelled again, as the record its JSONL output holds
    (input fields from ``extra`` back in place); other rows as they are."""
    if item.error is None and written_by_label(item.record):
        return Item(item.line, record_of_csv_row(item.record), None, item.where)
    return item


def _cell(value: Any) -> Any:
    """A CSV cell for a JSON value: objects and arrays as JSON, booleans as ``true``/``false``
    (as JSON and the ``troll`` column write them, not Python's ``True``), null as empty."""
    if isinstance(value, (dict, list)):
        return _json_text(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and not value.isascii():
        return _LONE_SURROGATE.sub("\ufffd", value)  # a CSV cell has no escapes: U+FFFD, as for bad bytes read
    return "" if value is None else value


class _JsonlSink:
    def __init__(self, out: IO[str]):
        self.out = out

    def write(self, record: dict[str, Any]) -> None:
        self.out.write(jsonl_line(record))

    def flush(self) -> None:
        pass


def _open_text_out(path: Path, gz: bool, append: bool, part: bool = False) -> IO[str]:
    """A text stream writing ``path`` (gzipped); a ``part`` file is never opened through a link."""
    mode = "a" if append else "w"
    return _text_out(_open_scratch(path, append) if part else open(path, mode + "b"), gz, mode)


def _open_scratch(path: Path, append: bool = False) -> IO[bytes]:
    """A file of this run's own (a part file, a checkpoint) opened to write, never through a link: one
    planted at its name (a shared folder) was written through, into the file it names."""
    _no_link_at(path)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC) | getattr(os, "O_NOFOLLOW", 0)
    return os.fdopen(os.open(path, flags, 0o666), "ab" if append else "wb")


def _no_link_at(path: Path) -> None:
    """Refuse a file of this run's own that is a link."""
    if path.is_symlink():
        raise OSError(f"{path} is a link, not a file label writes: delete it and run again")


def _text_out(raw: IO[bytes], gz: bool, mode: str) -> IO[str]:
    if gz:  # no time or name in the gzip header (the name was the .part file's): the same labels give the same bytes
        compressed = gzip.GzipFile(filename="", mode=mode + "b", fileobj=raw, mtime=0)
        compressed.myfileobj = raw  # closed with it, as a file GzipFile opens itself
        return io.TextIOWrapper(compressed, encoding="utf-8", newline="")
    return io.TextIOWrapper(raw, encoding="utf-8", newline="")


def _read_checkpoint(part: Path) -> dict[str, Any] | None:
    ck = part.with_name(part.name + ".json")
    if not (part.is_file() and ck.is_file()):
        return None
    try:
        data = json.loads(ck.read_text(encoding="utf-8"))
        return data if isinstance(data.get("records"), int) and isinstance(data.get("chars"), int) else None
    except (OSError, ValueError):
        return None


def _write_checkpoint(part: Path, records: int, chars: int, columns: list[str] | None,
                      run: dict[str, Any] | None = None, counts: dict[str, Any] | None = None) -> None:
    ck = part.with_name(part.name + ".json")
    tmp = ck.with_name(ck.name + ".tmp")
    with _open_scratch(tmp) as f:
        f.write(json.dumps({"records": records, "chars": chars, "columns": columns, "run": run, "counts": counts}).encode())
    os.replace(tmp, ck)


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=list).encode()).hexdigest()[:20]


def _run_identity(input_path: str | Path, classifier, text_field: str | None, abstain: bool = False,
                  encoding: str | None = None, sheet: str | None = None) -> dict[str, Any]:
    """What an interrupted run must share with its ``--resume``, so that one output never mixes two
    kinds of answers: the input (its size and the hash of its first MiB; stdin cannot be checked),
    the model's weights, its decision settings (calibration, thresholds, thread offsets: config.json),
    the backend, the playbook, the text field, whether it abstains, the input's encoding and sheet."""
    from .serialization import model_fingerprint

    model_dir = getattr(classifier, "model_dir", None)
    config, playbook = getattr(classifier, "config", None), getattr(classifier, "playbook", None)
    run: dict[str, Any] = {
        "model": model_fingerprint(model_dir) if model_dir else None, "text_field": text_field,
        "decisions": _digest(config.to_dict()) if config is not None else None,
        "backend": getattr(classifier, "backend_name", None),
        "playbook": _digest([[[r.id, r.when, r.action] for r in playbook.rules], playbook.links]) if playbook else None,
        "abstain": abstain, "encoding": encoding, "sheet": sheet,
    }
    if str(input_path) != "-":
        with open(input_path, "rb") as f:
            run["input"] = [os.fstat(f.fileno()).st_size, hashlib.sha256(f.read(1 << 20)).hexdigest()[:20]]
    return run


def _check_resumable(checkpoint: dict[str, Any], run: dict[str, Any], part: Path) -> None:
    """A ValueError unless ``checkpoint`` was written by a run like ``run`` (old checkpoints pass)."""
    was = checkpoint.get("run")
    if not isinstance(was, dict):
        return
    what = {"input": "another input file", "model": "another model", "text_field": "another --text-field",
            "decisions": "other decision settings of the model (config.json: thresholds, calibration)",
            "backend": "another --backend", "playbook": "another --playbook", "abstain": "another --abstain",
            "encoding": "another --encoding", "sheet": "another --sheet"}
    # a key an older checkpoint lacks is not checked
    changed = [why for key, why in what.items() if key in was and was[key] != run.get(key)]
    if changed:
        raise ValueError(f"cannot resume: the interrupted run ({part}) labelled with {' and '.join(changed)}; "
                         "run without --resume to start over")


def _restore_part(part: Path, gz: bool, chars: int) -> None:
    """Cut the partial output back to the last checkpoint (``chars`` characters of text)."""
    fresh = part.with_name(part.name + ".restore")
    opener = (lambda p, m: gzip.open(p, m + "b")) if gz else (lambda p, m: open(p, m + "b"))
    with io.TextIOWrapper(opener(part, "r"), encoding="utf-8", newline="") as src, \
            _open_text_out(fresh, gz, append=False, part=True) as dst:
        remaining = chars
        while remaining > 0:
            try:
                block = src.read(min(remaining, 1 << 20))
            except EOFError:  # a compressed stream cut mid-write: what was flushed is intact
                break
            if not block:
                break
            dst.write(block)
            remaining -= len(block)
    if remaining > 0:
        raise ValueError(f"cannot resume: {part} is shorter than its checkpoint says")
    os.replace(fresh, part)


class InputError(ValueError):
    """The input export cannot be read (unreadable file, corrupt or truncated gzip)."""


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


def distinct_files(paths: Iterable[str]) -> list[str]:
    """``paths`` without a file named again (``a.jsonl``, ``./a.jsonl``), in their order."""
    seen: dict[str, str] = {}
    for path in paths:
        seen.setdefault(path if path == "-" else os.path.realpath(path), path)
    return list(seen.values())


def is_device_or_pipe(path: str | Path) -> bool:
    """Whether ``path`` names a device or a named pipe (``/dev/null``, a FIFO): an output written
    straight into, never replaced by a finished file (which, run as root, replaced /dev/null)."""
    if str(path).startswith(("/dev/", "/proc/")) and os.path.islink(path):  # /dev/stdout: never replaced, whatever
        return True  # it points at (a regular file under /dev/shm is a file)
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def check_not_an_input(output: str | Path, inputs: Iterable[str | Path], writes: str) -> None:
    """A ValueError when the output file ``output`` is one of ``inputs`` (it would be replaced)."""
    if str(output) == "-" or not os.path.isfile(output):
        return
    for source in inputs:
        if str(source) != "-" and os.path.isfile(source) and os.path.samefile(source, output):
            raise ValueError(f"the output {output} is the input {source}: {writes} would replace it; name another output")


def check_input_file(input_path: str | Path) -> None:
    """Raise a clear error unless ``input_path`` is ``"-"`` (stdin) or an existing file."""
    if str(input_path) == "-" or Path(input_path).is_file():
        return
    if Path(input_path).is_dir():
        raise InputError(f"input is a directory, not an export file: {input_path}")
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
    from .spreadsheets import read_xlsx_as_csv

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
        if not gz and stream.peek(2)[:2] == b"\x1f\x8b":  # type: ignore[attr-defined]
            raw.close()
            gz = True
            raw, stream = open_input(input_path, gz, fmt)
        fmt = format_from_head(stream.peek(1 << 12)[: 1 << 12])  # type: ignore[attr-defined]
        if notes is not None:
            notes.append(f"read as {'JSON lines' if fmt == 'jsonl' else 'CSV'}, as its first bytes show "
                         "(its name does not say; --format names it)")
    return fmt, gz, raw, stream


def open_stdin(given: str = "auto") -> tuple[str, bool, Any, IO[bytes]]:
    """``(format, gzipped, raw, stream)`` of stdin: the format ``given``, or with ``"auto"`` the one
    its first bytes show, as stdin has no name to tell: gzip by its magic number (either way); JSON
    lines, or one JSON array, when the first character is ``{`` or ``[``; else CSV. Closing
    ``raw`` leaves stdin open, for the caller."""
    peekable = _peekable(sys.stdin.buffer)
    head = peekable.peek(1 << 12)[: 1 << 12]  # type: ignore[attr-defined]
    gz = head[:2] == b"\x1f\x8b"
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


def check_encoding(encoding: str | None) -> None:
    """A ValueError unless ``encoding`` is None or the name of a text encoding Python knows."""
    if encoding is None:
        return
    try:
        "".encode(encoding)
    except LookupError:
        raise ValueError(f"unknown encoding {encoding!r}: give one Python knows, e.g. cp1252 (Excel's on "
                         "Windows), latin-1 or utf-16") from None


def as_utf8(stream: IO[bytes], encoding: str | None, keep_utf16: bool = False) -> tuple[IO[bytes], bool]:
    """``(stream read as UTF-8, whether it had to be transcoded)``: from ``encoding`` when given, else
    from UTF-16 or UTF-32 when the (peekable) stream starts with its byte-order mark, unless
    ``keep_utf16`` (the CSV reader decodes UTF-16 itself); a UTF-8 stream is returned as it is. An
    ``encoding`` that the stream's byte-order mark contradicts is an :class:`InputError`."""
    mark = _mark_of(stream.peek(4)[:4])  # type: ignore[attr-defined]
    marked = _READS_THE_MARK[mark][0] if mark is not None else None
    if encoding is None:
        if marked is None or (keep_utf16 and marked == "utf-16"):
            return stream, False
        encoding = marked
    else:
        given = codecs.lookup(encoding).name
        if mark is not None and given not in _READS_THE_MARK[mark]:
            raise InputError(f"the input starts with a {marked.upper()} byte-order mark, so it is {marked.upper()}, not "
                             f"{encoding}: leave --encoding out ({marked.upper()} with its mark is read without it)")
        if given == "utf-8":
            return stream, False
    chunks = _utf8_lines(stream, encoding) if _one_byte_a_character(encoding) else _utf8_chunks(stream, encoding)
    return _buffered(chunks), True


#: UTF-16 and UTF-32 byte-order marks, and the codec names that read each (a UTF-32 LE mark starts with UTF-16 LE's)
_READS_THE_MARK = {codecs.BOM_UTF32_LE: ("utf-32", "utf-32-le"), codecs.BOM_UTF32_BE: ("utf-32", "utf-32-be"),
                   codecs.BOM_UTF16_LE: ("utf-16", "utf-16-le"), codecs.BOM_UTF16_BE: ("utf-16", "utf-16-be")}


def _mark_of(head: bytes) -> bytes | None:
    """The UTF-16 or UTF-32 byte-order mark ``head`` starts with, or None."""
    return next((mark for mark in _READS_THE_MARK if head.startswith(mark)), None)


def bom_encoding(head: bytes) -> str | None:
    """``"utf-32"`` or ``"utf-16"`` when ``head`` starts with that byte-order mark, else None."""
    mark = _mark_of(head)
    return _READS_THE_MARK[mark][0] if mark is not None else None


@functools.lru_cache(maxsize=32)
def _one_byte_a_character(encoding: str) -> bool:
    """Whether an encoding writes ASCII as ASCII and reads every byte as one character, whatever the bytes
    around it (cp1252, latin-1, koi8-r...; not GBK, Shift JIS, ISO-2022-JP, UTF-16): only in such an encoding
    is a line that reads as UTF-8 taken for UTF-8 (GBK's 谢谢 reads as UTF-8's лл)."""
    probe = bytes(range(256)) + b"\x1b$B~{"
    try:
        return "\n a".encode(encoding) == b"\n a" and len(probe.decode(encoding, "surrogateescape")) == len(probe)
    except (UnicodeError, LookupError):
        return False


def _utf8_lines(inner: IO[bytes], encoding: str) -> Iterator[bytes]:
    """A byte stream in a one-byte-a-character encoding (:func:`_one_byte_a_character`), line by line, as
    UTF-8; a line that already is UTF-8 (a file joined from two exports, one re-saved by Excel) is kept as
    it is, and a byte the encoding has no character for is kept too, so that its line is reported as not
    UTF-8 rather than changed."""
    for line in inner:
        if line.isascii():
            yield line
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            yield line.decode(encoding, "surrogateescape").encode("utf-8", "surrogateescape")
        else:
            yield line


def _utf8_chunks(inner: IO[bytes], encoding: str) -> Iterator[bytes]:
    """A byte stream in another encoding (UTF-16, GBK...), chunk by chunk, as UTF-8; what it cannot decode
    (a lone UTF-16 surrogate, a file cut mid-character) becomes U+FFFD."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    while chunk := inner.read(1 << 16):
        yield decoder.decode(chunk).encode("utf-8", "surrogatepass")
    yield decoder.decode(b"", final=True).encode("utf-8", "surrogatepass")


def _buffered(chunks: Iterable[bytes]) -> IO[bytes]:
    """Byte chunks as a buffered, peekable stream."""
    return io.BufferedReader(ChunkStream(chunks), buffer_size=1 << 16)  # type: ignore[arg-type]


class ChunkStream(io.RawIOBase):
    """Byte chunks from an iterator as a readable stream (to wrap in ``io.BufferedReader``):
    a transcoded input (:func:`as_utf8`), a workbook's sheet as CSV lines; ``on_close`` is called
    when it is closed."""

    def __init__(self, chunks: Iterable[bytes], on_close: Callable[[], None] | None = None):
        self.chunks, self.on_close, self.pending = iter(chunks), on_close, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        parts, size = [self.pending], len(self.pending)
        while size < len(buffer):  # joined once: many small chunks (a sheet's lines) fill one read
            chunk = next(self.chunks, None)
            if chunk is None:
                break
            parts.append(chunk)
            size += len(chunk)
        data = b"".join(parts)
        n = min(len(buffer), len(data))
        buffer[:n], self.pending = data[:n], data[n:]
        return n

    def close(self) -> None:
        if not self.closed and self.on_close is not None:
            self.on_close()
        super().close()


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


def _not_utf16_without_its_mark(head: bytes, name: str) -> None:
    """An :class:`InputError` for text that is UTF-16 with no byte-order mark (every other byte a NUL, as
    some tools write it): read as UTF-8 it came back with NULs in every cell, with no word."""
    if len(head) < 8 or bom_encoding(head):
        return
    for zeros, endian in ((head[1::2], "le"), (head[0::2], "be")):
        if zeros.count(0) > 0.9 * len(zeros) and head.count(0) < 0.6 * len(head):
            raise InputError(f"cannot read {name}: it is UTF-16 without a byte-order mark (a NUL in every other "
                             f"byte); name it: --encoding utf-16-{endian}")


def lines_ending_in_cr(stream: IO[bytes]) -> tuple[IO[bytes], bool]:
    """``(stream, whether its lines end in a CR alone)``: a peekable stream whose first 64 KiB hold a
    carriage return and no line feed (an old Mac's text, Excel's "CSV (Macintosh)") read with line
    feeds for them, so that its lines are lines (a CR LF further on stays one line's end); else the stream
    as it is."""
    head = stream.peek(1 << 16)[: 1 << 16]  # type: ignore[attr-defined]
    if b"\r" not in head or b"\n" in head:
        return stream, False
    return _buffered(_cr_as_lf(stream)), True


def _cr_as_lf(stream: IO[bytes]) -> Iterator[bytes]:
    """A stream's bytes with each line end, CR LF or a CR alone, as an LF (a CR that ends a chunk waits for
    the next one's first byte)."""
    held = b""
    while chunk := stream.read(1 << 16):
        chunk, held = held + chunk, b""
        if chunk.endswith(b"\r"):
            chunk, held = chunk[:-1], b"\r"
        yield chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if held:
        yield b"\n"


def is_tab_separated_table(stream: IO[bytes], text_field: str | None) -> bool:
    """Whether a plain-text input is a table after all: its first line a tab-separated header that
    names the text field (Excel saves its "Unicode Text" tables as ``.txt``)."""
    head = stream.peek(1 << 16)[: 1 << 16]  # type: ignore[attr-defined]
    cells = head.split(b"\n", 1)[0].decode("utf-8-sig", "replace").rstrip("\r").split("\t")
    return len(cells) > 1 and is_header(cells, text_field)  # label's own header too (its text field named otherwise)


class _Counting:
    """A text sink that counts the characters written through it."""

    def __init__(self, out: IO[str], start: int = 0):
        self.out = out
        self.chars = start

    def write(self, s: str) -> int:
        self.chars += len(s)
        return self.out.write(s)


def _output_of(input_path: str | Path, output_path: str | Path | None, output_format: str | None, in_fmt: str,
               in_gz: bool) -> tuple[str | Path, str, bool]:
    """``(output path, format, gzipped)`` of a labelling run: the path given (``"-"``: stdout), the
    default name in the directory given (an existing one, or a name ending in ``/``, made when written),
    or the default beside the input; a ValueError when it cannot be written."""
    from_stdin = str(input_path) == "-"
    written_as = "jsonl" if in_fmt == "txt" else in_fmt  # plain text in, JSON lines out
    into = Path(output_path) if output_path is not None and names_a_folder(output_path) else None
    if output_path is None or into is not None:
        default_format = output_format or (written_as + (".gz" if in_gz else ""))
        output_path = ("-" if into is None else into / f"labeled.{default_format}") if from_stdin else \
            default_output_path(input_path if into is None else into / Path(input_path).name, default_format)
    to_stdout = str(output_path) == "-"
    on_stdout = "csv" if written_as == "xlsx" else written_as  # a workbook's rows, as CSV: stdout is a stream
    if output_format is None and (to_stdout or not names_a_format(output_path)):  # -o out, -o /dev/stdout
        output_format = on_stdout if to_stdout else written_as + (".gz" if str(output_path).lower().endswith(".gz") else "")
    out_fmt, out_gz = detect_format(None if to_stdout else output_path, output_format or "auto")
    if out_fmt not in FORMATS:
        raise ValueError(f"label writes JSONL, CSV or XLSX, not {out_fmt}: name the output .jsonl, .csv or .xlsx")
    if to_stdout and out_gz:
        raise ValueError("gzip output to stdout is not supported; pipe through gzip instead")
    if to_stdout and out_fmt == "xlsx":
        raise ValueError("an Excel workbook is not written to stdout: name the output file, e.g. -o labeled.xlsx")
    return output_path, out_fmt, out_gz


def label_file(
    input_path: str | Path,
    output_path: str | Path | None,
    classifier,
    *,
    text_field: str | None = None,
    batch_size: int | None = None,
    input_format: str = "auto",
    output_format: str | None = None,
    resume: bool = False,
    progress: Callable[[int, int | None], None] | None = None,
    workers: int | None = None,
    abstain: bool = False,
    encoding: str | None = None,
    sheet: str | None = None,
) -> LabelSummary:
    """Label an export (``"-"`` = stdin) into ``output_path`` (``"-"`` = stdout; a directory: the
    default name in it; default: beside the input, ``export.labeled.jsonl``).

    ``input_format``/``output_format`` are ``jsonl``, ``csv`` (``.gz`` for gzip) or ``xlsx``, or taken from
    the file names; the output keeps the input's format by default. With ``resume=True`` a
    run that was interrupted continues where its last checkpoint left off.
    ``progress(done, total)`` is called after each chunk.
    ``workers`` processes parse, normalise, tokenise and format while this one runs the model
    (:mod:`commentnlp.parallel`); 0 does everything here. The default, ``None``, is 0 on the
    CPU and up to 16 when the model runs on a GPU. The output is the same either way. Workers are
    spawned, so a script calling this with workers needs the usual ``if __name__ == "__main__":``.
    ``abstain``: a head whose top score is below the model's threshold is labelled ``"unsure"``.
    ``encoding``: the input's, when it is not UTF-8 (e.g. ``cp1252``, Excel's on Windows); by default
    UTF-8, or UTF-16 when the input starts with its byte-order mark. A CSV read in another encoding
    is written as UTF-8 with a byte-order mark (which Excel reads as UTF-8). An Excel workbook
    (``.xlsx``: its first sheet with a header, or the one ``sheet`` names) is labelled into a workbook
    by default; any input is, when the output is named ``.xlsx``.

    A missing input raises FileNotFoundError; an unreadable one (a directory, a corrupt or truncated
    gzip) :class:`InputError`, before any writing.
    """
    from .parallel import auto_workers, available_cores, label_chunks
    from .spreadsheets import SheetWriter

    workers = auto_workers(classifier) if workers is None else workers
    if workers < 0:
        raise ValueError(f"workers must be >= 0, not {workers}")
    if workers > available_cores():
        warn(f"more workers ({workers}) than CPU cores ({available_cores()}): each worker is a process with "
             "its own tokenizer (tens of MB), and more of them than cores only add memory", RuntimeWarning)
    check_encoding(encoding)
    t0 = time.time()
    summary = LabelSummary()
    from_stdin = str(input_path) == "-"
    in_fmt, in_gz, raw, stream = open_export(input_path, input_format, summary.notes)
    try:
        from_xlsx = in_fmt == "xlsx"
        if sheet is not None and not from_xlsx:
            raise ValueError(f"--sheet names a sheet of an Excel workbook (.xlsx); this input is {in_fmt}")
        if encoding is not None and from_xlsx:
            raise ValueError("--encoding names a text file's encoding; a workbook (.xlsx) holds its text as Unicode")
        stream, read_as, notes, transcoded = readable(stream, in_fmt, "stdin" if from_stdin else str(input_path),
                                                      encoding=encoding, sheet=sheet, text_field=text_field,
                                                      find_table=input_format == "auto")
        summary.notes.extend(notes)
        output_path, out_fmt, out_gz = _output_of(input_path, output_path, output_format,
                                                  "xlsx" if from_xlsx else read_as, in_gz)
        check_not_an_input(output_path, [input_path], "the labelled export")
        direct = is_device_or_pipe(output_path)  # /dev/null, a FIFO: written into, no .part file
        if direct and resume:
            raise ValueError(f"--resume continues an output file; {output_path} is a device or a pipe")
        in_fmt = read_as
        if out_fmt == "xlsx" and resume:
            raise ValueError("--resume continues a JSONL or CSV output; an .xlsx is written whole at the end")
        sheet_out = SheetWriter() if out_fmt == "xlsx" else None
        to_stdout = str(output_path) == "-"
        summary.output = "-" if to_stdout else str(output_path)

        total = None if from_stdin or from_xlsx or progress is None else _count_lines(Path(input_path), in_gz)
        bom = excel_sep = False
        preamble: list[list[str]] = []  # rows of a CSV input above its header
        input_header: list[str] = []  # a CSV input's, written as the output's even when no row follows row
        if in_fmt == "txt":
            delimiter, reader = ",", read_text_lines  # type: ignore[assignment]
        elif in_fmt == "csv":
            csv_encoding, delimiter, bom, excel_sep = _sniff_csv(stream, text_field)  # a CSV output keeps them, as the input had them
            bom = bom or transcoded  # Excel reads a CSV as UTF-8 only with one

            def on_preamble(rows: list[list[str]]) -> None:  # a title above the header: kept in a CSV output
                preamble.extend(rows)
                first = next((" ".join(r) for r in rows if any(c.strip() for c in r)), "")
                are = "are" if len(rows) > 1 else "is"
                summary.notes.append(f"the header is row {len(rows) + 1}: the {plural(len(rows), 'row')} above it "
                                     f"({first[:40]!r}{', ...' if len(rows) > 1 else ''}) "
                                     + (f"{are} written back above it" if out_fmt in ("csv", "xlsx") else f"{are} not written"))

            def reader(stream: IO[bytes], on_blank: Callable[[int], None]) -> Iterator[Item]:
                return map(_csv_item, read_csv(stream, on_blank, dialect=(csv_encoding, delimiter),
                                               on_preamble=on_preamble, text_field=text_field,
                                               on_header=input_header.extend))
        else:  # with workers, JSONL lines are parsed there: this process only reads, runs the model and writes
            delimiter = ","
            reader = jsonl_lines if workers else read_jsonl  # type: ignore[assignment]
            documents, stream = json_documents(stream, text_field, encoding)  # an array, a pretty-printed record, API responses
            if documents is not None:
                items, notes = documents
                summary.notes.extend(notes)
                reader = lambda _stream, on_blank: iter(items)  # noqa: E731
                total = len(items) if progress else None  # records, not the lines the file has
        # the input's separator, or a tab for a .tsv output (a name the reader above must not see: it reads the input)
        out_delimiter = "\t" if (not to_stdout and str(output_path).lower().removesuffix(".gz").endswith(".tsv")) \
            or names_tsv(output_format) else delimiter

        def _count_blank(_line: int) -> None:
            summary.blank_lines += 1

        def run(text_out: IO[str], skip: int, columns: list[str] | None, on_chunk) -> None:
            counter = _Counting(text_out)
            sink = (_CsvSink(counter, columns, delimiter=out_delimiter, bom=bom, excel_sep=excel_sep, rows_above=preamble,
                             writer=sheet_out, input_columns=input_header) if out_fmt in ("csv", "xlsx")
                    else _JsonlSink(counter))
            items = reader(stream, on_blank=_count_blank)
            for _ in range(skip):
                if next(items, None) is None:
                    break
            done = skip
            if workers:
                chunks = label_chunks(items, classifier, workers, text_field=text_field, batch_size=batch_size,
                                      summary=summary, chunk=CHUNK, jsonl=out_fmt == "jsonl", abstain=abstain)
            else:
                chunks = ((len(records), records) for records in labelled_chunks(
                    items, classifier, text_field=text_field, batch_size=batch_size, summary=summary, chunk=CHUNK,
                    abstain=abstain))
            for n, output in chunks:
                if isinstance(output, str):
                    counter.write(output)
                else:
                    for record in output:
                        sink.write(record)
                done += n
                sink.flush()  # a checkpoint counts only what is written
                on_chunk(done, counter.chars, getattr(sink, "columns", None))
                if progress:
                    progress(done, total)
            sink.flush()
            on_chunk(done, counter.chars, getattr(sink, "columns", None))
            if progress:
                progress(done, total)
            if getattr(sink, "formulas", 0):
                summary.notes.append(formula_note(sink.formulas))

        if to_stdout:
            run(sys.stdout, 0, None, lambda *a: sys.stdout.flush())
            sys.stdout.flush()
        elif sheet_out is not None:  # a workbook is written whole, at the end: no checkpoints
            out = Path(output_path)
            out.parent.mkdir(parents=True, exist_ok=True)
            part = out.with_name(f".{out.name}.part")
            try:
                if not direct:
                    _no_link_at(part)
                run(io.StringIO(), 0, None, lambda *a: None)
            except BaseException:
                sheet_out.discard()
                raise
            sheet_out.save(out if direct else part)
            if not direct:
                os.replace(part, out)
            summary.notes.extend(sheet_out.notes())
        elif direct:
            with _open_text_out(Path(output_path), out_gz, append=False) as text_out:
                run(text_out, 0, None, lambda *a: text_out.flush())
        else:
            out = Path(output_path)
            out.parent.mkdir(parents=True, exist_ok=True)
            part = out.with_name(f".{out.name}.part")
            _no_link_at(part)  # before a resume reads it
            checkpoint = _read_checkpoint(part) if resume else None
            identity = _run_identity(input_path, classifier, text_field, abstain, encoding, sheet)
            skip, base_chars, columns = 0, 0, None
            if checkpoint:
                _check_resumable(checkpoint, identity, part)
                _restore_part(part, out_gz, checkpoint["chars"])
                skip, base_chars, columns = checkpoint["records"], checkpoint["chars"], checkpoint.get("columns")
                summary.resumed = skip
                with contextlib.suppress(KeyError, TypeError, ValueError):  # a checkpoint of an earlier version has none
                    summary.restore(checkpoint["counts"])
            with _open_text_out(part, out_gz, append=bool(checkpoint), part=True) as text_out:
                def on_chunk(done: int, chars: int, cols: list[str] | None) -> None:
                    text_out.flush()
                    _write_checkpoint(part, done, base_chars + chars, cols, identity, summary.counts())

                run(text_out, skip, columns, on_chunk)
            os.replace(part, out)  # atomic: the final name only ever holds a complete file
            part.with_name(part.name + ".json").unlink(missing_ok=True)
        if encoding is None and any(reason.startswith("invalid UTF-8") for reason in summary.reasons):
            summary.notes.append("the input is not all UTF-8: if it was saved in another encoding, name it with "
                                 "--encoding (e.g. cp1252, Excel's on Windows, or latin-1), and these records are read")
    finally:
        raw.close()
    summary.total += summary.resumed
    summary.seconds = time.time() - t0
    return summary
