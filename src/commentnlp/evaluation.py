"""Per-head evaluation with scikit-learn: macro-F1, per-class precision/recall/F1, confusion matrix."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from .schema import HEAD_NAMES
from .userwarnings import warn

__all__ = ["head_report", "evaluate_labels", "evaluate", "evaluate_predictions", "predict_labels", "predict_records", "summary",
           "bootstrap_intervals", "compare_predictions", "seen_in_training"]


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


def _predictions(head: str, values: Sequence[Any]) -> list[Any]:
    """A head's predicted labels read as gold labels are (numpy bools or 0/1 for troll, ``"where to buy"``),
    ``"unsure"`` kept; a value that is no label of the head is a ValueError (numpy bools were a scikit-learn
    error, and "where to buy" was scored as wrong, silently)."""
    from .schema import HEADS_BY_NAME, UNSURE, LabelError, parse_label

    if head not in HEADS_BY_NAME:
        return [_as_str(v) for v in values]
    out = []
    for i, value in enumerate(values):
        try:
            label = value if isinstance(value, str) and value == UNSURE else parse_label(head, value)
        except LabelError as exc:
            raise ValueError(f"predicted[{head!r}][{i}]: {exc}") from None
        if label is None:  # a scikit-learn TypeError comparing None with the labels
            raise ValueError(f"predicted[{head!r}][{i}] is {value!r}: a prediction is one of the head's labels")
        out.append(label)
    return out


def evaluate_labels(
    records: Sequence[Mapping[str, Any]],
    predicted: Mapping[str, Sequence[Any]],
    heads: Mapping[str, Sequence[str]],
) -> dict[str, Any]:
    """Compare predicted labels (per head, aligned with ``records``) with the records' gold labels.

    Gold labels are read as a file's are (:func:`~commentnlp.data.gold_labels`: troll ``"yes"``,
    ``"Where to buy"``; an invalid one is a DataError naming its record). Macro-F1 is averaged over
    the classes present in the gold labels. Records that do not label a head are left out of that
    head (a head nobody labels is left out).
    """
    from .data import gold_labels

    records = gold_labels(records)  # a label not read as the schema's was silently left out of its class
    report: dict[str, Any] = {}
    for head, labels in heads.items():
        if all(r.get(head) is None for r in records):  # a head no record labels: its predictions go unread
            continue
        pairs = [(_as_str(r.get(head)), p) for r, p in zip(records, _predictions(head, predicted[head]))
                 if r.get(head) is not None]
        report[head] = head_report([a for a, _ in pairs], [b for _, b in pairs], labels)
    return report


#: At most this many resampled record indices are held at once by :func:`bootstrap_intervals`.
BOOTSTRAP_CELLS = 2_000_000

#: Headline one-vs-rest figures: ``{metric: (head, label)}``.
ONE_VS_REST = {"where_to_buy_f1": ("intent", "where_to_buy"), "troll_true_f1": ("troll", "true")}


def summary(report: Mapping[str, Any]) -> dict[str, float]:
    """The headline figures: macro-F1 per head, where_to_buy F1 and troll=true F1."""
    out = {f"{h}_macro_f1": report[h]["macro_f1"] for h in HEAD_NAMES if h in report}
    for metric, (head, label) in ONE_VS_REST.items():
        if head in report and report[head]["per_class"].get(label, {}).get("support"):
            out[metric] = report[head]["per_class"][label]["f1"]
    return out


def _encoded(records: Sequence[Mapping[str, Any]], predicted: Mapping[str, Sequence[Any]],
             heads: Mapping[str, Sequence[str]]) -> dict[str, tuple[np.ndarray, np.ndarray, list[str]]]:
    """Per head: gold and predicted class indices (gold -1 = unlabelled, prediction k = outside the labels);
    ``records`` with their gold labels read already (:func:`~commentnlp.data.gold_labels`)."""
    out = {}
    for head, labels in heads.items():
        index = {lab: i for i, lab in enumerate(labels)}
        gold = np.array([-1 if r.get(head) is None else index[_as_str(r[head])] for r in records])
        if head in predicted and (gold >= 0).any():
            pred = np.array([index.get(p, len(labels)) for p in _predictions(head, predicted[head])])
            out[head] = (gold, pred, list(labels))
    return out


def _summary_arrays(encoded: Mapping[str, tuple[np.ndarray, np.ndarray, list[str]]], sample: np.ndarray,
                    ) -> dict[str, np.ndarray]:
    """:func:`summary`'s figures for many resamples at once (``sample``: rows of record indices)."""
    out = {}
    for head, (gold, pred, labels) in encoded.items():
        k = len(labels)
        g, p = gold[sample], pred[sample]
        labelled = g >= 0
        rows = np.arange(len(sample))[:, None]
        counts = np.zeros((3, len(sample), k + 1))
        np.add.at(counts[0], (rows, np.where(labelled, g, k)), labelled)  # gold per class
        np.add.at(counts[1], (rows, p), labelled)  # predicted per class
        np.add.at(counts[2], (rows, p), labelled & (g == p))  # true positives
        gold_n, pred_n, tp = counts[:, :, :k]
        f1 = np.divide(2 * tp, gold_n + pred_n, out=np.zeros_like(tp), where=gold_n + pred_n > 0)
        present = gold_n > 0
        out[f"{head}_macro_f1"] = (f1 * present).sum(1) / np.maximum(present.sum(1), 1)
        for metric, (of_head, value) in ONE_VS_REST.items():
            if head == of_head and value in labels and (gold == labels.index(value)).any():
                out[metric] = f1[:, labels.index(value)]
    return out


def bootstrap_intervals(
    records: Sequence[Mapping[str, Any]],
    predicted: Mapping[str, Sequence[Any]],
    heads: Mapping[str, Sequence[str]],
    reference: Mapping[str, Sequence[Any]] | None = None,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, dict[str, float]]:
    """Percentile-bootstrap confidence intervals of the :func:`summary` figures.

    Records are resampled with replacement ``n_resamples`` times. With ``reference``
    predictions (another system, same records) the resamples are paired and each figure also
    gets the interval of ``reference - predicted`` (``diff_low``/``diff_high``) and
    ``p_not_better``: the share of resamples where ``reference`` does not score higher.
    """
    n = len(records)
    rng = np.random.default_rng(seed)
    from .data import gold_labels

    records = gold_labels(records)  # once for both ("True" or "Where to buy" were no class: a KeyError)
    ours_enc = _encoded(records, predicted, heads)
    theirs_enc = _encoded(records, reference, heads) if reference is not None else {}
    ours: dict[str, list[np.ndarray]] = {}
    theirs: dict[str, list[np.ndarray]] = {}
    chunk = max(1, min(n_resamples, BOOTSTRAP_CELLS // max(n, 1)))  # bounded memory on large sets
    for start in range(0, n_resamples, chunk):
        sample = rng.integers(0, n, size=(min(chunk, n_resamples - start), n))
        for acc, enc in ((ours, ours_enc), (theirs, theirs_enc)):
            for metric, values in (_summary_arrays(enc, sample) if enc else {}).items():
                acc.setdefault(metric, []).append(values)
    alpha = (1 - confidence) / 2
    order = [f"{h}_macro_f1" for h in HEAD_NAMES] + list(ONE_VS_REST)
    out = {}
    for metric in sorted(ours, key=order.index):
        values = np.concatenate(ours[metric])
        low, high = np.quantile(values, [alpha, 1 - alpha])
        out[metric] = {"low": round(float(low), 4), "high": round(float(high), 4)}
        if metric in theirs:
            diff = np.concatenate(theirs[metric]) - values
            d_low, d_high = np.quantile(diff, [alpha, 1 - alpha])
            out[metric].update(diff_low=round(float(d_low), 4), diff_high=round(float(d_high), 4),
                               p_not_better=round(float((diff <= 0).mean()), 4))
    return out


def predict_labels(classifier, texts: Sequence[str], batch_size: int | None = None,
                   is_reply: Sequence[bool | None] | None = None) -> tuple[dict[str, np.ndarray], dict[str, list[str]]]:
    """Calibrated probabilities and the labels users get (argmax, or the model's decision
    thresholds) per head, for a :class:`~commentnlp.classifier.Classifier`."""
    probs = classifier.predict_proba(list(texts), batch_size=batch_size, is_reply=is_reply)
    chosen = classifier.decide(probs)
    return probs, {h: [classifier.heads[h][i] for i in chosen[h]] for h in probs}


def predict_records(classifier, records: Sequence[Mapping[str, Any]], batch_size: int | None = None,
                    ) -> tuple[dict[str, np.ndarray], dict[str, list[str]]]:
    """:func:`predict_labels` of the records' texts, with their thread position where they give one
    (:func:`~commentnlp.exports.reply_of`), as ``commentnlp label`` would label them."""
    from .exports import reply_of

    return predict_labels(classifier, [r["text"] for r in records], batch_size, [reply_of(r) for r in records])


def unlabelled_heads_note(records: Sequence[Mapping[str, Any]]) -> str | None:
    """What to say of the heads no record labels (left out of the figures), naming fields that look like
    them under another name (``intent_label``, ``is_troll``): such a file was evaluated on the other heads
    without a word. None when every head is labelled somewhere."""
    missing = [h for h in HEAD_NAMES if all(r.get(h) is None for r in records)]
    if not missing:
        return None
    return f"no record labels {', '.join(missing)}: left out of the figures" + rename_hint(records, missing)


def rename_hint(records: Sequence[Mapping[str, Any]], heads: Sequence[str]) -> str:
    """`` (a head is read from its own name: rename 'is_troll' to troll)`` for the fields of the first
    records that look like ``heads`` under another name (``intent_label``, ``is_troll``), or `` (the column
    'Troll?' is empty)`` for one read as a head that holds no label; else ``""``."""
    from .data import head_column

    fields = dict.fromkeys(k for r in records[:100] for k in r if isinstance(k, str) and k not in HEAD_NAMES)
    read = {h: head_column(fields, h) for h in heads}  # read as the head, and empty
    empty = [f"{read[h]!r}" for h in heads if read[h]]
    alike = [f"{k!r} to {h}" for h in heads for k in fields if h in k.lower() and k != read[h]]
    said = ([f"{'columns' if len(empty) > 1 else 'the column'} {', '.join(empty)} {'are' if len(empty) > 1 else 'is'} "
             "empty"] if empty else []) + ([f"a head is read from its own name: rename {', '.join(alike)}"] if alike else [])
    return f" ({'; '.join(said)})" if said else ""


def evaluate(classifier, data: str | Path | Sequence[Mapping[str, Any]] | Any, batch_size: int | None = None,
             confidence_intervals: bool = False, check_seen: bool = True, text_field: str | None = None) -> dict[str, Any]:
    """Evaluate a :class:`~commentnlp.classifier.Classifier` on a labeled file, records or a DataFrame.

    Records are validated and normalised as a file's are (:func:`~commentnlp.data.labeled_records`:
    the text from an export's field, labels as LABELING.md reads them, an empty text left out with
    a warning); an invalid one is a :class:`~commentnlp.data.DataError` naming it by its index, ``records[N]``.
    ``text_field`` names the field that holds the comment, as ``label``'s does (e.g. ``"Hit Sentence"``).

    Returns ``{"n", "heads", "summary"}`` and, with ``confidence_intervals=True``,
    ``"intervals"``: 95% bootstrap intervals of the summary figures (:func:`bootstrap_intervals`);
    with ``check_seen`` (the default), ``"seen_in_training"`` too where the model keeps its training
    texts' hashes, and a warning when it was trained on some of the records (:func:`seen_in_training`).
    """
    from .data import labeled_records, read_labeled

    from .exports import rows_of

    data = rows_of(data)  # a DataFrame: iterating it gave its column names
    records = read_labeled(data, text_field) if isinstance(data, (str, Path)) else labeled_records(data, text_field)
    unlabelled = unlabelled_heads_note(records)
    if unlabelled:
        warn(unlabelled)
    _, predicted = predict_records(classifier, records, batch_size)
    result = evaluate_predictions(records, predicted, classifier.heads, confidence_intervals)
    seen = seen_in_training(classifier, [r["text"] for r in records]) if check_seen else None
    if seen is not None:
        result["seen_in_training"] = seen
    return result


def seen_in_training(classifier, texts: Sequence[str]) -> dict[str, int] | None:
    """How many of ``texts`` (case, punctuation and spacing aside) a model was trained on:
    ``{"train": n, "dev": n, "either": n}``, from the hashes its directory keeps (``None`` for a
    model saved without them). Warns (``UserWarning``) when any were: figures on them overstate how
    the model labels comments it has not seen."""

    from .data import text_hashes
    from .serialization import read_training_texts, training_texts_key_version

    model_dir = Path(getattr(classifier, "model_dir", classifier))
    known = read_training_texts(model_dir)
    if known is None:
        return None
    hashes = text_hashes(texts, training_texts_key_version(model_dir))  # the key the model's hashes were made of
    hits = {split: np.isin(hashes, known[split]) for split in sorted(known, key=("train", "dev").index)}
    seen = {split: int(hit.sum()) for split, hit in hits.items()}
    seen["either"] = int(np.logical_or.reduce(list(hits.values())).sum()) if hits else 0
    if seen["either"]:
        splits = ", ".join(f"{n} in {split}" for split, n in seen.items() if split != "either" and n)
        warn(f"{seen['either']} of the {len(hashes)} records were in the training data of {model_dir.name} "
             f"({splits}; dev picked its epoch and thresholds): figures on them overstate how it labels new comments")
    return seen


def evaluate_predictions(records: Sequence[Mapping[str, Any]], predicted: Mapping[str, Sequence[Any]],
                         heads: Mapping[str, Sequence[str]], confidence_intervals: bool = False,
                         reference: Mapping[str, Sequence[Any]] | None = None) -> dict[str, Any]:
    """``{"n", "heads", "summary"}`` of labels predicted for ``records`` (any system), plus
    ``"intervals"`` (:func:`bootstrap_intervals`, paired with ``reference`` when given)."""
    report = evaluate_labels(records, predicted, heads)
    result: dict[str, Any] = {"n": len(records), "heads": report, "summary": summary(report)}
    if confidence_intervals or reference is not None:
        result["intervals"] = bootstrap_intervals(records, predicted, heads, reference=reference)
    return result


def compare_predictions(records: Sequence[Mapping[str, Any]], predicted: Mapping[str, Sequence[Any]],
                        other: Mapping[str, Sequence[Any]], heads: Mapping[str, Sequence[str]],
                        ) -> dict[str, dict[str, float]]:
    """Headline figures of two systems on the same records, and their difference.

    Per :func:`summary` figure: ``model`` (``predicted``), ``other``, ``difference``
    (model minus other) and its paired 95% bootstrap interval (``low``, ``high``). An interval
    that contains 0 means the evaluation set cannot tell the two apart on that figure.
    """
    ours = summary(evaluate_labels(records, predicted, heads))
    theirs = summary(evaluate_labels(records, other, heads))
    paired = bootstrap_intervals(records, other, heads, reference=predicted)
    return {metric: {"model": ours[metric], "other": theirs[metric],
                     "difference": round(ours[metric] - theirs[metric], 4),
                     "low": paired[metric]["diff_low"], "high": paired[metric]["diff_high"]}
            for metric in ours if metric in paired}
