"""Score calibration: temperature scaling per head, expected calibration error, abstain thresholds."""

from __future__ import annotations

from typing import Mapping

import numpy as np

__all__ = ["fit_temperature", "fit_class_offset", "expected_calibration_error", "softmax", "threshold_for_precision",
           "apply_decision_thresholds", "find_decision_threshold", "with_threshold"]


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = logits / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _nll(logits: np.ndarray, y: np.ndarray, temperature: float) -> float:
    p = softmax(logits, temperature)[np.arange(len(y)), y]
    return float(-np.log(np.clip(p, 1e-12, None)).mean())


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """Temperature minimising the negative log-likelihood of ``y`` (searched on a log grid, then refined)."""
    if len(y) == 0:
        return 1.0
    grid = np.exp(np.linspace(np.log(0.05), np.log(20.0), 121))
    best = min(grid, key=lambda t: _nll(logits, y, t))
    fine = best * np.exp(np.linspace(-0.06, 0.06, 25))
    return float(round(min(fine, key=lambda t: _nll(logits, y, t)), 4))


def fit_class_offset(logits: np.ndarray, y: np.ndarray, cls: int) -> float:
    """Offset added to class ``cls``'s (temperature-scaled) logit that minimises the negative
    log-likelihood of ``y``: how much a known trait of these comments shifts the odds of ``cls``.
    Searched in steps of 0.05 over [-8, 8]."""
    if len(y) == 0:
        return 0.0
    shift = np.zeros(logits.shape[1])
    shift[cls] = 1.0
    grid = np.round(np.arange(-8.0, 8.0001, 0.05), 2)
    return float(min(grid, key=lambda b: (_nll(logits + b * shift, y, 1.0), abs(b))))


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, n_bins: int = 15) -> float:
    """ECE of the top-class confidence over ``n_bins`` equal-width bins."""
    if len(y) == 0:
        return 0.0
    conf = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == y).astype(float)
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        sel = bins == b
        if sel.any():
            ece += sel.mean() * abs(correct[sel].mean() - conf[sel].mean())
    return float(ece)


def threshold_for_precision(probs: np.ndarray, y: np.ndarray, target: float = 0.9) -> float:
    """Smallest top-score threshold at which the kept predictions reach ``target`` accuracy.

    Returns 0.0 (never abstain) when all predictions already meet it, and the
    highest threshold seen when none does.
    """
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y
    for t in np.linspace(0.0, 0.99, 100):
        kept = conf >= t
        if kept.sum() >= max(5, 0.2 * len(y)) and correct[kept].mean() >= target:
            return float(round(t, 2))
    return 0.99


def apply_decision_thresholds(probs: np.ndarray, values: tuple[str, ...] | list[str],
                              thresholds: dict[str, float] | None) -> np.ndarray:
    """Class index per row, where a thresholded class is chosen iff its score reaches its threshold.

    ``thresholds`` maps class names to a minimum score (e.g. ``{"true": 0.35}`` for troll,
    ``{"where_to_buy": 0.3}`` for intent); other rows take the best remaining class. When
    several thresholded classes pass, the highest-scoring one wins.
    """
    if not thresholds:
        return probs.argmax(axis=1)
    cols = [list(values).index(name) for name in thresholds]
    ts = np.array(list(thresholds.values()))
    free = probs.copy()
    free[:, cols] = -1.0  # thresholded classes only win through their threshold
    pred = free.argmax(axis=1)
    scores = probs[:, cols]
    passed = scores >= ts
    if passed.any():
        masked = np.where(passed, scores, -1.0)
        winner = masked.argmax(axis=1)
        pred = np.where(passed.any(axis=1), np.asarray(cols)[winner], pred)
    return pred


def _f1(y: np.ndarray, pred: np.ndarray, j: int) -> float:
    """One-vs-rest F1 of class index ``j``."""
    from sklearn.metrics import f1_score

    return float(f1_score(y == j, pred == j, zero_division=0.0))


def with_threshold(thresholds: Mapping[str, float] | None, label: str, threshold: float | None) -> dict[str, float]:
    """A head's ``thresholds`` with ``label``'s set to ``threshold`` (``None``: removed), the others kept.

    A label that had one keeps its place: when several thresholded classes tie, the first wins,
    so a sweep and the model's saved config must order them alike."""
    out = dict(thresholds or {})
    if threshold is None:
        out.pop(label, None)
    else:
        out[label] = threshold
    return out


#: The F1 a threshold must gain to move a decision (a small dev set should not move it)
MIN_GAIN = 0.005


def find_decision_threshold(probs: np.ndarray, y: np.ndarray, values: list[str], label: str,
                            min_gain: float = MIN_GAIN, thresholds: Mapping[str, float] | None = None,
                            ) -> tuple[float | None, float, float]:
    """Threshold on ``label``'s score that maximises its one-vs-rest F1 on ``(probs, y)``, with the
    head's other ``thresholds`` (a model's ``decision_thresholds`` of that head) applied, as the
    model with it saved decides.

    Returns ``(threshold or None, F1 with thresholds as given, F1 with the threshold returned)``. The
    decision moves only for a gain of ``min_gain`` (a small dev set should not move it): the best
    threshold when it beats both the label's current one (its own, if it has one) and none by that
    much; else none, when none beats the current one by that much; else the current one.
    """
    j = list(values).index(label)

    def f1_at(t: float | None) -> float:
        return _f1(y, apply_decision_thresholds(probs, values, with_threshold(thresholds, label, t)), j)

    current = (thresholds or {}).get(label)
    now = f1_at(current)
    base = f1_at(None)
    best_t, best_f1 = None, base
    for t in np.round(np.arange(0.05, 0.951, 0.025), 3):
        f1 = f1_at(float(t))
        if f1 > best_f1 + 1e-9:
            best_t, best_f1 = float(t), f1
    if best_t is not None and best_f1 >= max(base, now) + min_gain:
        return best_t, now, best_f1
    if current is not None and base < now + min_gain:  # removing it gains too little (or loses): it stays
        return current, now, now
    return None, now, base
