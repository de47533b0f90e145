"""``commentnlp evaluate``: per-head report of a model on a labeled JSONL file."""

from __future__ import annotations

import json
from typing import Optional

import typer

from ._util import app, fail, load_classifier


def format_report(result: dict) -> str:
    """Human-readable per-head report: macro-F1, per-class P/R/F1 and the confusion matrix."""
    lines = [f"{result['n']} records"]
    for head, r in result["heads"].items():
        lines.append(f"\n== {head}: macro-F1 {r['macro_f1']:.3f}  accuracy {r['accuracy']:.3f}  (n={r['n']})")
        lines.append(f"  {'label':<18}{'prec':>7}{'rec':>7}{'f1':>7}{'n':>6}")
        for label, m in r["per_class"].items():
            lines.append(f"  {label:<18}{m['precision']:>7.3f}{m['recall']:>7.3f}{m['f1']:>7.3f}{m['support']:>6}")
        if r["confusion"]:
            short = [lab[:8] for lab in r["labels"]]
            lines.append("  confusion (rows = true, columns = predicted)")
            lines.append("  " + " " * 18 + "".join(f"{s:>9}" for s in short))
            for lab, row in zip(r["labels"], r["confusion"]):
                lines.append(f"  {lab:<18}" + "".join(f"{v:>9}" for v in row))
    return "\n".join(lines)


@app.command("evaluate")
def evaluate_cli(
    data: str = typer.Option(..., "--data", "-d", help="Labeled JSONL file (LABELING.md records)."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model directory. Default: the bundled model."),
    as_json: bool = typer.Option(False, "--json", help="Print the full report as JSON."),
    batch_size: int = typer.Option(64, "--batch-size", "-b", min=1),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda[:N]."),
) -> None:
    """Evaluate a model per head: macro-F1, per-class precision/recall/F1, confusion matrices."""
    from ..data import DataError
    from ..evaluation import evaluate

    clf = load_classifier(model, device)
    try:
        result = evaluate(clf, data, batch_size=batch_size)
    except DataError as exc:
        fail(str(exc))
    typer.echo(json.dumps(result, indent=2) if as_json else format_report(result))
