import numpy as np
import pytest

from commentnlp.calibration import (apply_decision_thresholds, expected_calibration_error, find_decision_threshold,
                                    fit_temperature, softmax, with_threshold)


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


def test_find_decision_threshold_sweeps_with_the_heads_other_thresholds_applied():
    """It swept one label as if the head had no other threshold: where_to_buy's, which takes
    comments before product_question's argmax can, changed the figures the saved model gets."""
    rng = np.random.default_rng(2)
    values = ["where_to_buy", "product_question", "social"]
    probs = rng.dirichlet([1.0, 1.0, 1.0], 400)
    y = np.where(probs[:, 1] > 0.3, 1, np.where(probs[:, 0] > 0.5, 0, 2))
    saved = {"where_to_buy": 0.2, "product_question": 0.6}
    t, now, after = find_decision_threshold(probs, y, values, "product_question", thresholds=saved)
    assert t is not None and t != 0.6

    def f1(thresholds):
        pred = apply_decision_thresholds(probs, values, thresholds)
        return 2 * ((pred == 1) & (y == 1)).sum() / ((pred == 1).sum() + (y == 1).sum())

    assert now == pytest.approx(f1(saved)) and after == pytest.approx(f1({"where_to_buy": 0.2, "product_question": t}))
    assert after != pytest.approx(find_decision_threshold(probs, y, values, "product_question")[2])
    assert list(with_threshold(saved, "where_to_buy", 0.4)) == ["where_to_buy", "product_question"]  # its place kept
    assert with_threshold(saved, "product_question", None) == {"where_to_buy": 0.2}


def test_a_labels_own_threshold_stays_unless_another_or_none_beats_it_by_the_minimum_gain():
    """A threshold that beat none by less than 0.005 was reported as 'no better than none' and removed."""
    values = ["a", "b"]
    probs = np.array([[p, 1 - p] for p in (0.9, 0.8, 0.7, 0.62, 0.55, 0.48, 0.45, 0.3, 0.2, 0.1)])
    y = np.array([0, 0, 0, 0, 1, 0, 1, 1, 1, 1])

    def f1(threshold):
        pred = apply_decision_thresholds(probs, values, {} if threshold is None else {"a": threshold})
        return 2 * ((pred == 0) & (y == 0)).sum() / ((pred == 0).sum() + (y == 0).sum())

    assert f1(0.475) > f1(None)  # its own beats none...
    t, now, after = find_decision_threshold(probs, y, values, "a", min_gain=1.0, thresholds={"a": 0.475})
    assert (t, now, after) == (0.475, pytest.approx(f1(0.475)), pytest.approx(f1(0.475)))  # ...by too little to move
    assert find_decision_threshold(probs, y, values, "a", min_gain=1.0)[0] is None  # none stays none
    t, now, after = find_decision_threshold(probs, y, values, "a", thresholds={"a": 0.85})  # a poor one is replaced
    assert t is not None and after > now and after == pytest.approx(f1(t))


def test_finalize_fits_decision_thresholds_on_the_threshold_set(tmp_path, tiny_model_dir):
    import shutil

    from commentnlp.serialization import read_config
    from commentnlp.trainer import finalize

    from toydata import toy_records

    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    records = toy_records()
    dev = [r for r in records if r["intent"] != "where_to_buy"][:60]  # no where_to_buy: dev could fit no threshold
    held_out = [dict(r, source="corpus:x") for r in records]
    assert sum(r["intent"] == "where_to_buy" for r in held_out) >= 30
    logged = []
    finalize(model, dev, {}, logged.append, threshold_set=held_out)
    fitted_on = read_config(model).metrics["decision_thresholds_fitted_on"]
    n_wtb = sum(r["intent"] == "where_to_buy" for r in held_out)
    assert fitted_on["intent=where_to_buy"] == f"{len(held_out)} held-out real comments ({n_wtb} examples)"
    assert not any("where_to_buy: 0 examples in dev" in m for m in logged)
    assert f"intent=where_to_buy on {len(held_out)} held-out real comments" in (model / "README.md").read_text()
    logged.clear()
    finalize(model, dev, {}, logged.append)
    assert "intent=where_to_buy" not in read_config(model).metrics["decision_thresholds_fitted_on"]
    assert "no decision threshold for intent=where_to_buy: 0 examples in dev" in logged


def test_fit_class_offset_recovers_a_known_shift():
    from commentnlp.calibration import fit_class_offset

    rng = np.random.default_rng(0)
    logits = rng.normal(0, 2, size=(4000, 2))
    for shift in (0.0, 1.5, -2.0):
        p = softmax(logits + np.array([0.0, shift]))
        y = (rng.random(len(p)) < p[:, 1]).astype(int)
        assert abs(fit_class_offset(logits, y, 1) - shift) <= 0.2
    assert fit_class_offset(logits[:0], y[:0], 1) == 0.0


def test_finalize_fits_thread_position_offsets_on_comments_whose_position_is_known(tmp_path, tiny_model_dir):
    import shutil

    from commentnlp.classifier import Classifier
    from commentnlp.serialization import read_config
    from commentnlp.trainer import finalize

    from toydata import toy_records

    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    records = toy_records()
    dev = records[:60]
    # replies are all community and top-level comments all audience, whatever the (random) model says
    held_out = [dict(r, source="corpus:x", comment_type=kind, style="community" if kind == "reply" else "audience")
                for kind in ("reply", "initial") for r in records[:40]] + [dict(r, source="corpus:x") for r in records[40:80]]
    logged = []
    finalize(model, dev, {}, logged.append, threshold_set=held_out)
    config = read_config(model)
    offsets = config.position_offsets["style"]
    assert offsets["reply"][0] == 0.0 and offsets["reply"][1] > 2 and offsets["initial"][1] < -2
    assert config.metrics["position_offsets_fitted_on"] == {
        "style/reply": f"{len(held_out)} held-out real comments (40 reply comments)",
        "style/initial": f"{len(held_out)} held-out real comments (40 initial comments)"}
    assert "style/reply on 120 held-out real comments" in (model / "README.md").read_text()
    clf = Classifier.load(model)
    texts = [r["text"] for r in records[:40]]
    assert {p.style for p in clf.predict(texts, is_reply=[True] * 40)} == {"community"}
    assert {p.style for p in clf.predict(texts, is_reply=[False] * 40)} == {"audience"}
    # no comment with a known position: no offsets, and the log says why
    logged.clear()
    finalize(model, dev, {}, logged.append, threshold_set=held_out[80:])
    assert read_config(model).position_offsets == {}
    assert any(m.startswith("no reply offset for style") for m in logged)
