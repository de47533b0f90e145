"""Draw unlabelled corpus comments for annotators to label with the LABELING.md schema.

Writes a scratch JSONL (``corpus``, ``key``, ``text`` and, for Facebook rows, ``thread``)
*outside* the repository; annotators write their labels to ``data/corpus_labels/<name>.jsonl``
as ``{"corpus", "key", "style", "intent", "sentiment", "troll"}`` rows with no text, which
``commentnlp.corpora.join_corpus_labels`` joins back at training time.

Rows already labelled (any ``--exclude`` file) and rows equal to or containing an evaluation
comment are never drawn. When several jobs are drawn at once, pass the earlier job files to
``--exclude`` too (they hold ``corpus`` and ``key``), so that no comment is labelled twice.

    python training/sample_corpus.py --corpus fb_dei_brand_comments --thread reply \\
        --n 600 --seed 11 --out /tmp/label_jobs/fb_replies.jsonl
    python training/sample_corpus.py --corpus amazon_qa_appliances --match "in stock|where" ...
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Optional

import typer

from commentnlp import corpora
from commentnlp.data import EvaluationTexts, dedupe_key, expand

app = typer.Typer(add_completion=False)


def _labelled_keys(patterns: list[str]) -> set[tuple[str, str]]:
    return {(r["corpus"], r["key"]) for path in expand(patterns) for r in corpora.read_corpus_labels(path)}


@app.command()
def main(
    out: Path = typer.Option(..., help="Scratch JSONL to write (keep it outside the repository)."),
    corpus: list[str] = typer.Option(..., help="Corpus directory name(s) under --datasets-dir."),
    n: int = typer.Option(500, help="Rows to draw."),
    seed: int = typer.Option(0),
    thread: Optional[str] = typer.Option(None, help="fb_dei only: 'initial' or 'reply'."),
    match: Optional[str] = typer.Option(None, help="Keep texts matching this regex (case-insensitive)."),
    max_chars: int = typer.Option(600, help="Skip texts longer than this."),
    datasets_dir: Path = typer.Option(Path("../shared/datasets")),
    exclude: list[str] = typer.Option(["data/corpus_labels/*.jsonl"], help="Label files whose rows are skipped."),
    eval_set: list[Path] = typer.Option([Path("../shared/evalsets/real_dev.jsonl")], help="Never draw these texts."),
) -> None:
    """Write ``n`` seeded, de-duplicated, not-yet-labelled corpus comments to ``out``."""
    try:
        done = _labelled_keys(exclude)
    except ValueError as exc:  # a label file's bad row: one line, not a traceback
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1)
    evals = EvaluationTexts([p for p in eval_set if p.exists()])
    pattern = re.compile(match, re.I) if match else None
    pool, seen = [], set()
    for rec in corpora.iter_corpora(datasets_dir, corpus):
        text, key = rec["text"], dedupe_key(rec["text"])
        if (rec["corpus"], rec["key"]) in done or key in seen or len(text) > max_chars:
            continue
        if thread and rec.get("comment_type") != thread:
            continue
        if pattern and not pattern.search(text):
            continue
        if evals.why_banned(key):
            continue
        seen.add(key)
        pool.append({k: rec[k] for k in ("corpus", "key", "text", "comment_type") if rec.get(k)})
    rows = random.Random(seed).sample(pool, min(n, len(pool)))
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    typer.echo(f"{len(rows)} of {len(pool)} candidates -> {out}")


if __name__ == "__main__":
    app()
