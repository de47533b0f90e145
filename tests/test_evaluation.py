import numpy as np
import pytest

from commentnlp.evaluation import (_encoded, _summary_arrays, bootstrap_intervals, compare_predictions,
                                   evaluate_labels, summary)
from commentnlp.schema import HEADS_BY_NAME, HEAD_NAMES

HEADS = {h: list(HEADS_BY_NAME[h].values) for h in HEAD_NAMES}


def _gold(n=300, seed=0):
    rng = np.random.default_rng(seed)
    # about 1 record in 10 does not label a given head
    return [{"text": "x", **{h: None if rng.random() < 0.1 else v[rng.integers(len(v))] for h, v in HEADS.items()}}
            for _ in range(n)]


def _guesses(records, accuracy, seed=0):
    rng = np.random.default_rng(seed)
    return {h: [r[h] if r[h] is not None and rng.random() < accuracy else v[rng.integers(len(v))] for r in records]
            for h, v in HEADS.items()}


def test_vectorised_figures_equal_the_summary_on_the_full_sample():
    records = _gold()
    predicted = _guesses(records, 0.7)
    expected = summary(evaluate_labels(records, predicted, HEADS))
    got = _summary_arrays(_encoded(records, predicted, HEADS), np.arange(len(records))[None])
    assert set(got) == set(expected)
    for metric, value in expected.items():
        assert got[metric][0] == pytest.approx(value, abs=1e-4), metric


def test_bootstrap_intervals_bracket_the_figures_and_compare_paired_systems():
    records = _gold(seed=1)
    weak, strong = _guesses(records, 0.5, seed=2), _guesses(records, 0.9, seed=3)
    figures = summary(evaluate_labels(records, weak, HEADS))
    intervals = bootstrap_intervals(records, weak, HEADS, reference=strong, n_resamples=300)
    assert list(intervals) == list(figures)
    for metric, value in figures.items():
        iv = intervals[metric]
        assert iv["low"] < value < iv["high"]
        assert 0 < iv["diff_low"] < iv["diff_high"] and iv["p_not_better"] == 0  # strong beats weak
    same = bootstrap_intervals(records, weak, HEADS, reference=weak, n_resamples=50)
    assert all(iv["diff_low"] == iv["diff_high"] == 0 and iv["p_not_better"] == 1 for iv in same.values())
    # the same seed gives the same intervals; resamples drawn in small chunks give close ones
    plain = {m: {"low": iv["low"], "high": iv["high"]} for m, iv in intervals.items()}
    assert bootstrap_intervals(records, weak, HEADS, n_resamples=300) == plain


def test_bootstrap_in_memory_bounded_chunks(monkeypatch):
    import commentnlp.evaluation as evaluation

    records = _gold(seed=4)
    predicted = _guesses(records, 0.6, seed=5)
    whole = bootstrap_intervals(records, predicted, HEADS, n_resamples=400)
    monkeypatch.setattr(evaluation, "BOOTSTRAP_CELLS", 7 * len(records))  # 7 resamples per chunk
    chunked = bootstrap_intervals(records, predicted, HEADS, n_resamples=400)
    for metric, iv in whole.items():
        assert chunked[metric]["low"] == pytest.approx(iv["low"], abs=0.03)
        assert chunked[metric]["high"] == pytest.approx(iv["high"], abs=0.03)


def test_compare_predictions_gives_the_paired_difference_of_two_systems():
    records = _gold(seed=6)
    weak, strong = _guesses(records, 0.5, seed=7), _guesses(records, 0.9, seed=8)
    figures = compare_predictions(records, strong, weak, HEADS)
    strong_summary, weak_summary = (summary(evaluate_labels(records, p, HEADS)) for p in (strong, weak))
    assert list(figures) == list(strong_summary)
    for metric, f in figures.items():
        assert f["model"] == strong_summary[metric] and f["other"] == weak_summary[metric]
        assert f["difference"] == pytest.approx(f["model"] - f["other"], abs=1e-4)
        assert 0 < f["low"] <= f["difference"] <= f["high"]  # strong is better beyond noise
    backwards = compare_predictions(records, weak, strong, HEADS)
    assert all(f["high"] < 0 for f in backwards.values())
    assert all(f["difference"] == f["low"] == f["high"] == 0 for f in compare_predictions(records, weak, weak, HEADS).values())


def test_evaluate_gives_the_model_the_thread_position_a_record_holds(tiny_classifier, monkeypatch):
    from commentnlp.evaluation import evaluate

    monkeypatch.setattr(tiny_classifier.config, "position_offsets",
                        {"style": {"reply": [0.0, 50.0], "initial": [0.0, -50.0]}})
    records = [{"text": f"comment {i}", "style": "community", "comment_type": "reply"} for i in range(10)] + \
              [{"text": f"comment {i}", "style": "audience", "parent_id": None} for i in range(10)]
    assert evaluate(tiny_classifier, records)["summary"]["style_macro_f1"] == 1.0
    text_only = [{k: v for k, v in r.items() if k in ("text", "style")} for r in records]
    assert evaluate(tiny_classifier, text_only)["summary"]["style_macro_f1"] < 1.0


def test_evaluate_reads_records_as_it_reads_a_file(tiny_classifier, tmp_path):
    """Records given in memory skipped what a file's go through: troll "yes" or "Where to buy" were
    left out of their class (wrong figures), a 'message' field was KeyError 'text', confidence
    intervals KeyError 'True', and an empty text was scored."""
    import json

    from commentnlp.data import DataError
    from commentnlp.evaluation import evaluate

    rows = [{"message": f"comment {i}", "troll": ["True", "yes", 1, "no"][i % 4],
             "intent": ["Where to buy", "product-question", " social "][i % 3], "sentiment": " Positive "}
            for i in range(24)]
    rows.append({"text": " \u200b", "intent": "social"})
    path = tmp_path / "same.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.warns(UserWarning, match=r"^1 record with an empty text left out \(records\[24\]\)"):
        result = evaluate(tiny_classifier, rows, confidence_intervals=True, check_seen=False)
    with pytest.warns(UserWarning, match="1 record with an empty text left out"):
        assert result == evaluate(tiny_classifier, path, confidence_intervals=True, check_seen=False)
    assert result["n"] == 24 and result["heads"]["troll"]["per_class"]["true"]["support"] == 18
    assert result["heads"]["intent"]["per_class"]["where_to_buy"]["support"] == 8
    assert result["heads"]["sentiment"]["per_class"]["positive"]["support"] == 24
    with pytest.raises(DataError, match=r"^records\[1\]: 'maybe' is not a valid 'troll' label"):
        evaluate(tiny_classifier, [rows[0], {**rows[1], "troll": "maybe"}])
    with pytest.raises(DataError, match=r"^records\[0\]: a record needs a string 'text'"):
        evaluate(tiny_classifier, [{"body_html": "<p>hi</p>", "intent": "social"}])
    with pytest.raises(DataError, match="^the records: no record labels any head"):
        evaluate(tiny_classifier, [{"text": "hi", "labels": {"intent": "social"}}])


def test_evaluate_predictions_reads_gold_labels_as_a_file_does():
    """Gold labels such as troll "True" or intent "Where to buy" were no class: left out of the
    figures, and KeyError 'True' with intervals."""
    from commentnlp.data import DataError
    from commentnlp.evaluation import evaluate_predictions

    records = [{"troll": "True", "intent": "Where to buy"}, {"troll": 0, "intent": " social "}] * 10
    predicted = {"troll": ["true", "false"] * 10, "intent": ["where_to_buy", "social"] * 10}
    heads = {"intent": HEADS["intent"], "troll": HEADS["troll"]}
    result = evaluate_predictions(records, predicted, heads, confidence_intervals=True)
    assert result["summary"] == {"intent_macro_f1": 1.0, "troll_macro_f1": 1.0, "where_to_buy_f1": 1.0,
                                 "troll_true_f1": 1.0}
    assert result["intervals"]["troll_true_f1"] == {"low": 1.0, "high": 1.0}
    assert compare_predictions(records, predicted, predicted, heads)["where_to_buy_f1"]["model"] == 1.0
    with pytest.raises(DataError, match=r"^records\[1\]: 'banana' is not a valid 'intent' label"):
        evaluate_labels([records[0], {"intent": "banana"}], predicted, heads)


def test_evaluate_reads_a_dataframe_its_empty_cells_and_warns_of_unlabelled_heads_as_the_cli(tiny_classifier):
    """A DataFrame was iterated for its column names ('this line is a string'); its empty text cell (NaN) was
    an error where the CSV's was left out; a head under another name was dropped without a word (the CLI warns)."""
    import warnings

    from commentnlp.evaluation import evaluate

    import pandas as pd

    df = pd.DataFrame({"text": ["where can i buy it", float("nan"), "lol"], "intent": ["where_to_buy", "social", "social"],
                       "is_troll": [False, False, True]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = evaluate(tiny_classifier, df)
    messages = [str(w.message) for w in caught]
    assert result["n"] == 2 and set(result["heads"]) == {"intent"}
    assert any(m.startswith("1 record with an empty text left out (records[1])") for m in messages)
    assert "no record labels style, sentiment, troll: left out of the figures (a head is read from its own name: " \
           "rename 'is_troll' to troll)" in messages
    assert all(w.filename == __file__ for w in caught)  # the caller's line, not one inside commentnlp


def test_predictions_are_read_as_gold_labels_are(tiny_classifier):
    """numpy bools for troll were a scikit-learn 'Mix of label input types' error; 'where to buy' was scored wrong."""
    import numpy as np

    from commentnlp.evaluation import evaluate_predictions

    records = [{"text": "a", "troll": True, "intent": "where_to_buy"}, {"text": "b", "troll": False, "intent": "social"}]
    others = {"style": [None, None], "sentiment": [None, None]}
    for predicted in ({"troll": np.array([True, False]), "intent": ["where to buy", "Social"], **others},
                      {"troll": [1, 0], "intent": np.array(["where_to_buy", "social"]), **others}):
        for ci in (False, True):
            summary = evaluate_predictions(records, predicted, tiny_classifier.heads, confidence_intervals=ci)["summary"]
            assert summary["intent_macro_f1"] == summary["troll_macro_f1"] == 1.0
    with pytest.raises(ValueError, match=r"predicted\['intent'\]\[1\]: 'banana' is not a valid 'intent' label"):
        evaluate_predictions(records, {"troll": [1, 0], "intent": ["social", "banana"], **others}, tiny_classifier.heads)
    with pytest.raises(ValueError, match=r"predicted\['troll'\]\[1\] is None: a prediction is one of the head's labels"):
        evaluate_predictions(records, {"troll": [1, None], "intent": ["social", "social"], **others}, tiny_classifier.heads)
    # a head no record labels: its predictions are not read (style's 'foo' is no label)
    evaluate_predictions(records, {"troll": [1, 0], "intent": ["social", "social"], "style": ["foo", "bar"],
                                   "sentiment": [None, None]}, tiny_classifier.heads)
