import numpy as np

from commentnlp.calibration import (apply_decision_thresholds, expected_calibration_error, find_decision_threshold,
                                    fit_temperature, softmax)


def test_temperature_scaling_fixes_overconfidence():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 2000)
    logits = rng.normal(size=(2000, 3))
    logits[np.arange(2000), y] += 1.0
    logits *= 6  # far too confident
    t = fit_temperature(logits, y)
    assert t > 2
    assert expected_calibration_error(softmax(logits, t), y) < expected_calibration_error(softmax(logits), y) / 2


def test_decision_thresholds():
    probs = np.array([[0.7, 0.3], [0.45, 0.55], [0.9, 0.1]])
    values = ("false", "true")
    assert apply_decision_thresholds(probs, values, None).tolist() == [0, 1, 0]
    assert apply_decision_thresholds(probs, values, {"true": 0.25}).tolist() == [1, 1, 0]
    assert apply_decision_thresholds(probs, values, {"true": 0.6}).tolist() == [0, 0, 0]
    three = np.array([[0.5, 0.2, 0.3], [0.1, 0.5, 0.4]])
    assert apply_decision_thresholds(three, ("a", "b", "c"), {"c": 0.3}).tolist() == [2, 2]


def test_find_decision_threshold_on_a_rare_class():
    rng = np.random.default_rng(1)
    y = (rng.random(3000) < 0.1).astype(int)
    p_true = np.clip(0.25 * y + rng.normal(0.2, 0.1, 3000), 0, 1)  # the rare class rarely wins argmax
    probs = np.stack([1 - p_true, p_true], axis=1)
    t, before, after = find_decision_threshold(probs, y, ["false", "true"], "true")
    assert t is not None and t < 0.5 and after > before + 0.1
    # a threshold that cannot help is not adopted
    perfect = np.stack([1 - y, y], axis=1).astype(float)
    assert find_decision_threshold(perfect, y, ["false", "true"], "true")[0] is None
