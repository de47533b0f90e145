"""Score calibration: temperature scaling per head, expected calibration error, abstain thresholds."""

from __future__ import annotations

import numpy as np

__all__ = ["fit_temperature", "expected_calibration_error", "softmax", "threshold_for_precision"]


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
