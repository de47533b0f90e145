"""Copy a labelled JSONL whose ``context`` field names each comment's thread position, adding
``comment_type``, so that ``commentnlp evaluate`` gives the model the position an export would.

    python training/add_thread_positions.py ../shared/evalsets/real_dev.jsonl /tmp/real_dev_positions.jsonl
    commentnlp evaluate --data /tmp/real_dev_positions.jsonl

``../shared/evalsets/real_dev.jsonl`` says "(initial)" or "(reply)" at the end of the context of
its Facebook comments, which come from a corpus that records it (``comment_type``, like a
Facebook export). Other records are copied unchanged: their position stays unknown. The
yardstick itself is text only (its README: the model reads only ``text``); this measures what
a CM whose export gives positions would get. Write the copy outside ``data/``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import typer

_POSITION = re.compile(r"\((initial|reply)\)\s*$")


def position_of(record: dict) -> str | None:
    """``"initial"`` or ``"reply"`` when the record's context ends with it, else None."""
    found = _POSITION.search(str(record.get("context", "")))
    return found.group(1) if found else None


def main(src: Path, dst: Path) -> None:
    """Write ``dst``: the records of ``src``, with ``comment_type`` where the context gives it."""
    counts = {"initial": 0, "reply": 0, "unknown": 0}
    with src.open(encoding="utf-8") as f, dst.open("w", encoding="utf-8") as out:
        for line in f:
            if not line.strip():
                continue
            record = json.loads(line)
            position = position_of(record)
            if position:
                record["comment_type"] = position
            counts[position or "unknown"] += 1
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    typer.echo(f"{dst}: " + ", ".join(f"{v} {k}" for k, v in counts.items()), err=True)


if __name__ == "__main__":
    typer.run(main)
