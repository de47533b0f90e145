"""The HTML page: its head, its sections in order, and its stylesheet (no scripts, no external CSS or fonts)."""

from __future__ import annotations

from datetime import datetime

from .. import __version__
from .charts import _fmt_day, _trend_section
from .formatting import _e, _n
from .sections import _cards, _intent_section, _quality_section, _queue_section, _split_section
from .stats import QUEUES, _Bucket, _Stats


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
