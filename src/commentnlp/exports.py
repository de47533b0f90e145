"""Label comment exports: every input record comes back, in order, with labels or an error.

A record is written back unchanged plus ``labels`` (the four heads), ``scores`` and
``action``. A line that cannot be labelled (not JSON, not an object, invalid UTF-8, no
text, empty or non-string text) is carried through with an ``error`` field saying the
line number and the reason, and counted in the :class:`LabelSummary`. Files are
streamed in chunks (constant memory) and written to a temporary file that is renamed
only once complete.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator

__all__ = ["TEXT_FIELDS", "LabelSummary", "read_jsonl", "label_records", "label_file", "default_output_path"]

#: Field names tried, in order, when no text field is given.
TEXT_FIELDS = ("text", "message", "comment", "body", "content")

CHUNK = 1024


@dataclass
class LabelSummary:
    """What a labelling run did: counts, the reasons for errors, where the output went."""

    total: int = 0
    labeled: int = 0
    errors: int = 0
    reasons: Counter = field(default_factory=Counter)
    output: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "labeled": self.labeled, "errors": self.errors,
                "reasons": dict(self.reasons), "output": self.output, "seconds": round(self.seconds, 2)}


@dataclass
class Item:
    """One input line: its number, the record to write back, and why it cannot be labelled (if so)."""

    line: int
    record: dict[str, Any]
    error: str | None = None


def read_jsonl(stream: IO[bytes]) -> Iterator[Item]:
    """Parse a JSONL byte stream; bad lines become items carrying an ``error`` and their raw text."""
    for lineno, raw in enumerate(stream, 1):
        if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        stripped = raw.strip()
        if not stripped:
            continue
        try:
            line = stripped.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield Item(lineno, {"raw": stripped.decode("utf-8", errors="replace")},
                       f"invalid UTF-8 at byte {exc.start}")
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Item(lineno, {"raw": line}, f"not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(record, dict):
            yield Item(lineno, {"raw": record}, f"not a JSON object (got {type(record).__name__})")
            continue
        yield Item(lineno, record)


def _text_of(record: dict[str, Any], text_field: str | None) -> tuple[str | None, str | None]:
    """``(text, None)`` or ``(None, reason)``."""
    if text_field is not None:
        if text_field not in record:
            return None, f"no {text_field!r} field"
        name = text_field
    else:
        name = next((f for f in TEXT_FIELDS if f in record), None)
        if name is None:
            return None, f"no text field (looked for {', '.join(TEXT_FIELDS)})"
    value = record[name]
    if not isinstance(value, str):
        return None, f"{name!r} is {'null' if value is None else type(value).__name__}, not a string"
    if not value.strip():
        return None, f"{name!r} is empty"
    return value, None


def label_records(
    items: Iterable[Item],
    classifier,
    *,
    text_field: str | None = None,
    batch_size: int = 64,
    summary: LabelSummary | None = None,
    chunk: int = CHUNK,
) -> Iterator[dict[str, Any]]:
    """Yield one output record per input item, in order (labels added, or an ``error``)."""
    summary = summary if summary is not None else LabelSummary()
    buffer: list[Item] = []

    def flush() -> Iterator[dict[str, Any]]:
        texts, targets = [], []
        for item in buffer:
            if item.error is None:
                text, reason = _text_of(item.record, text_field)
                if reason:
                    item.error = reason
                else:
                    texts.append(text)
                    targets.append(item)
        predictions = classifier.predict(texts, batch_size=batch_size) if texts else []
        by_line = {id(item): p for item, p in zip(targets, predictions)}
        for item in buffer:
            summary.total += 1
            out = dict(item.record)
            if item.error is not None:
                summary.errors += 1
                summary.reasons[item.error.split(" (")[0]] += 1
                out["error"] = f"line {item.line}: {item.error}"
            else:
                p = by_line[id(item)]
                summary.labeled += 1
                out["labels"] = p.labels
                out["scores"] = p.scores
                out["action"] = p.action
            yield out
        buffer.clear()

    for item in items:
        buffer.append(item)
        if len(buffer) >= chunk:
            yield from flush()
    if buffer:
        yield from flush()


def default_output_path(input_path: str | Path) -> Path:
    """``export.jsonl`` -> ``export.labeled.jsonl`` (beside the input)."""
    p = Path(input_path)
    return p.with_name(f"{p.stem}.labeled{p.suffix or '.jsonl'}")


def _count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(buf.count(b"\n") for buf in iter(lambda: f.read(1 << 20), b""))


def label_file(
    input_path: str | Path,
    output_path: str | Path | None,
    classifier,
    *,
    text_field: str | None = None,
    batch_size: int = 64,
    progress: Callable[[int, int | None], None] | None = None,
) -> LabelSummary:
    """Label a JSONL export (``"-"`` = stdin) into ``output_path`` (``"-"`` = stdout).

    The output file appears only when complete (written to a temporary file, then renamed).
    ``progress(done, total)`` is called after each chunk.
    """
    t0 = time.time()
    summary = LabelSummary()
    to_stdout = str(output_path) == "-"
    if str(input_path) == "-":
        stream, total = sys.stdin.buffer, None
        out_path = None if to_stdout else Path(output_path or "labeled.jsonl")
    else:
        src = Path(input_path)
        if not src.is_file():
            raise FileNotFoundError(f"input file not found: {src}")
        stream, total = src.open("rb"), _count_lines(src)
        out_path = None if to_stdout else Path(output_path) if output_path else default_output_path(src)
    summary.output = "-" if out_path is None else str(out_path)

    def write_all(sink: IO[str]) -> None:
        done = 0
        for record in label_records(read_jsonl(stream), classifier, text_field=text_field,
                                    batch_size=batch_size, summary=summary):
            sink.write(json.dumps(record, ensure_ascii=False) + "\n")
            done += 1
            if progress and done % CHUNK == 0:
                progress(done, total)
        if progress:
            progress(done, total)

    try:
        if out_path is None:
            write_all(sys.stdout)
            sys.stdout.flush()
        else:
            out_path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{out_path.name}.", suffix=".part", dir=out_path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as sink:
                    write_all(sink)
                os.replace(tmp, out_path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    summary.seconds = time.time() - t0
    return summary
