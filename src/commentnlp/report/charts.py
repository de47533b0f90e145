"""The trend over time: inline SVG charts of volume, negative and troll rates and the intent mix, and their section."""

from __future__ import annotations

import math
from datetime import date
from typing import Callable, Iterable

from ..exports import plural
from .formatting import COLORS, NAMES, _e, _n
from .stats import EXTRA_VALUES, INTENTS, _Bucket, _Stats
from .times import PLAUSIBLE_YEARS, TIME_FIELDS


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
