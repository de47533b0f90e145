"""Per-head evaluation with scikit-learn: macro-F1, per-class precision/recall/F1, confusion matrix."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from .schema import HEAD_NAMES

__all__ = ["head_report", "evaluate_labels", "evaluate", "predict_labels", "summary"]


def head_report(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """Metrics of one head; ``labels`` fixes class order (predictions outside it count as errors)."""
    labels = list(labels)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    present = [i for i, lab in enumerate(labels) if s[i] > 0]
    macro = float(np.mean([f[i] for i in present])) if present else 0.0
    return {
        "n": len(y_true),
        "macro_f1": round(macro, 4),
        "accuracy": round(float(np.mean([a == b for a, b in zip(y_true, y_pred)])) if y_true else 0.0, 4),
        "per_class": {
            lab: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                  "f1": round(float(f[i]), 4), "support": int(s[i])}
            for i, lab in enumerate(labels)
        },
        "labels": labels,
        "confusion": confusion_matrix(y_true, y_pred, labels=labels).tolist() if y_true else [],
    }


def _as_str(v: Any) -> Any:
    return ("true" if v else "false") if isinstance(v, bool) else v


def evaluate_labels(
    records: Sequence[Mapping[str, Any]],
    predicted: Mapping[str, Sequence[Any]],
    heads: Mapping[str, Sequence[str]],
) -> dict[str, Any]:
    """Compare predicted labels (per head, aligned with ``records``) with the records' gold labels.

    Macro-F1 is averaged over the classes present in the gold labels. Records that
    do not label a head are left out of that head (a head nobody labels is left out).
    """
    report: dict[str, Any] = {}
    for head, labels in heads.items():
        pairs = [(_as_str(r.get(head)), _as_str(p)) for r, p in zip(records, predicted[head])
                 if r.get(head) is not None]
        if not pairs:
            continue
        report[head] = head_report([a for a, _ in pairs], [b for _, b in pairs], labels)
    return report


def summary(report: Mapping[str, Any]) -> dict[str, float]:
    """The headline figures: macro-F1 per head, where_to_buy F1 and troll=true F1."""
    out = {f"{h}_macro_f1": report[h]["macro_f1"] for h in HEAD_NAMES if h in report}
    if "intent" in report and report["intent"]["per_class"]["where_to_buy"]["support"]:
        out["where_to_buy_f1"] = report["intent"]["per_class"]["where_to_buy"]["f1"]
    if "troll" in report and report["troll"]["per_class"]["true"]["support"]:
        out["troll_true_f1"] = report["troll"]["per_class"]["true"]["f1"]
    return out


def predict_labels(classifier, texts: Sequence[str], batch_size: int = 64,
                   ) -> tuple[dict[str, np.ndarray], dict[str, list[str]]]:
    """Calibrated probabilities and the labels users get (argmax, or the model's decision
    thresholds) per head, for a :class:`~commentnlp.classifier.Classifier`."""
    probs = classifier.predict_proba(list(texts), batch_size=batch_size)
    chosen = classifier.decide(probs)
    return probs, {h: [classifier.heads[h][i] for i in chosen[h]] for h in probs}


def evaluate(classifier, data: str | Path | Sequence[Mapping[str, Any]], batch_size: int = 64) -> dict[str, Any]:
    """Evaluate a :class:`~commentnlp.classifier.Classifier` on a labeled JSONL file or records."""
    from .data import read_labeled

    records = read_labeled(data) if isinstance(data, (str, Path)) else list(data)
    _, predicted = predict_labels(classifier, [r["text"] for r in records], batch_size)
    report = evaluate_labels(records, predicted, classifier.heads)
    return {"n": len(records), "heads": report, "summary": summary(report)}
