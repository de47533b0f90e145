"""Reading JSON lines, JSON documents (arrays, pretty-printed records, API responses) and plain-text lines."""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from typing import IO, Any, Callable, Iterator

from .fields import _nested, reply_of, text_field_in, text_of
from .items import InputError, Item, _item
from .plurals import plural


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
