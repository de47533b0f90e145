"""Building a report (:func:`build_report`): labelled exports read into statistics, the page written whole."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Sequence

from ..exports import (InputError, check_encoding, check_not_an_input, is_device_or_pipe, open_export, plural,
                       read_csv, read_jsonl, readable, record_of_csv_row, record_of_spark_row)
from .page import _render
from .stats import QUEUES, _Bucket, _buckets, _reason, _Stats, _values


def default_report_path(input_path: str | Path) -> Path:
    """``export.labeled.jsonl`` (or ``.csv``, ``.jsonl.gz``) -> ``export.labeled.html`` (beside the input)."""
    path = Path(input_path)
    return (path.with_suffix("") if path.suffix.lower() == ".gz" else path).with_suffix(".html")


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
