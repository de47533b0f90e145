"""Timestamps: which field of a record holds its time, and reading it (ISO 8601, unix time, dates as written)."""

from __future__ import annotations

import calendar
import contextlib
import email.utils
import math
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from ..exports import field_among
from ..exports.fields import _nested


#: Field names tried, in order, for a record's timestamp, in any case and spelling (``Date``,
#: ``publishedAt``): ISO 8601, unix seconds or milliseconds, or a date as exports write it
#: (:func:`parse_time`).
TIME_FIELDS = ("created_time", "created_at", "create_time", "published_at", "comment_date", "comment_time", "timestamp",
               "date", "time")
#: Where YouTube's Data API nests a comment's time (a thread's, a reply's), as it nests its text
NESTED_TIME_FIELDS = ("snippet.topLevelComment.snippet.publishedAt", "snippet.publishedAt")


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
