"""Statistics of labelled records in constant memory: counts per label and per day, work queues, trend buckets."""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from ..exports import plural, text_of
from ..schema import HEAD_NAMES, HEADS_BY_NAME, UNSURE, LabelError, parse_label
from .times import _SLASHES, PLAUSIBLE_YEARS, _parse_time, _time_field


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


def _values(head: str, stats: _Stats) -> list[str]:
    """Schema values of a head (always), plus unsure/other when they occur."""
    return [*HEADS_BY_NAME[head].values, *(v for v in EXTRA_VALUES if stats.heads[head][v])]
