"""``commentnlp evaluate``: per-head report of a model on a file of labeled records."""

from __future__ import annotations

import json
from typing import List, Optional

import typer

from ._util import BACKEND_HELP, BATCH_SIZE_HELP, command, fail, load_classifier


def format_report(result: dict) -> str:
    """Human-readable per-head report: macro-F1, per-class P/R/F1 and the confusion matrix."""
    lines = [f"{result['n']} records"]
    if "intervals" in result:
        lines.append("headline figures with 95% bootstrap intervals:")
        lines += [f"  {m:<20}{v:.3f}  [{result['intervals'][m]['low']:.3f}, {result['intervals'][m]['high']:.3f}]"
                  for m, v in result["summary"].items() if m in result["intervals"]]
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


def format_comparison(comparison: dict, model: str) -> str:
    """Table of two models' headline figures and their paired difference."""
    lines = [f"{model} vs {comparison['other']} (same records; difference = model - other, paired 95% interval):",
             f"  {'figure':<20}{'model':>8}{'other':>8}{'difference':>12}  interval",
             ]
    for metric, f in comparison["figures"].items():
        verdict = "better" if f["low"] > 0 else "worse" if f["high"] < 0 else "within noise"
        lines.append(f"  {metric:<20}{f['model']:>8.3f}{f['other']:>8.3f}{f['difference']:>+12.3f}"
                     f"  [{f['low']:+.3f}, {f['high']:+.3f}] {verdict}")
    return "\n".join(lines)


@command("evaluate")
def evaluate_cli(
    data_arg: Optional[str] = typer.Argument(None, metavar="[DATA]", help="The labeled records (as --data)."),
    data: Optional[str] = typer.Option(None, "--data", "-d", help="Labeled records (LABELING.md): JSONL, or CSV with a text column (or message, comment, ... as label finds it) and a column per head; optionally .gz; '-' for stdin."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model directory, or a bundled model's name (commentnlp-minilm-l3: faster). Default: the bundled commentnlp-minilm."),
    text_field: Optional[str] = typer.Option(None, "--text-field", "-t", help="Field holding the comment text, as given to 'label' (default: text, or message, comment, ... as label finds it)."),
    as_json: bool = typer.Option(False, "--json", help="Print the full report as JSON."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", "-b", min=1, help=BATCH_SIZE_HELP),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda[:N]."),
    backend: str = typer.Option("exact", "--backend", help=BACKEND_HELP + " Default here: exact, the model's own figures."),
    baselines: bool = typer.Option(False, "--baselines", help="Also fit and evaluate the baselines (majority, TF-IDF + logistic regression, VADER, where-to-buy rules, profanity check) on the model's own training data."),
    train_data: Optional[List[str]] = typer.Option(None, "--train-data", help="Labelled training records for the baselines, read as --data is (JSONL, CSV, ...; repeat for several files). Default: the model's training split, from the data files its config records (paths as given where it was trained)."),
    ci: bool = typer.Option(False, "--ci", help="Add 95% bootstrap intervals (1,000 resamples) to the headline figures and, with --baselines, the paired margin over the best baseline."),
    compare: Optional[str] = typer.Option(None, "--compare", help="A second model directory: evaluate it on the same records and print the difference per headline figure (model minus it) with a paired 95% bootstrap interval."),
) -> None:
    """Evaluate a model per head: macro-F1, per-class precision/recall/F1, confusion matrices."""
    from ..data import gather, read_labeled
    from ..evaluation import (compare_predictions, evaluate_predictions, predict_records, seen_in_training,
                              unlabelled_heads_note)

    if data_arg is not None and data is not None and data_arg != data:
        fail(f"two data files: {data_arg} and --data {data}; give one", 2)
    data = data_arg or data
    if data is None:
        fail("give the labeled records: commentnlp evaluate my_test.csv (or --data my_test.csv)", 2)
    try:
        records = read_labeled(data, text_field)  # before the model loads: a data error is told at once
    except (ValueError, FileNotFoundError) as exc:  # DataError is a ValueError
        fail(str(exc))
    if not records:  # it printed "0 records" (exit 0), and --baselines a raw scikit-learn message
        fail(f"{'stdin' if data == '-' else data} holds no records to evaluate")
    unlabelled = unlabelled_heads_note(records)
    if unlabelled:
        typer.echo(f"warning: {unlabelled}", err=True)
    clf = load_classifier(model, device, None, backend=backend)
    # the second model and the baselines' data before the first model runs: a wrong name is told at once
    other_clf = load_classifier(compare, device, None, backend=backend) if compare else None
    try:
        train = gather(train_data) if baselines and train_data else None
        _, predicted = predict_records(clf, records, batch_size)
        result = evaluate_predictions(records, predicted, clf.heads, confidence_intervals=ci)
        seen = seen_in_training(clf, [r["text"] for r in records])
        if seen is not None:
            result["seen_in_training"] = seen
        if baselines:
            from ..baselines import baseline_training_records, run_baselines

            train = train if train_data else baseline_training_records(clf.config)
            if not train:
                fail(f"no training records for the baselines in {', '.join(train_data or ['the model data'])}")
            result["baselines"] = run_baselines(train, records, reference=predicted if ci else None)
        if other_clf is not None:
            seen_in_training(other_clf, [r["text"] for r in records])  # a warning if it was trained on them
            _, other = predict_records(other_clf, records, batch_size)
            result["comparison"] = {"other": compare, "figures": compare_predictions(records, predicted, other, clf.heads)}
    except (ValueError, FileNotFoundError) as exc:  # DataError is a ValueError
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    typer.echo(format_report(result))
    if baselines:
        from ..baselines import comparison_table

        typer.echo("\nModel vs baselines (same data, same metrics):\n"
                   + comparison_table(result["summary"], result["baselines"], result.get("intervals")))
    if compare:
        typer.echo("\n" + format_comparison(result["comparison"], model or "the bundled model"))

