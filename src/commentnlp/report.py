"""Turn a labeled export into one self-contained HTML report a community manager can share.

:func:`build_report` streams ``commentnlp label`` output (constant memory: counters per
label and per day, and only the ``max_queue`` most confident rows of each work queue) and
writes a single HTML file: no scripts, no network, no external CSS or fonts; the charts are
CSS bars and inline SVG, and every string that comes from the data is HTML-escaped.

What it shows: totals (records, labeled, errors), the intent mix, audience vs community,
sentiment, the troll rate, a trend over time when records carry a timestamp (first present
of :data:`TIME_FIELDS`), and work queues: where-to-buy questions to answer, support
cases to ladder up, negative comments worth engaging (not trolls, not spam) and, from
``label --abstain``, the comments whose troll call or intent the model was unsure of.
"""

from __future__ import annotations

import calendar
import contextlib
import email.utils
import heapq
import math
import os
import re
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from html import escape
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from . import __version__
from .exports import (InputError, _nested, check_encoding, check_not_an_input, field_among, is_device_or_pipe,
                      open_export, plural, read_csv, read_jsonl, readable, record_of_csv_row, record_of_spark_row,
                      text_of)
from .schema import HEAD_NAMES, HEADS_BY_NAME, UNSURE, LabelError, parse_label

__all__ = ["TIME_FIELDS", "QUEUES", "build_report", "parse_time", "default_report_path"]

#: Field names tried, in order, for a record's timestamp, in any case and spelling (``Date``,
#: ``publishedAt``): ISO 8601, unix seconds or milliseconds, or a date as exports write it
#: (:func:`parse_time`).
TIME_FIELDS = ("created_time", "created_at", "create_time", "published_at", "comment_date", "comment_time", "timestamp",
               "date", "time")
#: Where YouTube's Data API nests a comment's time (a thread's, a reply's), as it nests its text
NESTED_TIME_FIELDS = ("snippet.topLevelComment.snippet.publishedAt", "snippet.publishedAt")

INTENTS: tuple[str, ...] = HEADS_BY_NAME["intent"].values
#: Values outside the schema ("unsure" from label --abstain, anything else -> "other").
EXTRA_VALUES = (UNSURE, "other")

#: Work queues: id -> (title, what it holds, head and label whose probability ranks the rows).
QUEUES: dict[str, tuple[str, str, str, str]] = {
    "where_to_buy": ("Where-to-buy questions to answer",
                     "Intent where_to_buy, trolls left out. Reply with every way to buy.",
                     "intent", "where_to_buy"),
    "support": ("Support cases to ladder up",
                "Intent support_request, trolls left out. Move each case to support and track it.",
                "intent", "support_request"),
    "negative": ("Negative but engageable",
                 "Sentiment negative, not a troll, not spam: real customers to win back.",
                 "sentiment", "negative"),
    # only with `label --abstain`, and shown only when it holds comments; least sure first
    "unsure": ("Comments to read yourself",
               "A troll call, or the intent of a comment that is not a troll, the model was unsure of "
               "(label --abstain): decide these yourself.",
               "troll or intent", UNSURE),
}

MAX_TEXT = 600  # characters of a comment kept in a queue row
MAX_REASONS = 50  # distinct error reasons kept (the rest are counted as "other")

NAMES = {
    "where_to_buy": "Where to buy", "product_question": "Product question",
    "support_request": "Support request", "feedback": "Feedback", "suggestion": "Suggestion",
    "social": "Social", "spam": "Spam", "audience": "Audience", "community": "Community",
    "negative": "Negative", "neutral": "Neutral", "positive": "Positive",
    "unsure": "Unsure", "other": "Other",
}
COLORS = {
    "where_to_buy": "#2563eb", "product_question": "#0891b2", "support_request": "#dc2626",
    "feedback": "#7c3aed", "suggestion": "#d97706", "social": "#16a34a", "spam": "#64748b",
    "audience": "#2563eb", "community": "#0d9488",
    "negative": "#dc2626", "neutral": "#94a3b8", "positive": "#16a34a",
    "unsure": "#cbd5e1", "other": "#e2e8f0", "troll": "#7f1d1d",
}
INTENT_HINTS = {
    "where_to_buy": "the golden question: reply with every way to buy",
    "product_question": "answer it",
    "support_request": "ladder up to support",
    "feedback": "thank or defuse",
    "suggestion": "log it for the product team",
    "social": "like it, let the community run",
    "spam": "hide or delete",
}


# --------------------------------------------------------------------------- parsing


#: Timestamps outside these years are placeholders or mistakes (0 or -1 for "unknown", a
#: 1970-01-01 default, a year typed wrong), not comments: they are left out of the trends instead
#: of stretching the time axis over decades.
PLAUSIBLE_YEARS = (1990, 2100)


def parse_time(value: Any) -> datetime | None:
    """A timestamp as an aware UTC datetime, or None (also for a time outside :data:`PLAUSIBLE_YEARS`):
    ISO 8601, unix seconds or milliseconds, or a date as exports and spreadsheets write it, with a
    time or not (taken as UTC): with a month's name (``Nov 3, 2026 10:00 AM``, ``3 November 2026``,
    Twitter's ``Tue Nov 03 10:00:00 +0000 2026``), ``2026/11/03``, ``03.11.2026`` (day first), or
    ``11/23/2026`` when its day is above 12 (a report reads the others, such as ``11/03/2026``,
    month first unless its export has dates with a day above 12 first)."""
    when = _parse_time(value)
    return when if isinstance(when, datetime) and PLAUSIBLE_YEARS[0] <= when.year < PLAUSIBLE_YEARS[1] else None


#: A date written with slashes whose day and month could be either (``03/11/2026``): its numbers,
#: in the order written, its year, and its time of day in seconds.
SlashDate = tuple[int, int, int, int]


def _parse_time(value: Any) -> datetime | SlashDate | None:
    """:func:`parse_time`, with no year check, and a :data:`SlashDate` for a date it cannot tell."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        s = value.strip()
        if re.fullmatch(r"-?\d+(\.\d+)?", s):
            value = float(s)
        else:
            return (s[:4].isdigit() and _parse_iso(s)) or _parse_written(s)
    if isinstance(value, (int, float)):
        seconds = float(value)
        if not math.isfinite(seconds):
            return None
        if abs(seconds) >= 1e11:  # milliseconds
            seconds /= 1000.0
        try:
            return datetime.fromtimestamp(seconds, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def _parse_iso(s: str) -> datetime | None:
    if not s or len(s) > 64:
        return None
    s = re.sub(r"[Zz]$", "+00:00", s)
    s = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", s)  # +0000 -> +00:00 (Facebook exports)
    s = re.sub(r"(\.\d{1,6})\d*(?=[+-]\d{2}:\d{2}$|$)", lambda m: m.group(1).ljust(7, "0"), s)
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        return None
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


_MONTHS = {name.lower(): i for i in range(1, 13)
           for name in (calendar.month_name[i], calendar.month_abbr[i], calendar.month_name[i][:4])}
_TIME = (r"(?:[ T](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?(?: ?(?P<half>[AaPp][Mm]))?"
         r"(?:(?: |GMT|UTC| GMT| UTC)(?P<tz>[+-]\d{2}):?(?P<tzm>\d{2}))?)?")  # an offset: -0500, GMT-0500 (JavaScript's),
# after a space or GMT/UTC, not a range's end (10:00-12:00)
#: e-mail's and RSS's dates (RFC 2822), read by ``email.utils``: only those (it reads others hours wrong)
_RFC2822 = re.compile(r"(?:[A-Za-z]{3},? )?\d{1,2} [A-Za-z]{3} (?:\d{2}|\d{4}) \d{2}:\d{2}(?::\d{2})? (?:[+-]\d{4}|[A-Z]{1,3})")
#: Dates as exports and spreadsheets write them (:func:`parse_time`), once commas, " at " and a
#: trailing UTC or GMT are dropped: with the month's name, year first with slashes, day first with
#: dots, and with slashes (``a/b/year``: which of a and b is the month may not tell)
_WRITTEN = [re.compile(pattern + _TIME) for pattern in (
    r"(?:[A-Za-z]+ )?(?P<mon>[A-Za-z]{3,9})\.? (?P<d>\d{1,2})(?:st|nd|rd|th)? (?P<y>\d{4})",
    r"(?:[A-Za-z]+ )?(?P<d>\d{1,2}) (?P<mon>[A-Za-z]{3,9})\.? (?P<y>\d{4})",
    r"(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})",
    r"(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})",
    r"(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>\d{4})")]
_SLASHES = _WRITTEN[-1]
_TWITTER = "%a %b %d %H:%M:%S %z %Y"  # Twitter's created_at: Tue Nov 03 10:00:00 +0000 2026


def _parse_written(s: str) -> datetime | SlashDate | None:
    """A date as an export writes it (:data:`_WRITTEN`, or Twitter's), else None; a
    :data:`SlashDate` when its numbers do not tell which is the month."""
    s = re.sub(r"\s*\([^()]{1,60}\)$", "", s)  # JavaScript's "GMT-0500 (Eastern Standard Time)": the zone's name
    if len(s) > 64 or not any(c.isdigit() for c in s[-4:] + s[:10]):
        return None
    written = re.sub(r"\s+", " ", s).strip()
    s = re.sub(r"\s*,\s*|\s+at\s+|\s+", " ", s).strip().removesuffix(" UTC").removesuffix(" GMT")
    match = next((m for m in (p.fullmatch(s) for p in _WRITTEN) if m), None)
    if match is None:
        with contextlib.suppress(ValueError):
            return datetime.strptime(s, _TWITTER).astimezone(timezone.utc)
        if _RFC2822.fullmatch(written):  # Tue, 03 Nov 2026 10:00:00 +0000
            with contextlib.suppress(TypeError, ValueError, IndexError):
                when = email.utils.parsedate_to_datetime(written)
                return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)
        return _parse_iso(s) if s[:4].isdigit() else None  # ISO with " UTC" after it (BigQuery's)
    g = match.groupdict()
    hour, minute, second = int(g["H"] or 0), int(g["M"] or 0), int(g["S"] or 0)
    if g["half"]:
        hour = hour % 12 + 12 * (g["half"].lower() == "pm") if 1 <= hour <= 12 else 24
    if hour >= 24 or minute >= 60 or second >= 60:
        return None
    year = int(g["y"])
    if g.get("a"):
        a, b = int(g["a"]), int(g["b"])
        if 1 <= a <= 12 and 1 <= b <= 12:  # the report decides from the others; the time in UTC (-0500: later)
            return (a, b, year, hour * 3600 + minute * 60 + second - _offset_seconds(g))
        month, day = (b, a) if a > 12 else (a, b)
    else:
        month = _MONTHS.get(g["mon"].lower(), 0) if g.get("mon") else int(g["m"])
        day = int(g["d"])
    try:
        when = datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
    except ValueError:
        return None
    return when - timedelta(seconds=_offset_seconds(g))  # 11:30 PM -0500 is 04:30 the next day in UTC


def _offset_seconds(g: dict[str, Any]) -> int:
    """The UTC offset a written date gives (``-0500``: -18,000), 0 when it gives none."""
    if not g.get("tz"):
        return 0
    return (-1 if g["tz"][0] == "-" else 1) * (int(g["tz"][1:]) * 3600 + int(g["tzm"]) * 60)


def _time_field(record: dict[str, Any]) -> tuple[str, Any] | None:
    """``(name, value)`` of the first of :data:`TIME_FIELDS` a record has with a value (by name, else
    in any case and spelling: ``Date``, ``publishedAt``; else YouTube's nested ``snippet...publishedAt``)."""
    for name in TIME_FIELDS:
        value = record.get(name)
        if value is not None and value != "":
            return name, value
    name = field_among(tuple(record), TIME_FIELDS)
    if name is not None and record[name] is not None and record[name] != "":
        return name, record[name]
    return next(((p, v) for p in NESTED_TIME_FIELDS for v in [_nested(record, p, cells=True)] if isinstance(v, str) and v),
                None)


def _value(head: str, value: Any) -> str | None:
    """A label value as a schema string, ``"unsure"``/``"other"`` when unknown, None when missing."""
    if value is None or value == UNSURE:
        return value
    try:
        return parse_label(head, value)
    except LabelError:
        return "other"


def _score(record: dict[str, Any], head: str, label: str) -> float | None:
    try:
        value = record["scores"][head][label]
    except (KeyError, TypeError, IndexError):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _top_score(record: dict[str, Any], head: str) -> float | None:
    """The highest of a head's scores in a labeled record (None when it has none)."""
    try:
        values = [_score(record, head, label) for label in record["scores"][head]]
    except (KeyError, TypeError):
        return None
    values = [v for v in values if v is not None]
    return max(values) if values else None


def _reason(error: Any) -> str:
    """``"line 3: not valid JSON (Expecting ...)"`` -> ``"not valid JSON"``."""
    text = re.sub(r"^line \d+:\s*", "", str(error)).split(" (")[0].strip()
    return text[:120] or "error"


def default_report_path(input_path: str | Path) -> Path:
    """``export.labeled.jsonl`` (or ``.csv``, ``.jsonl.gz``) -> ``export.labeled.html`` (beside the input)."""
    path = Path(input_path)
    return (path.with_suffix("") if path.suffix.lower() == ".gz" else path).with_suffix(".html")


# --------------------------------------------------------------------------- aggregation


@dataclass
class _Row:
    text: str
    action: str
    score: float | None
    meta: list[str]


@dataclass
class _Stats:
    """Everything the report needs, in constant memory (plus one small counter per day)."""

    max_queue: int
    records: int = 0
    labeled: int = 0
    errors: int = 0
    bad_lines: int = 0
    bad_line_numbers: list = field(default_factory=list)  # the first few, as "file:line" with several files
    unlabeled: int = 0
    untexted: int = 0  # labeled records with no comment text (a --text-field that is not theirs)
    dated: int = 0
    reasons: Counter = field(default_factory=Counter)
    heads: dict[str, Counter] = field(default_factory=lambda: {h: Counter() for h in HEAD_NAMES})
    days: dict[date, list[int]] = field(default_factory=dict)
    queue_sizes: Counter = field(default_factory=Counter)
    heaps: dict[str, list] = field(default_factory=lambda: {q: [] for q in QUEUES})
    seq: int = 0
    text_field: str | None = None
    #: the first time field whose value is not a timestamp read here, e.g. ``created_time 'yesterday'``
    undatable: str | None = None
    #: day rows of dates such as 03/11/2026, by (first number, second number, year, days its UTC day is
    #: after the written one: -1, 0 or 1), and how many
    #: dates showed which comes first, by a number above 12 (:meth:`resolve_slash_dates`)
    slash_days: dict[tuple[int, int, int, int], list[int]] = field(default_factory=dict)
    slash_order: Counter = field(default_factory=Counter)
    #: how dates with slashes were read, for the report to say; per file when several had them
    slash_note: str = ""
    slash_orders: dict[str, str] = field(default_factory=dict)

    def add_reason(self, reason: str) -> None:
        if reason in self.reasons or len(self.reasons) < MAX_REASONS:
            self.reasons[reason] += 1
        else:
            self.reasons["other"] += 1

    def add(self, record: dict[str, Any]) -> None:
        self.records += 1
        if record.get("error") is not None:
            self.errors += 1
            self.add_reason(_reason(record["error"]))
            return
        raw = record.get("labels")
        labels = {h: _value(h, raw.get(h)) for h in self.heads} if isinstance(raw, dict) else {}
        if not any(v is not None for v in labels.values()):
            self.unlabeled += 1
            return
        self.labeled += 1
        if text_of(record, self.text_field)[0] is None:
            self.untexted += 1
        for head, value in labels.items():
            if value is not None:
                self.heads[head][value] += 1
        field_name, stamp = _time_field(record) or (None, None)
        when = _parse_time(stamp) if field_name is not None else None
        if isinstance(when, tuple):  # 03/11/2026: which is the month is known once all are read
            a, b, year, seconds = when
            self.dated += 1
            self._add_day(self.slash_days, (a, b, year, seconds // 86400), labels)  # its UTC day: -1, 0 or +1
            when = str(stamp).strip()[:40]  # a queue row shows it as written (the order is known at the end)
        elif when is not None and PLAUSIBLE_YEARS[0] <= when.year < PLAUSIBLE_YEARS[1]:
            self.dated += 1
            self._add_day(self.days, when.date(), labels)
            slashes = _SLASHES.match(str(stamp).strip())
            if slashes:  # 23/11/2026 or 11/23/2026: how the export writes its dates
                self.slash_order["day first" if int(slashes.group(1)) > 12 else "month first"] += 1
        else:
            when = None
            if field_name is not None and self.undatable is None:  # a format the report does not read
                self.undatable = f"{field_name} {str(stamp)[:40]!r}"
        troll = labels.get("troll") == "true"
        intent, sentiment = labels.get("intent"), labels.get("sentiment")
        if intent == "where_to_buy" and not troll:
            self._enqueue("where_to_buy", record, when)
        if intent == "support_request" and not troll:
            self._enqueue("support", record, when)
        if sentiment == "negative" and labels.get("troll") == "false" and intent != "spam":
            self._enqueue("negative", record, when)
        if labels.get("troll") == UNSURE or (intent == UNSURE and labels.get("troll") == "false"):
            self._enqueue("unsure", record, when)

    def resolve_slash_dates(self, source: str = "") -> None:
        """Add the days of dates such as 03/11/2026 to :attr:`days`: month first, as US exports write
        them, unless more dates of the export (``source``, one file: each is read as it writes them)
        had a day above 12 first (23/11/2026) than second."""
        order, self.slash_order = self.slash_order, Counter()  # the next file's dates tell its own order
        if not self.slash_days:
            return
        day_first = order["day first"] > order["month first"]
        self.slash_orders[source] = "day first" if day_first else "month first"
        for (a, b, year, shift), row in self.slash_days.items():
            month, day = (b, a) if day_first else (a, b)
            if PLAUSIBLE_YEARS[0] <= year < PLAUSIBLE_YEARS[1]:
                acc = self.days.setdefault(date(year, month, day) + timedelta(days=shift), [0] * len(row))
                for i, v in enumerate(row):
                    acc[i] += v
            else:
                self.dated -= row[0]
        self.slash_days = {}
        n = order["day first" if day_first else "month first"]
        have = "has" if n == 1 else "have"
        if len(self.slash_orders) > 1:  # several files with such dates, each read in its own order
            self.slash_note = (" Dates such as 03/11/2026 are read in the order each file's other dates show: "
                               + ", ".join(f"{order} in {name}" for name, order in self.slash_orders.items()) + ".")
            return
        self.slash_note = (
            f" Dates such as 03/11/2026 are read day first: {plural(n, 'date')} of this export, such as 23/11/2026, "
            f"{have} a day above 12 first." if day_first else
            f" Dates such as 03/11/2026 are read month first: {plural(n, 'date')} of this export, such as 11/23/2026, "
            f"{have} a day above 12 second." if n else
            " Dates such as 03/11/2026 are read month first, as US exports write them: no date of this export has "
            "a day above 12 to tell.")

    # day row: [n, with sentiment, negative, with troll, trolls, *intents, unsure intent, other intent]
    def _add_day(self, days: dict, day: Any, labels: dict[str, str | None]) -> None:
        row = days.setdefault(day, [0] * (7 + len(INTENTS)))
        row[0] += 1
        if labels.get("sentiment") is not None:
            row[1] += 1
            row[2] += labels["sentiment"] == "negative"
        if labels.get("troll") in ("true", "false"):
            row[3] += 1
            row[4] += labels["troll"] == "true"
        intent = labels.get("intent")
        if intent is not None:
            row[5 + (INTENTS.index(intent) if intent in INTENTS else len(INTENTS) + (intent != UNSURE))] += 1

    def _enqueue(self, queue: str, record: dict[str, Any], when: datetime | str | None) -> None:
        self.queue_sizes[queue] += 1
        if self.max_queue <= 0:
            return
        _, _, head, label = QUEUES[queue]
        if queue == "unsure":  # the top score of the head it is unsure of; the least sure come first
            raw = record.get("labels") or {}
            score = _top_score(record, "troll" if raw.get("troll") == UNSURE else "intent")
            rank = 2.0 if score is None else -score
        else:
            score = _score(record, head, label)
            rank = -1.0 if score is None else score
        self.seq += 1
        key = (rank, -self.seq)  # ties: earlier records first
        heap = self.heaps[queue]
        if len(heap) >= self.max_queue and key <= heap[0][0]:
            return
        text = text_of(record, self.text_field)[0] or ""
        if len(text) > MAX_TEXT:
            text = text[:MAX_TEXT].rstrip() + "…"
        meta = [str(record[k])[:60] for k in ("id", "platform", "page") if record.get(k) not in (None, "")]
        if when is not None:
            meta.append(when if isinstance(when, str) else when.strftime("%Y-%m-%d %H:%M UTC"))
        row = _Row(text, str(record.get("action") or ""), score, meta)
        if len(heap) >= self.max_queue:
            heapq.heapreplace(heap, (key, row))
        else:
            heapq.heappush(heap, (key, row))

    def queue_rows(self, queue: str) -> list[_Row]:
        """The kept rows, most confident first."""
        return [row for _, row in sorted(self.heaps[queue], key=lambda kr: kr[0], reverse=True)]


@dataclass
class _Bucket:
    start: date
    n: int
    neg_rate: float | None
    troll_rate: float | None
    intents: list[int]


def _buckets(days: dict[date, list[int]]) -> tuple[str, list[_Bucket]]:
    """Per day; per week (Monday) beyond 60 days; per month beyond two years. Gaps are zero-filled."""
    if not days:
        return "", []
    first, last = min(days), max(days)
    span = (last - first).days
    if span <= 60:
        unit, key = "day", (lambda d: d)
    elif span <= 731:
        unit, key = "week", (lambda d: d - timedelta(days=d.weekday()))
    else:
        unit, key = "month", (lambda d: d.replace(day=1))
    sums: dict[date, list[int]] = {}
    for day, row in days.items():
        acc = sums.setdefault(key(day), [0] * len(row))
        for i, v in enumerate(row):
            acc[i] += v
    out, cur, end = [], key(first), key(last)
    width = 7 + len(INTENTS)
    while cur <= end:
        row = sums.get(cur, [0] * width)
        out.append(_Bucket(cur, row[0], row[2] / row[1] if row[1] else None,
                           row[4] / row[3] if row[3] else None, row[5:]))
        if unit == "day":
            cur += timedelta(days=1)
        elif unit == "week":
            cur += timedelta(days=7)
        else:
            cur = date(cur.year + cur.month // 12, cur.month % 12 + 1, 1)
    return unit, out


# --------------------------------------------------------------------------- public API


def build_report(input_path: str | Path | Sequence[str | Path], output_path: str | Path, title: str | None = None,
                 max_queue: int = 200, text_field: str | None = None, encoding: str | None = None) -> dict[str, Any]:
    """Read a labeled export (or several: one report of them all) and write a self-contained HTML
    report; return its counts.

    The export is what ``commentnlp label`` writes: JSONL, or CSV with its label and score
    columns, plain or ``.gz`` (by extension).

    ``text_field`` names the comment field as in ``label_file`` (default: the first of
    ``exports.TEXT_FIELDS`` present). ``encoding`` names the input's, as ``label_file``'s does (a labeled
    CSV re-saved by Excel on Windows is cp1252); UTF-16 with a byte-order mark is read without it.

    Lines that are not JSON objects and records carrying an ``error`` are counted, never fatal.
    The output (``"-"``: stdout) appears only when complete (temporary file, then ``os.replace``);
    a device or a pipe is written into.
    """
    if max_queue < 0:
        raise ValueError("max_queue must be >= 0")
    check_encoding(encoding)
    sources = [input_path] if isinstance(input_path, (str, Path)) else list(input_path)
    out = Path(output_path)
    if out.is_dir():
        raise IsADirectoryError(f"the report's output is a directory: {out} (name an HTML file)")
    check_not_an_input(out, sources, "the report")
    stats = _Stats(max_queue=max_queue, text_field=text_field)
    names = [Path(s).name for s in sources]
    for source in sources:
        try:
            _read_into(stats, source, text_field, encoding, len(sources) > 1)
        except InputError as exc:  # with several files, which one
            raise InputError(str(exc) if str(source) in str(exc) else f"{source}: {exc}") from None
        shown = Path(source).name if names.count(Path(source).name) == 1 else str(source)  # a/c.jsonl, b/c.jsonl
        stats.resolve_slash_dates("stdin" if str(source) == "-" else shown)  # each file as it writes its dates
    unit, buckets = _buckets(stats.days)
    page = _render(stats, unit, buckets, title or "Comment report",
                   names[0] if len(names) == 1 else f"{names[0]} and {plural(len(names) - 1, 'other file')}")

    if str(output_path) == "-" or is_device_or_pipe(out):
        with contextlib.nullcontext(sys.stdout) if str(output_path) == "-" else out.open("w", encoding="utf-8") as sink:
            sink.write(page)
            sink.flush()
        return _summary(stats, unit, buckets, out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as sink:
            sink.write(page)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return _summary(stats, unit, buckets, out)


def _read_into(stats: _Stats, input_path: str | Path, text_field: str | None, encoding: str | None = None,
               several: bool = False) -> None:
    """Add the records of one labeled export (``"-"``: stdin) to ``stats``; ``several``: lines are told
    with their file's name."""
    fmt, _, raw, stream = open_export(input_path)  # a name that says no format: by its first bytes, as label reads it
    try:  # a labeled CSV saved as a workbook, or by Excel as UTF-16 "Unicode Text" or in its code page
        stream, fmt, _, _ = readable(stream, fmt, "stdin" if str(input_path) == "-" else str(input_path),
                                     encoding=encoding, text_field=text_field)
        for item in read_csv(stream, text_field=text_field) if fmt == "csv" else read_jsonl(stream):
            if item.error is not None:
                stats.records += 1
                stats.bad_lines += 1
                if len(stats.bad_line_numbers) < 5:
                    stats.bad_line_numbers.append(f"{input_path}:{item.line}" if several else str(item.line))
                stats.add_reason(f"unreadable line: {_reason(item.error)}")
            else:
                stats.add(record_of_csv_row(item.record) if fmt == "csv" else record_of_spark_row(item.record))
    finally:
        raw.close()


def _summary(stats: _Stats, unit: str, buckets: list[_Bucket], out: Path) -> dict[str, Any]:
    troll_known = stats.heads["troll"]["true"] + stats.heads["troll"]["false"]
    return {
        "records": stats.records,
        "labeled": stats.labeled,
        "errors": stats.errors,
        "bad_lines": stats.bad_lines,
        "bad_line_numbers": stats.bad_line_numbers,
        "unlabeled": stats.unlabeled,
        "untexted": stats.untexted,
        "reasons": dict(stats.reasons),
        "style": {k: stats.heads["style"][k] for k in _values("style", stats)},
        "intent": {k: stats.heads["intent"][k] for k in _values("intent", stats)},
        "sentiment": {k: stats.heads["sentiment"][k] for k in _values("sentiment", stats)},
        "trolls": stats.heads["troll"]["true"],
        "troll_rate": stats.heads["troll"]["true"] / troll_known if troll_known else None,
        "dated": stats.dated,
        "trend": {"unit": unit, "buckets": len(buckets)} if buckets else None,
        "queues": {q: {"total": stats.queue_sizes[q], "shown": len(stats.heaps[q])} for q in QUEUES},
        "output": str(out),
    }


def _values(head: str, stats: _Stats) -> list[str]:
    """Schema values of a head (always), plus unsure/other when they occur."""
    return [*HEADS_BY_NAME[head].values, *(v for v in EXTRA_VALUES if stats.heads[head][v])]


# --------------------------------------------------------------------------- HTML


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _n(value: int) -> str:
    return f"{value:,}"


def _pct(part: float, whole: float, digits: int = 1) -> str:
    return f"{100 * part / whole:.{digits}f}%" if whole else "–"


def _render(stats: _Stats, unit: str, buckets: list[_Bucket], title: str, source: str) -> str:
    when = ""
    if buckets:
        first, last = min(stats.days), max(stats.days)
        when = f" · {_fmt_day(first, True)} – {_fmt_day(last, True)}"
    generated = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
    sections = [
        _cards(stats),
        _intent_section(stats),
        _split_section(stats),
        _trend_section(stats, unit, buckets),
        *(_queue_section(stats, q) for q in QUEUES if q != "unsure" or stats.queue_sizes[q]),
        _quality_section(stats),
    ]
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="commentnlp {_e(__version__)}">
<title>{_e(title)}</title>
<style>{CSS}</style>
</head>
<body>
<header class="top"><div class="wrap">
<div class="brand">commentnlp report</div>
<h1>{_e(title)}</h1>
<p class="sub">{_e(source)} · {_n(stats.records)} records{_e(when)} · generated {_e(generated)}</p>
</div></header>
<main class="wrap">
{"".join(sections)}
</main>
<footer class="wrap foot">Made with commentnlp {_e(__version__)}. Labels are model predictions: check before acting on a single comment. Label schema: style, intent, sentiment, troll (LABELING.md).</footer>
</body>
</html>
"""


def _card(label: str, value: str, note: str, cls: str = "") -> str:
    return (f'<div class="card kpi {cls}"><div class="kpi-label">{_e(label)}</div>'
            f'<div class="kpi-value">{_e(value)}</div><div class="kpi-note">{_e(note)}</div></div>')


def _cards(stats: _Stats) -> str:
    lab = stats.labeled
    troll_known = stats.heads["troll"]["true"] + stats.heads["troll"]["false"]
    trolls = stats.heads["troll"]["true"]
    neg = stats.heads["sentiment"]["negative"]
    sent_known = sum(stats.heads["sentiment"].values())
    problems = stats.errors + stats.bad_lines
    cards = [
        _card("Records", _n(stats.records), "comments in the file"),
        _card("Labeled", _n(lab), f"{_pct(lab, stats.records)} of records"),
        _card("Errors", _n(problems), "records that could not be labeled" if not stats.bad_lines
              else f"{_n(stats.errors)} with an error, {plural(stats.bad_lines, 'unreadable line')}", "warn" if problems else ""),
        _card("Where to buy", _n(stats.queue_sizes["where_to_buy"]), "questions to answer", "accent"),
        _card("Support", _n(stats.queue_sizes["support"]), "cases to ladder up"),
        _card("Negative", _pct(neg, sent_known), plural(neg, "comment")),
        _card("Trolls", _pct(trolls, troll_known), f"{plural(trolls, 'comment')}: don't feed them"),
    ]
    return f'<section class="cards">{"".join(cards)}</section>'


def _intent_section(stats: _Stats) -> str:
    counts = stats.heads["intent"]
    total = sum(counts.values())
    top = max(counts.values(), default=0)
    rows = []
    for value in _values("intent", stats):
        n = counts[value]
        width = 100 * n / top if top else 0
        hint = INTENT_HINTS.get(value, "")
        rows.append(
            f'<div class="hrow"><div class="hlabel">{_e(NAMES.get(value, value))}'
            f'<span class="hint">{_e(hint)}</span></div>'
            f'<div class="htrack"><div class="hbar" style="width:{width:.2f}%;background:{COLORS.get(value, "#94a3b8")}"></div></div>'
            f'<div class="hval"><b>{_pct(n, total)}</b> <span>{_n(n)}</span></div></div>')
    return (f'<section class="card"><h2>What people ask</h2>'
            f'<p class="lead">Intent of {plural(total, "labeled comment")}: what each one asks of the community manager.</p>'
            f'<div class="hbars">{"".join(rows)}</div></section>')


def _stacked(parts: list[tuple[str, int]], names: dict[str, str] | None = None) -> str:
    """A 100% stacked bar with a legend (label, count, percent)."""
    names = {**NAMES, **(names or {})}
    total = sum(n for _, n in parts)
    segs, legend = [], []
    for value, n in parts:
        color = COLORS.get(value, "#94a3b8")
        share = 100 * n / total if total else 0
        if n:
            inner = f"{share:.0f}%" if share >= 9 else ""
            segs.append(f'<div class="seg" style="width:{share:.3f}%;background:{color}" '
                        f'title="{_e(names.get(value, value))}: {_n(n)}">{inner}</div>')
        legend.append(f'<li><i style="background:{color}"></i>{_e(names.get(value, value))} '
                      f'<b>{_pct(n, total)}</b> <span>{_n(n)}</span></li>')
    bar = "".join(segs) or '<div class="seg empty">no data</div>'
    return f'<div class="stack">{bar}</div><ul class="legend">{"".join(legend)}</ul>'


def _split_section(stats: _Stats) -> str:
    style = [(v, stats.heads["style"][v]) for v in _values("style", stats)]
    sentiment = [(v, stats.heads["sentiment"][v]) for v in _values("sentiment", stats)]
    trolls, clean = stats.heads["troll"]["true"], stats.heads["troll"]["false"]
    troll_bar = _stacked([("troll", trolls), ("neutral", clean)], {"troll": "Troll", "neutral": "Not a troll"})
    return f"""<section class="grid3">
<div class="card"><h2>Audience vs community</h2><p class="lead">Talks to the brand (interested) or to other people (invested).</p>{_stacked(style)}</div>
<div class="card"><h2>Sentiment</h2><p class="lead">The writer's attitude toward the brand, product or topic.</p>{_stacked(sentiment)}</div>
<div class="card"><h2>Troll rate</h2><p class="lead">Bad-faith comments written to provoke. Don't feed them.</p>
<div class="big">{_pct(trolls, trolls + clean)}</div>{troll_bar}</div>
</section>"""


# --------------------------------------------------------------------------- charts (SVG)


def _fmt_day(d: date, year: bool = False) -> str:
    return f"{d.strftime('%b')} {d.day}" + (f", {d.year}" if year else "")


def _fmt_pct(v: float) -> str:
    return f"{round(100 * v, 1):g}%"


def _fmt_bucket(d: date, unit: str) -> str:
    return d.strftime("%b %Y") if unit == "month" else _fmt_day(d)


def _axis(top: float, integer: bool = False, ticks: int = 4) -> tuple[float, float]:
    """``(ymax, step)``: a round step (1, 2, 2.5, 5 x 10^k) and the first multiple of it >= ``top``."""
    top = top if top > 0 else 1.0
    raw = top / ticks
    exp = 10 ** math.floor(math.log10(raw))
    step = next(m * exp for m in ((1, 2, 5, 10) if integer else (1, 2, 2.5, 5, 10)) if raw <= m * exp + 1e-12)
    if integer:
        step = max(1.0, float(math.ceil(step)))
    return step * math.ceil(top / step - 1e-9), step


class _Chart:
    """Axes, grid and x labels shared by the trend charts (a plain SVG string builder)."""

    def __init__(self, buckets: list[_Bucket], unit: str, width: int, height: int, axis: tuple[float, float],
                 fmt: Callable[[float], str], left: int = 46) -> None:
        self.buckets, self.unit, self.w, self.h = buckets, unit, width, height
        self.ml, self.mr, self.mt, self.mb = left, 12, 12, 26
        self.pw, self.ph = width - self.ml - self.mr, height - self.mt - self.mb
        self.band = self.pw / max(len(buckets), 1)
        (self.ymax, self.step), self.fmt = axis, fmt
        self.parts: list[str] = []

    def x(self, i: int) -> float:
        return self.ml + self.band * (i + 0.5)

    def y(self, v: float) -> float:
        return self.mt + self.ph * (1 - v / self.ymax)

    def axes(self) -> None:
        for k in range(round(self.ymax / self.step) + 1):
            v = self.step * k
            y = self.y(v)
            self.parts.append(f'<line class="grid" x1="{self.ml}" x2="{self.w - self.mr}" y1="{y:.1f}" y2="{y:.1f}"/>'
                              f'<text class="tick" x="{self.ml - 6}" y="{y + 4:.1f}" text-anchor="end">{_e(self.fmt(v))}</text>')
        step = max(1, math.ceil(len(self.buckets) / max(1, self.pw // 70)))
        for i, b in enumerate(self.buckets):
            if i % step == 0:
                self.parts.append(f'<text class="tick" x="{self.x(i):.1f}" y="{self.h - 8}" '
                                  f'text-anchor="middle">{_e(_fmt_bucket(b.start, self.unit))}</text>')

    def svg(self, label: str) -> str:
        return (f'<svg viewBox="0 0 {self.w} {self.h}" role="img" aria-label="{_e(label)}" '
                f'xmlns="http://www.w3.org/2000/svg">{"".join(self.parts)}</svg>')

    def tip(self, b: _Bucket) -> str:
        return ("week of " if self.unit == "week" else "") + _fmt_bucket(b.start, self.unit) + (
            f" {b.start.year}" if self.unit != "month" else "")


def _volume_chart(buckets: list[_Bucket], unit: str) -> str:
    c = _Chart(buckets, unit, 560, 240, _axis(max(b.n for b in buckets), integer=True), lambda v: f"{v:,.0f}")
    c.axes()
    bw = max(1.0, c.band * 0.72)
    for i, b in enumerate(buckets):
        if b.n:
            y = c.y(b.n)
            c.parts.append(f'<rect x="{c.x(i) - bw / 2:.1f}" y="{y:.1f}" width="{bw:.1f}" height="{c.mt + c.ph - y:.1f}" '
                           f'rx="2" fill="#2563eb"><title>{_e(c.tip(b))}: {plural(b.n, "comment")}</title></rect>')
    return c.svg("comments per " + unit)


def _rates_chart(buckets: list[_Bucket], unit: str) -> str:
    top = max([r for b in buckets for r in (b.neg_rate, b.troll_rate) if r is not None], default=0.0)
    c = _Chart(buckets, unit, 560, 240, _axis(min(1.0, max(top, 0.1))), _fmt_pct)
    c.axes()
    for attr, color, name in (("neg_rate", COLORS["negative"], "negative"), ("troll_rate", COLORS["troll"], "trolls")):
        path, dots = [], []
        pen_up = True
        for i, b in enumerate(buckets):
            v = getattr(b, attr)
            if v is None:
                pen_up = True
                continue
            path.append(f'{"M" if pen_up else "L"}{c.x(i):.1f},{c.y(v):.1f}')
            pen_up = False
            dots.append(f'<circle cx="{c.x(i):.1f}" cy="{c.y(v):.1f}" r="{3 if len(buckets) <= 40 else 2}" fill="{color}">'
                        f'<title>{_e(c.tip(b))}: {100 * v:.1f}% {name} ({plural(b.n, "comment")})</title></circle>')
        dash = ' stroke-dasharray="5 3"' if attr == "troll_rate" else ""
        c.parts.append(f'<path d="{" ".join(path)}" fill="none" stroke="{color}" stroke-width="2"{dash}/>' + "".join(dots))
    return c.svg("% negative and troll rate per " + unit)


def _intent_time_chart(buckets: list[_Bucket], unit: str) -> str:
    c = _Chart(buckets, unit, 1120, 260, (1.0, 0.25), _fmt_pct)
    c.axes()
    bw = max(1.0, c.band * 0.78)
    names = [*INTENTS, *EXTRA_VALUES]
    for i, b in enumerate(buckets):
        total = sum(b.intents)
        if not total:
            continue
        acc = 0
        for k, n in enumerate(b.intents):
            if not n:
                continue
            y0, y1 = c.y(acc / total), c.y((acc + n) / total)
            acc += n
            value = names[k]
            c.parts.append(f'<rect x="{c.x(i) - bw / 2:.1f}" y="{y1:.1f}" width="{bw:.1f}" height="{y0 - y1:.1f}" '
                           f'fill="{COLORS[value]}"><title>{_e(c.tip(b))}: {_e(NAMES[value])} '
                           f'{_n(n)} of {_n(total)} ({100 * n / total:.0f}%)</title></rect>')
    return c.svg("intent mix per " + unit)


def _legend(items: Iterable[tuple[str, str]], lines: bool = False, dashed: str = "") -> str:
    """An inline legend: colour swatches, or line samples (``dashed`` names the dashed series)."""
    out = []
    for value, label in items:
        color = COLORS[value]
        fill = (f"repeating-linear-gradient(90deg,{color} 0 5px,transparent 5px 8px)" if value == dashed else color)
        out.append(f'<li><i class="{"line" if lines else ""}" style="background:{fill}"></i>{_e(label)}</li>')
    return f'<ul class="legend inline">{"".join(out)}</ul>'


def _trend_section(stats: _Stats, unit: str, buckets: list[_Bucket]) -> str:
    unread = (f" (e.g. {stats.undatable}: not a time from {PLAUSIBLE_YEARS[0]} to {PLAUSIBLE_YEARS[1] - 1} in ISO 8601, "
              f"such as 2026-11-01T10:00:00, unix seconds, or a date such as Nov 3, 2026 or 11/03/2026)"
              if stats.undatable else "")
    if not buckets:
        found = (f"No usable timestamps in these records{unread}" if unread else
                 f"No timestamps in these records (looked for {', '.join(TIME_FIELDS)}, in any case: ISO 8601, "
                 "unix seconds or a date)")
        return (f'<section class="card"><h2>Over time</h2><p class="muted" id="no-trend">{_e(found)}, '
                f'so there is no trend.</p></section>')
    undated = stats.labeled - stats.dated
    note = f" {plural(undated, 'labeled record')} without a usable timestamp left out{unread}." if undated else ""
    per = {"day": "Per day (UTC)", "week": "Per week (UTC, weeks start on Monday)", "month": "Per month (UTC)"}[unit]
    intents = [*INTENTS, *(v for i, v in enumerate(EXTRA_VALUES, len(INTENTS)) if any(b.intents[i] for b in buckets))]
    return f"""<section class="card" id="trend"><h2>Over time</h2>
<p class="lead">{_e(per)}, {plural(stats.dated, 'labeled comment')}.{_e(note)}{_e(stats.slash_note)} Hover a bar or point for its numbers.</p>
<div class="grid2">
<figure><figcaption>Volume: comments per {_e(unit)}</figcaption>{_volume_chart(buckets, unit)}</figure>
<figure><figcaption>% negative and troll rate</figcaption>{_rates_chart(buckets, unit)}
{_legend([("negative", "% negative"), ("troll", "troll rate")], lines=True, dashed="troll")}</figure>
</div>
<figure><figcaption>Intent mix per {_e(unit)} (share of comments)</figcaption>{_intent_time_chart(buckets, unit)}
{_legend((v, NAMES[v]) for v in intents)}</figure>
</section>"""


# --------------------------------------------------------------------------- tables


def _queue_section(stats: _Stats, queue: str) -> str:
    title, what, head, label = QUEUES[queue]
    rows = stats.queue_rows(queue)
    total = stats.queue_sizes[queue]
    color = COLORS.get(label, "#2563eb")
    first, score_is = (("least sure", f"the top probability of the {head} it is unsure of") if label == UNSURE
                       else ("most confident", f"probability of {head} {label}"))
    shown = f"showing the {_n(len(rows))} {first} of {_n(total)}" if len(rows) < total else plural(total, "comment")
    if not rows:
        body = f'<p class="muted">{"Nothing in this queue." if not total else "Rows not kept (max_queue = 0)."}</p>'
    else:
        trs = []
        for i, row in enumerate(rows, 1):
            score = "–" if row.score is None else f"{100 * row.score:.0f}%"
            width = 0 if row.score is None else max(0.0, min(1.0, row.score)) * 100
            meta = f'<div class="meta">{_e(" · ".join(row.meta))}</div>' if row.meta else ""
            trs.append(f'<tr><td class="num">{i}</td><td class="text"><div dir="auto">{_e(row.text)}</div>{meta}</td>'
                       f'<td class="action">{_e(row.action)}</td>'
                       f'<td class="score"><b>{score}</b><div class="mini"><div style="width:{width:.0f}%;background:{color}"></div></div></td></tr>')
        body = (f'<table class="queue"><thead><tr><th>#</th><th>Comment</th><th>Suggested action</th>'
                f'<th title="{_e(score_is)}">Score</th></tr></thead>'
                f'<tbody>{"".join(trs)}</tbody></table>')
    return (f'<section class="card" id="queue-{_e(queue)}"><div class="qhead"><h2>{_e(title)}</h2>'
            f'<span class="pill">{shown}</span></div><p class="lead">{_e(what)} {_e(first.capitalize())} first '
            f'(score = {_e(score_is)}).</p>{body}</section>')


def _quality_section(stats: _Stats) -> str:
    items = []
    if stats.reasons:
        rows = "".join(f'<tr><td>{_e(reason)}</td><td class="num">{_n(n)}</td></tr>'
                       for reason, n in stats.reasons.most_common())
        items.append(f'<table class="reasons"><thead><tr><th>Reason</th><th class="num">Records</th></tr></thead>'
                     f'<tbody>{rows}</tbody></table>')
    if stats.unlabeled:
        items.append(f'<p>{plural(stats.unlabeled, "record")} with neither labels nor an error '
                     f'(not <code>commentnlp label</code> output?).</p>')
    if not items:
        items.append(f'<p class="muted">All {_n(stats.records)} records were labeled.</p>')
    lead = '<p class="lead">Records that could not be labeled or read, by reason (counted, not fatal).</p>'
    return f'<section class="card"><h2>Data quality</h2>{lead if stats.reasons else ""}{"".join(items)}</section>'


CSS = """
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:#f3f4f6;color:#111827;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue","Liberation Sans",Arial,sans-serif}
.wrap{max-width:1180px;margin:0 auto;padding:0 24px}
.top{background:#0f172a;color:#f8fafc;padding:22px 0 20px;margin-bottom:20px}
.brand{font-size:12px;letter-spacing:.08em;text-transform:uppercase;color:#93c5fd;font-weight:600}
h1{margin:4px 0 4px;font-size:26px;font-weight:650;line-height:1.2}
.sub{margin:0;color:#cbd5e1;font-size:13px}
h2{margin:0 0 2px;font-size:16px;font-weight:650}
.lead{margin:0 0 14px;color:#6b7280;font-size:13px}
.muted{color:#6b7280}
section{margin-bottom:16px}
.card{background:#fff;border:1px solid #e5e7eb;border-radius:10px;padding:16px 18px;box-shadow:0 1px 2px rgba(15,23,42,.05)}
.cards{display:grid;grid-template-columns:repeat(7,1fr);gap:12px}
.kpi{padding:12px 14px}
.kpi-label{font-size:12px;color:#6b7280;font-weight:600;text-transform:uppercase;letter-spacing:.04em}
.kpi-value{font-size:26px;font-weight:700;margin:2px 0;font-variant-numeric:tabular-nums}
.kpi-note{font-size:12px;color:#6b7280}
.kpi.accent{box-shadow:inset 0 3px 0 #2563eb,0 1px 2px rgba(15,23,42,.05)}
.kpi.warn .kpi-value{color:#b45309}
.grid3{display:grid;grid-template-columns:repeat(3,1fr);gap:16px}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:16px}
.hbars{display:grid;gap:8px}
.hrow{display:grid;grid-template-columns:300px 1fr 120px;align-items:center;gap:12px}
.hlabel{font-weight:600}
.hint{display:block;font-weight:400;font-size:12px;color:#6b7280}
.htrack{background:#f1f5f9;border-radius:4px;height:22px;overflow:hidden}
.hbar{height:100%;border-radius:4px;min-width:0}
.hval{font-variant-numeric:tabular-nums;text-align:right}
.hval span,.legend span{color:#6b7280;font-size:12px}
.stack{display:flex;height:30px;border-radius:6px;overflow:hidden;background:#f1f5f9}
.seg{color:#fff;font-size:12px;font-weight:600;display:flex;align-items:center;justify-content:center;white-space:nowrap;overflow:hidden}
.seg.empty{color:#6b7280;width:100%}
.legend{list-style:none;padding:0;margin:10px 0 0;display:grid;gap:4px}
.legend li{display:flex;align-items:center;gap:6px;font-size:13px}
.legend b{margin-left:auto;font-variant-numeric:tabular-nums}
.legend i{width:12px;height:12px;border-radius:3px;display:inline-block;flex:none}
.legend.inline{display:flex;flex-wrap:wrap;gap:6px 16px;margin-top:4px}
.legend.inline i.line{height:3px;width:18px;border-radius:0}
.big{font-size:34px;font-weight:700;color:#7f1d1d;margin:-4px 0 8px}
figure{margin:8px 0 0}
figcaption{font-size:13px;font-weight:600;color:#374151;margin-bottom:4px}
svg{width:100%;height:auto;display:block;overflow:visible}
svg text{font:11px system-ui,-apple-system,"Segoe UI",Roboto,"Liberation Sans",Arial,sans-serif;fill:#6b7280}
svg .grid{stroke:#e5e7eb;stroke-width:1}
.qhead{display:flex;align-items:baseline;gap:12px;flex-wrap:wrap}
.pill{background:#eff6ff;color:#1d4ed8;border-radius:999px;padding:2px 10px;font-size:12px;font-weight:600}
table{width:100%;border-collapse:collapse}
th{text-align:left;font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#6b7280;border-bottom:2px solid #e5e7eb;padding:6px 8px}
td{border-bottom:1px solid #f1f5f9;padding:8px;vertical-align:top}
tbody tr:nth-child(even){background:#fafafa}
td.text{overflow-wrap:anywhere;word-break:break-word}
td.action{width:34%;color:#374151;font-size:12.5px}
td.num,th.num{width:36px;color:#9ca3af;text-align:right;font-variant-numeric:tabular-nums}
table.reasons td.num,table.reasons th.num{width:120px;color:inherit}
td.score{width:72px;text-align:right;font-variant-numeric:tabular-nums}
.mini{height:4px;background:#e5e7eb;border-radius:2px;margin-top:4px}
.mini div{height:100%;background:#2563eb;border-radius:2px}
.meta{font-size:11.5px;color:#9ca3af;margin-top:2px}
code{background:#f1f5f9;padding:0 4px;border-radius:3px}
.foot{color:#9ca3af;font-size:12px;padding-top:4px;padding-bottom:28px}
@media (max-width:1000px){.cards{grid-template-columns:repeat(4,1fr)}.grid3{grid-template-columns:1fr}.grid2{grid-template-columns:1fr}.hrow{grid-template-columns:160px 1fr 100px}}
@media print{body{background:#fff}.card{box-shadow:none;break-inside:avoid}.top{background:#fff;color:#111827}.sub{color:#374151}}
"""
