"""The page's sections but the trend: key figures, the intent mix, the splits, the work queues and data quality."""

from __future__ import annotations

from ..exports import plural
from ..schema import UNSURE
from .formatting import COLORS, INTENT_HINTS, NAMES, _e, _n, _pct
from .stats import QUEUES, _Stats, _values


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
