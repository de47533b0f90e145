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

The package's modules: :mod:`.times` (timestamps), :mod:`.stats` (counts, work queues, trend buckets),
:mod:`.formatting` (names, colours, escaping), :mod:`.charts` (the trend's SVG charts), :mod:`.sections`
(the other sections), :mod:`.page` (the HTML page and its CSS) and :mod:`.build` (:func:`build_report`).
The public names are imported from here."""

from __future__ import annotations

from .build import build_report, default_report_path
from .stats import QUEUES
from .times import TIME_FIELDS, parse_time

__all__ = ["TIME_FIELDS", "QUEUES", "build_report", "parse_time", "default_report_path"]
