from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from commentnlp.classifier import UNSURE, Classifier, Prediction, classify
from commentnlp.serialization import ModelLoadError

TEXTS = ["where can I buy this in Ohio?", "🔥🔥🔥", "you people are clowns 🤡", "My order #4417 never arrived and no one answers",
         "", "a" * 5000, "@mike they have it at Costco now, grabbed two boxes 🙌"]


def test_single_text_gives_one_prediction_and_list_gives_list(tiny_classifier):
    one = tiny_classifier.predict("Do you ship to Canada??")
    many = tiny_classifier.predict(["Do you ship to Canada??", "lol"])
    assert isinstance(one, Prediction) and isinstance(many, list) and len(many) == 2
    assert one.labels == many[0].labels
    assert tiny_classifier.predict([]) == []


def test_prediction_fields(tiny_classifier):
    p = tiny_classifier.predict("Is the dark one gluten free?")
    assert p.style in ("audience", "community")
    assert p.intent in tiny_classifier.heads["intent"]
    assert isinstance(p.troll, bool)
    for head, scores in p.scores.items():
        assert set(scores) == set(tiny_classifier.heads[head])
        assert abs(sum(scores.values()) - 1) < 1e-3
    assert p.action and p.action_id
    d = p.to_dict()
    assert set(d) == {"labels", "scores", "action", "action_id"} and d["labels"]["troll"] == p.troll
    d["scores"]["intent"][p.intent] = 123.0  # a copy: the prediction is frozen (it changed with it)
    assert p.scores["intent"][p.intent] != 123.0


class _RecordingBackend:
    """Stands in for a backend on ``device``: records each batch's shape, returns zero logits."""

    def __init__(self, device, heads):
        self.device, self.heads, self.shapes = device, heads, []

    def __call__(self, input_ids, attention_mask):
        self.shapes.append(input_ids.shape)
        return {h: np.zeros((len(input_ids), len(v)), dtype=np.float32) for h, v in self.heads.items()}


@pytest.mark.parametrize("device,batch", [("cpu", 32), ("cuda", 1024), ("cuda:1", 1024)])
def test_default_batch_size_is_large_on_a_gpu(tiny_classifier, device, batch):
    """No batch size given: 32 comments per batch on the CPU, 1024 on a GPU; a given one wins (its
    token budget grows with it)."""
    backend = _RecordingBackend(device, tiny_classifier.heads)
    clf = Classifier(tiny_classifier.model_dir, tiny_classifier.config, backend)
    texts = [f"comment number {i} about the new flavour" for i in range(1500)]
    assert len(clf.predict(texts)) == 1500
    assert max(shape[0] for shape in backend.shapes) == batch
    assert sum(shape[0] for shape in backend.shapes) == 1500
    backend.shapes.clear()
    clf.predict_proba(texts, batch_size=100)
    assert max(shape[0] for shape in backend.shapes) == 100


@pytest.mark.parametrize("backend,tolerance", [("torch", 1e-5), ("onnx", 1e-5), ("onnx-int8", 5e-2),
                                               ("onnx-cascade", 5e-3)])
def test_batching_and_sorting_do_not_change_results(tiny_model_dir, backend, tolerance):
    # int8 activations are quantised with one scale per batch, so int8 scores move with the batch:
    # within 5e-3 on the machines CI ran on before (an Intel Xeon with AMX among them), by up to 0.023
    # on an AVX2-only AMD EPYC (without VNNI, ONNX Runtime's u8 x s8 products saturate in 16 bits;
    # this random tiny model has large weights). The cascade sends this tiny model's near-even
    # answers to the fp32 graph again.
    clf = Classifier.load(tiny_model_dir, backend=backend)
    a = clf.predict_proba(TEXTS, batch_size=1)
    b = clf.predict_proba(TEXTS, batch_size=64)
    c = clf.predict_proba(TEXTS[::-1], batch_size=3)
    for head in a:
        np.testing.assert_allclose(a[head], b[head], atol=tolerance)
        np.testing.assert_allclose(a[head], c[head][::-1], atol=tolerance)


def _logits(rows: list[list[float]]) -> dict[str, np.ndarray]:
    return {"style": np.asarray(rows, dtype=np.float32)}


def test_close_calls_are_labels_a_small_move_of_two_logits_would_change(tiny_classifier, monkeypatch):
    clf = Classifier(tiny_classifier.model_dir, tiny_classifier.config, None)
    monkeypatch.setattr(clf.config, "temperatures", {"style": 1.7})  # argmax: no effect on which labels change
    monkeypatch.setattr(clf.config, "decision_thresholds", {})
    monkeypatch.setattr(clf.config, "position_offsets", {})
    # label margins 0.25, 0.35, 0: both logits move 0.15, so a margin below 0.3 can change
    logits = _logits([[1.0, 1.25], [1.35, 1.0], [0.5, 0.5]])
    assert clf.close_calls(logits, 0.15).tolist() == [True, False, True]
    assert clf.close_calls(logits, 0.2).tolist() == [True, True, True]
    assert clf.close_calls(logits, 0.1).tolist() == [False, False, True]


def test_close_calls_follow_decision_thresholds_and_thread_positions(tiny_classifier, monkeypatch):
    clf = Classifier(tiny_classifier.model_dir, tiny_classifier.config, None)
    monkeypatch.setattr(clf.config, "temperatures", {})
    monkeypatch.setattr(clf.config, "decision_thresholds", {"style": {"community": 0.8}})
    monkeypatch.setattr(clf.config, "position_offsets", {"style": {"reply": [0.0, 2.0], "initial": [0.0, -2.0]}})
    # community needs p >= 0.8, a logit gap of ln 4 = 1.39; a reply adds 2 to the gap, a top-level comment takes 2 off
    logits = _logits([[0.0, 1.3], [0.0, 3.3], [0.0, -0.7], [0.0, 0.0], [0.0, 3.0]])
    assert clf.close_calls(logits, 0.1, [None] * 5).tolist() == [True, False, False, False, False]
    assert clf.close_calls(logits, 0.1, [False] * 5).tolist() == [False, True, False, False, False]
    assert clf.close_calls(logits, 0.1, [True] * 5).tolist() == [False, False, True, False, False]
    assert clf.close_calls(logits, 0.1, [None, False, True, None, None]).tolist() == [True, True, True, False, False]
    # positions not given (the main process of a run with workers): close to a change in any position
    assert clf.close_calls(logits, 0.1).tolist() == [True, True, True, False, False]


def _close_calls_head_by_head(clf, logits, margin, is_reply=None):
    """close_calls as first written: one head, one move and one thread position at a time."""
    n = len(next(iter(logits.values())))
    close = np.zeros(n, dtype=bool)
    positions = [list(is_reply)] if is_reply is not None else [None, [False] * n, [True] * n]
    for replies in positions:
        chosen = clf.decide(clf._calibrated(logits, replies))
        for name, v in logits.items():
            for r in range(n):
                for j in range(v.shape[1]):
                    moved = v[r:r + 1].copy()
                    if j != chosen[name][r]:
                        moved[0, j] += margin
                        moved[0, chosen[name][r]] -= margin
                    one = None if replies is None else [replies[r]]
                    close[r] |= clf.decide(clf._calibrated({name: moved}, one))[name][0] != chosen[name][r]
    return close


def test_close_calls_of_every_head_at_once_match_one_head_at_a_time(tiny_classifier, monkeypatch):
    clf = Classifier(tiny_classifier.model_dir, tiny_classifier.config, None)
    monkeypatch.setattr(clf.config, "temperatures", {"style": 1.3, "intent": 0.8, "troll": 1.1})
    monkeypatch.setattr(clf.config, "decision_thresholds", {"intent": {"where_to_buy": 0.25}, "troll": {"true": 0.6}})
    monkeypatch.setattr(clf.config, "position_offsets", {"style": {"reply": [-0.4, 0.4], "initial": [0.3, -0.3]},
                                                         "intent": {"reply": [0.0, 0.0, 0.0, 0.1, 0.0, 0.5, 0.0]}})
    rng = np.random.default_rng(0)
    logits = {name: rng.normal(0.0, 1.0, (40, len(values))).astype(np.float32) for name, values in clf.heads.items()}
    positions = [None, True, False, None] * 10
    for margin in (0.05, 0.15, 0.4):
        expected = _close_calls_head_by_head(clf, logits, margin, positions)
        assert 0 < expected.sum() < 40 and clf.close_calls(logits, margin, positions).tolist() == expected.tolist()
        expected = _close_calls_head_by_head(clf, logits, margin)
        assert clf.close_calls(logits, margin).tolist() == expected.tolist()


def test_auto_is_the_cascade_on_cpu_and_exact_the_fp32_graph(tiny_model_dir):
    assert Classifier.load(tiny_model_dir, device="cpu").backend_name == "onnx-cascade"
    assert Classifier.load(tiny_model_dir, backend="exact", device="cpu").backend_name == "onnx"
    with pytest.raises(ValueError, match="'exact'"):
        Classifier.load(tiny_model_dir, backend="fast")


def test_cascade_answers_close_calls_with_the_fp32_graph(tiny_model_dir):
    fp32 = Classifier.load(tiny_model_dir, backend="onnx").predict_logits(TEXTS)
    int8 = Classifier.load(tiny_model_dir, backend="onnx-int8").predict_logits(TEXTS)
    cascade = Classifier.load(tiny_model_dir, backend="onnx-cascade")
    assert cascade.backend_name == "onnx-cascade" and cascade.backend.quantized and not cascade.recheck.quantized
    for margin in (0.0, 1e9, 0.05):
        cascade.recheck_margin = margin
        close = cascade.close_calls(int8, margin)
        got = cascade.predict_logits(TEXTS)
        for head in got:
            np.testing.assert_allclose(got[head][close], fp32[head][close], atol=1e-5)
            np.testing.assert_allclose(got[head][~close], int8[head][~close], atol=1e-6)
        if margin in (0.0, 1e9):
            assert close.all() == (margin > 0) and close.any() == (margin > 0)


@pytest.mark.parametrize("quantize", [True, False])
def test_onnx_map_runs_int8_batches_side_by_side_in_order(tiny_model_dir, quantize):
    from commentnlp.backends import OnnxBackend

    clf = Classifier.load(tiny_model_dir, backend="onnx")
    backend = OnnxBackend(tiny_model_dir, quantize=quantize, threads=2)
    batches = [(ids, mask) for _, ids, mask in clf.batches_for_ids(clf.encode(TEXTS * 3), batch_size=2)]
    assert len({ids.shape for ids, _ in batches}) > 2  # a result out of order would not even match in shape
    got = backend.map(batches)
    assert backend.side_by_side == quantize and (backend._parallel is not None) == quantize
    if quantize:  # a one-thread session of its own, one batch per core
        assert backend._parallel[1].get_session_options().intra_op_num_threads == 1
    assert len(got) == len(batches)
    for batch, logits in zip(batches, got):
        for head, expected in backend(*batch).items():
            np.testing.assert_allclose(logits[head], expected, atol=1e-4)


def test_onnx_map_runs_batches_side_by_side_only_with_one_for_every_core(tiny_model_dir):
    from commentnlp.backends import OnnxBackend

    clf = Classifier.load(tiny_model_dir, backend="onnx")
    backend = OnnxBackend(tiny_model_dir, quantize=True, threads=4)
    batches = [(ids, mask) for _, ids, mask in clf.batches_for_ids(clf.encode(TEXTS), batch_size=1)]
    backend.map(batches[:3])  # fewer batches than cores: one at a time, on all of them
    assert backend._parallel is None
    backend.map(batches[:4])
    assert backend._parallel is not None


def test_onnx_map_in_a_forked_child_after_the_parent_ran_batches_side_by_side(tiny_model_dir):
    # gunicorn --preload, a fork-started multiprocessing pool: the child had the parent's thread pool without its
    # threads, and waited for them forever
    import os
    import signal

    from commentnlp.backends import OnnxBackend

    clf = Classifier.load(tiny_model_dir, backend="onnx")
    backend = OnnxBackend(tiny_model_dir, quantize=True, threads=2)
    batches = [(ids, mask) for _, ids, mask in clf.batches_for_ids(clf.encode(TEXTS), batch_size=1)]
    expected = backend.map(batches)
    assert backend._parallel is not None
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child's exit code is the result)
        signal.alarm(60)  # a hang ends the child with SIGALRM
        got = backend.map(batches)
        os._exit(0 if all(np.allclose(g[h], e[h], atol=1e-6) for g, e in zip(got, expected) for h in e) else 3)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


@pytest.mark.parametrize("backend", ["onnx", "onnx-cascade"])
def test_thread_safety_identical_results_from_8_threads(tiny_model_dir, backend):
    clf = Classifier.load(tiny_model_dir, backend=backend)
    rechecked = []
    if clf.recheck is not None:  # the cascade: some of these texts go through both graphs, not all
        clf.recheck_margin, fp32 = 0.05, clf.recheck
        clf.recheck = lambda ids, mask: rechecked.append(len(ids)) or fp32(ids, mask)
    texts = [t for t in TEXTS if t]  # predict refuses an empty text
    expected = [p.to_dict() for p in clf.predict(texts)]
    assert backend == "onnx" or 0 < sum(rechecked) < len(texts)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: [p.to_dict() for p in clf.predict(texts)], range(32)))
    assert all(r == expected for r in results)


def test_an_empty_text_is_a_clear_error_not_a_label(tiny_classifier):
    """classify("") said community/social/neutral, "Like it; let the community run.", where label and the
    command line report 'empty': a sticker-only comment read as one the community liked."""
    with pytest.raises(ValueError, match=r"^the text is empty: there is nothing to label; leave it out"):
        tiny_classifier.predict("")
    with pytest.raises(ValueError, match=r"^texts\[2\] is empty \(only invisible characters\): "):
        tiny_classifier.predict(["ok", "fine", "\u200b&nbsp;"])
    with pytest.raises(ValueError, match=r"texts\[0\] is empty"):
        classify(["  \n"], model=tiny_classifier)
    assert len(tiny_classifier.predict_proba(["", "ok"])["intent"]) == 2  # the scores of anything, as asked


def test_non_string_input_is_a_clear_error(tiny_classifier):
    with pytest.raises(TypeError, match=r"texts\[1\] is int"):
        tiny_classifier.predict(["ok", 3])
    with pytest.raises(TypeError, match="texts must be a str or a list of str, got NoneType"):
        tiny_classifier.predict(None)
    with pytest.raises(TypeError, match=r"texts\[0\] is bytes"):
        tiny_classifier.predict((t.encode() for t in ["ok"]))
    # one text where a list is expected would be read as a list of characters: refused
    with pytest.raises(TypeError, match=r"a list of str \(one text: wrap it in a list\), got str"):
        tiny_classifier.predict_proba("ok")
    assert tiny_classifier.predict_proba(iter(["ok", "no"]))["intent"].shape[0] == 2
    # a record instead of its text would label the record's keys; a set has no order to give back
    with pytest.raises(TypeError, match=r"got a dict: pass the text itself \(e.g. record\['message'\]\)"):
        tiny_classifier.predict({"id": "c1", "message": "where can I buy it"})
    with pytest.raises(TypeError, match="ordered sequence.*got a set"):
        tiny_classifier.predict({"ok", "no"})
    with pytest.raises(ValueError, match="batch_size"):
        tiny_classifier.predict(["ok"], batch_size=0)


def test_half_an_emoji_is_labelled_as_the_text_without_it(tiny_classifier):
    """A JSON export that cut a string inside an emoji holds a lone surrogate (``"\\ud83d"``),
    which the tokenizer refuses; it is dropped like a zero-width character."""
    cut, whole = tiny_classifier.predict(["so good \ud83d", "so good"])
    assert cut.text == "so good \ud83d"  # the text comes back as given
    assert cut.to_dict() == whole.to_dict()


def test_abstain_uses_per_head_thresholds(tiny_model_dir):
    clf = Classifier.load(tiny_model_dir, device="cpu")
    clf.config.thresholds = {"intent": 1.01}
    p = clf.predict("hello", abstain=True)
    assert p.intent == UNSURE and p.style != UNSURE
    assert clf.predict("hello").intent != UNSURE


def test_known_thread_positions_shift_the_style_logits_by_the_model_offsets(tiny_model_dir):
    from commentnlp.calibration import softmax

    clf = Classifier.load(tiny_model_dir, backend="onnx")  # exact logits: the same whatever the positions
    clf.config.temperatures = {"style": 2.0}
    clf.config.position_offsets = {"style": {"reply": [0.0, 1.5], "initial": [0.0, -0.5]}}
    texts = TEXTS[:4]
    z = clf.predict_logits(texts)["style"]
    got = clf.predict_proba(texts, is_reply=[True, False, None, True])["style"]
    want = softmax(z / 2.0 + np.array([[0, 1.5], [0, -0.5], [0, 0], [0, 1.5]]))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(clf.predict_proba(texts)["style"], softmax(z, 2.0), rtol=1e-6)
    # the other heads do not move
    for head in ("intent", "sentiment", "troll"):
        np.testing.assert_array_equal(clf.predict_proba(texts, is_reply=[True] * 4)[head], clf.predict_proba(texts)[head])
    clf.config.position_offsets = {"style": {"reply": [0.0, 50.0], "initial": [0.0, -50.0]}}
    assert clf.predict(texts[0], is_reply=True).style == "community"
    assert [p.style for p in classify(texts, model=clf, is_reply=[False, True, False, True])] == \
        ["audience", "community", "audience", "community"]
    assert [p.to_dict() for p in clf.predict(texts, is_reply=[None] * 4)] == [p.to_dict() for p in clf.predict(texts)]


def test_bad_is_reply_is_a_clear_error(tiny_classifier):
    with pytest.raises(TypeError, match=r"is_reply\[1\] is str"):
        tiny_classifier.predict(["a", "b"], is_reply=[True, "yes"])
    with pytest.raises(ValueError, match="is_reply has 1 values for 2 texts"):
        tiny_classifier.predict(["a", "b"], is_reply=[True])
    # a string was read as one flag per character, a bool for a batch was "'bool' object is not iterable"
    with pytest.raises(TypeError, match="is_reply must be True, False or None, or one of them per text, got str"):
        tiny_classifier.predict(["a", "b"], is_reply="yes")
    with pytest.raises(TypeError, match=r"^is_reply is list, expected True, False or None"):
        tiny_classifier.predict("a", is_reply=[True])


def test_is_reply_takes_one_flag_for_a_batch_and_pandas_or_numpy_columns(tiny_classifier, monkeypatch):
    import pandas as pd

    monkeypatch.setattr(tiny_classifier.config, "position_offsets", {"style": {"reply": [0.0, 1.5], "initial": [0.0, -0.5]}})
    texts = ["a", "where can I buy it", "meh"]
    every = [p.to_dict() for p in tiny_classifier.predict(texts, is_reply=[True] * 3)]
    assert [p.to_dict() for p in tiny_classifier.predict(texts, is_reply=True)] == every
    assert [p.to_dict() for p in tiny_classifier.predict(texts, is_reply=np.array([True] * 3))] == every
    # a pandas column with a missing value: NaN is unknown, as None is
    mixed = [p.to_dict() for p in tiny_classifier.predict(texts, is_reply=[True, None, False])]
    assert [p.to_dict() for p in tiny_classifier.predict(texts, is_reply=pd.Series([True, np.nan, False]))] == mixed
    # a nullable boolean column ("is_reply[1] is NAType"), a float column of 1.0/0.0 as pandas reads 0/1 with gaps
    for column in (pd.Series([True, pd.NA, False], dtype="boolean"), pd.Series([1.0, np.nan, 0.0])):
        assert [p.to_dict() for p in tiny_classifier.predict(texts, is_reply=column)] == mixed
    proba = tiny_classifier.predict_proba(texts, is_reply=[True, False, True])
    for head, p in tiny_classifier.predict_proba(texts, is_reply=np.array([True, False, True])).items():
        np.testing.assert_array_equal(p, proba[head])  # numpy booleans were no position (`r is True`)
    np.testing.assert_array_equal(tiny_classifier.predict_proba(texts, is_reply=True)["style"],
                                  tiny_classifier.predict_proba(texts, is_reply=[True] * 3)["style"])
    assert not np.array_equal(proba["style"], tiny_classifier.predict_proba(texts)["style"])  # the offsets count


def test_abstain_and_model_of_the_wrong_kind_are_clear_errors(tiny_classifier):
    """``abstain="no"`` was taken as True; ``model=""`` was "." is not a model, ``model=3`` a TypeError
    from pathlib."""
    with pytest.raises(TypeError, match="abstain must be True or False, got str"):
        tiny_classifier.predict("a", abstain="no")
    with pytest.raises(ModelLoadError, match="the model path is empty"):
        classify("a", model="")
    with pytest.raises(TypeError, match=r"model must be a model directory, a bundled model's name or None"):
        classify("a", model=3)


def test_numpy_strings_come_back_as_plain_strings(tiny_classifier):
    p = tiny_classifier.predict(np.array(["where can I buy it", "ok"]))[0]
    assert type(p.text) is str and p.text == "where can I buy it"


def test_invalid_device_is_refused(tiny_model_dir):
    with pytest.raises(ValueError, match="device"):
        Classifier.load(tiny_model_dir, device="tpu")


@pytest.mark.parametrize("threads", [0, -1, 1.5, "2", True])
def test_threads_that_are_not_a_core_count_are_refused(tiny_model_dir, threads):
    """-1 was taken silently; 1.5 or "2" were a pybind11 TypeError from inside ONNX Runtime."""
    with pytest.raises(ValueError, match=r"threads must be None \(every core\) or a whole number >= 1, not "):
        Classifier.load(tiny_model_dir, backend="onnx", threads=threads)


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, "8"])
def test_a_batch_size_that_is_not_a_whole_number_is_refused(tiny_classifier, batch_size):
    with pytest.raises(ValueError, match="batch_size must be a whole number >= 1, not "):
        tiny_classifier.predict(["a", "b"], batch_size=batch_size)


def test_numpy_integers_are_whole_numbers(tiny_model_dir, tiny_classifier):
    assert len(tiny_classifier.predict(["a", "b", "c"], batch_size=np.int64(2))) == 3
    assert Classifier.load(tiny_model_dir, backend="onnx", threads=np.int32(1)).predict("a").intent


def test_classify_accepts_a_model_path_and_caches_it(tiny_model_dir, monkeypatch):
    from commentnlp import classifier as mod

    p = classify("hello", model=tiny_model_dir)
    assert isinstance(p, Prediction)
    loaded = mod.load_cached(tiny_model_dir)
    assert mod.load_cached(str(tiny_model_dir)) is loaded
    monkeypatch.setattr(loaded.config, "thresholds", {"intent": 1.0})  # no intent is that sure
    assert [p.intent for p in classify(["hello", "where to buy"], model=tiny_model_dir, abstain=True)] == ["unsure"] * 2
    assert "unsure" not in [p.intent for p in classify(["hello", "where to buy"], model=tiny_model_dir)]


def test_sorted_batches_cover_every_index_once_and_respect_the_token_budget():
    from commentnlp.batching import sorted_batches

    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 129, size=500)
    for max_tokens in (None, 512, 2048):
        batches = sorted_batches(lengths, 64, max_tokens=max_tokens)
        assert sorted(np.concatenate(batches).tolist()) == list(range(500))
        assert all(len(b) <= 64 for b in batches)
        if max_tokens:  # rows x padded width within budget (a single over-long row still gets a batch)
            assert all(len(b) * lengths[b].max() <= max_tokens or len(b) == 1 for b in batches)
    assert len(sorted_batches(lengths, 64, max_tokens=512)) > len(sorted_batches(lengths, 64))


def test_predictions_follow_the_rules_text_by_text(tiny_classifier, monkeypatch):
    """predictions() works head by head on whole arrays: each text still gets its scores rounded
    as round(x, 4), its decided label (troll a bool), unsure below the threshold, its rule's action."""
    clf = tiny_classifier
    monkeypatch.setattr(clf.config, "thresholds", {h: 0.6 for h in clf.heads})
    monkeypatch.setattr(clf.config, "decision_thresholds", {"troll": {"true": 0.4}})
    rng = np.random.default_rng(0)
    n = 400
    logits = {h: rng.normal(scale=2.0, size=(n, len(v))).astype(np.float32) for h, v in clf.heads.items()}
    for abstain in (False, True):
        preds = clf.predictions([f"t{i}" for i in range(n)], {h: v.copy() for h, v in logits.items()}, abstain)
        probs = clf._calibrated({h: v.copy() for h, v in logits.items()})
        chosen = clf.decide(probs)
        for i, p in enumerate(preds):
            for h, values in clf.heads.items():
                assert p.scores[h] == {v: round(float(probs[h][i, j]), 4) for j, v in enumerate(values)}
                label = values[chosen[h][i]]
                label = label == "true" if h == "troll" else label
                if abstain and probs[h][i].max() < 0.6:
                    label = UNSURE
                assert p.labels[h] == label and type(p.labels[h]) is type(label)
            assert p.action == clf.playbook.action_for(p.labels)
        assert abstain == any(UNSURE in p.labels.values() for p in preds)
        assert any(p.troll is True for p in preds) and any(p.troll is False for p in preds)


def test_a_device_that_is_not_there_is_a_clear_error(monkeypatch):
    """--device cuda without CUDA gave torch's 'Torch not compiled with CUDA enabled' traceback."""
    import torch

    from commentnlp.backends import resolve_device

    with pytest.raises(ValueError, match=r"device must be 'auto', 'cpu' or 'cuda\[:N\]', not 'cuda:x'"):
        resolve_device("cuda:x")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match=r"device 'cuda' asked for, but CUDA is not available: .*use 'cpu' or 'auto'"):
        resolve_device("cuda")
    assert resolve_device("cpu") == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert resolve_device("cuda:1") == "cuda:1"
    with pytest.raises(ValueError, match=r"device 'cuda:2' asked for, but this machine has 2 GPU\(s\): cuda:0 to cuda:1"):
        resolve_device("cuda:2")


@pytest.mark.parametrize("visible, cpu", [("-1", True), ("", True), ("-1,0", True), (" -1", True), ("0", False)])
def test_cuda_visible_devices_that_hide_every_gpu_mean_the_cpu_without_torch(monkeypatch, visible, cpu):
    """CUDA_VISIBLE_DEVICES=-1, the usual "no GPU", imported torch (1.3 s, 185 MB) to find none."""
    import builtins

    from commentnlp import backends

    real_import = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name == "torch":
            raise AssertionError("torch imported")
        return real_import(name, *args, **kwargs)

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    monkeypatch.setattr(builtins, "__import__", no_torch)
    if cpu:
        assert backends.resolve_device("auto") == "cpu"
    else:
        assert not backends.no_gpu_visible(visible)
        # a GPU named but no NVIDIA driver (a CPU-only host whose environment sets CUDA_VISIBLE_DEVICES=0): the CPU,
        # without asking torch (it imported torch, 170 MB, to find none)
        monkeypatch.setattr(backends, "nvidia_driver", lambda: False)
        assert backends.resolve_device("auto") == "cpu"


def test_an_nvidia_driver_is_found_on_windows_and_wsl2_too(monkeypatch):
    """It was looked for in /proc and /dev/nvidiactl alone: on Windows and WSL2 `--device auto` never asked
    torch, and ran on the CPU beside an NVIDIA GPU."""
    import ctypes.util
    import types

    from commentnlp import backends

    class Here:  # the paths that exist
        found: set[str] = set()

        def __init__(self, path):
            self.path = path

        def exists(self):
            return self.path in Here.found

    monkeypatch.setattr(backends, "Path", Here)
    monkeypatch.setattr(backends, "sys", types.SimpleNamespace(platform="linux"))
    assert not backends.nvidia_driver()
    Here.found = {"/dev/dxg"}  # WSL2's GPU device
    assert backends.nvidia_driver()
    Here.found = set()
    monkeypatch.setattr(backends, "sys", types.SimpleNamespace(platform="win32"))
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: "C:\\Windows\\System32\\nvcuda.dll" if name == "nvcuda" else None)
    assert backends.nvidia_driver()


def test_texts_that_are_a_dataframe_are_refused(tiny_classifier):
    import pandas as pd

    df = pd.DataFrame({"message": ["where can I buy this?", "my order never arrived", "love it"]})
    for call in (lambda: classify(df, model=tiny_classifier), lambda: tiny_classifier.predict_proba(df)):
        with pytest.raises(TypeError, match=r"got a DataFrame: pass its text column \(df\['message'\]\)"):
            call()  # labelled the column names: one prediction, for "message"
    assert [p.text for p in classify(df["message"], model=tiny_classifier)] == list(df["message"])


def test_the_default_model_by_name_or_by_none_is_loaded_once(monkeypatch):
    from commentnlp import classifier

    loads = []
    monkeypatch.setattr(classifier, "_loaded", {})
    monkeypatch.setattr(classifier.Classifier, "load", classmethod(lambda cls, path=None: loads.append(path) or object()))
    assert classifier.load_cached(None) is classifier.load_cached("commentnlp-minilm") and len(loads) == 1


def test_repr_says_which_model_and_backend(tiny_model_dir):
    clf = Classifier.load(tiny_model_dir, backend="onnx-cascade")
    assert repr(clf) == (f"Classifier(model={str(tiny_model_dir)!r}, backend='onnx-cascade', device='cpu', "
                         "heads=['style', 'intent', 'sentiment', 'troll'])")


def test_a_classifier_pickles_as_how_it_was_loaded(tiny_model_dir, tmp_path):
    """joblib and spawned pools pickle what they call: 'cannot pickle InferenceSession' before."""
    import multiprocessing
    import pickle
    from concurrent.futures import ProcessPoolExecutor

    playbook = tmp_path / "brand.toml"
    playbook.write_text('[links]\nstore_locator_url = "https://example.com/stores"\n')
    clf = Classifier.load(tiny_model_dir, backend="onnx", playbook=playbook, threads=1)
    clf.batch_size = 3
    copy = pickle.loads(pickle.dumps(clf))
    assert repr(copy) == repr(clf) and copy.batch_size == 3 and copy.backend.threads == 1
    assert copy.playbook.links["store_locator_url"] == "https://example.com/stores"
    texts = ["where can i buy it", "lol", "my order never came", "🔥"]
    assert copy.predict(texts) == clf.predict(texts)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert list(pool.map(clf.predict, [texts[:2], texts[2:]])) == [clf.predict(texts[:2]), clf.predict(texts[2:])]
    made_by_hand = Classifier(clf.model_dir, clf.config, clf.backend)
    with pytest.raises(TypeError, match="only a Classifier made by Classifier.load can be pickled"):
        pickle.dumps(made_by_hand)


def test_a_batch_size_far_above_the_default_on_a_cpu_gets_a_warning(tiny_classifier):
    """--batch-size 100000 took 6 GB and ran 5 times slower, unsaid."""
    import warnings

    from commentnlp.classifier import LARGE_CPU_BATCH

    for call in (tiny_classifier.predict, tiny_classifier.predict_proba, lambda t, **kw: classify(t, model=tiny_classifier, **kw)):
        with pytest.warns(RuntimeWarning, match=r"batch_size=257 on a CPU: .* leave batch_size unset") as caught:
            call(["a", "b"], batch_size=LARGE_CPU_BATCH + 1)
        assert caught[0].filename == __file__  # the caller's line, not one inside commentnlp
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tiny_classifier.predict(["a", "b"], batch_size=LARGE_CPU_BATCH)
        tiny_classifier.predict(["a", "b"])
        worker = Classifier(tiny_classifier.model_dir, tiny_classifier.config, None)  # as a --workers process has
        worker.batch_size = 1024  # a GPU's, set by the main process
        worker.batches_for_ids(worker.encode(["a", "b"]))
