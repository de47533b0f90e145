"""SmoothQuant smoothing of the int8 graph: exact in fp32, less int8 error, applied when a model has ranges."""

import shutil

import numpy as np
import pytest

TEXTS = ["where can I buy this in Ohio??", "love it 😍😍", "my order never arrived, 3 weeks now", "ok", "lol same"]


def _run(path, feeds):
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def test_activation_ranges_are_the_largest_input_of_each_linear_layer(tiny_model_dir):
    import torch

    from commentnlp.batching import pad_batch
    from commentnlp.classifier import Classifier
    from commentnlp.quantization import activation_ranges

    clf = Classifier.load(tiny_model_dir, backend="torch", device="cpu")
    ranges = activation_ranges(clf, TEXTS)
    linears = {n: m for n, m in clf.backend.model.encoder.named_modules() if isinstance(m, torch.nn.Linear)}
    assert set(ranges) == set(linears) and all(ranges[n].shape == (m.in_features,) for n, m in linears.items())
    # the first query layer reads the embeddings' output: its range is that tensor's max |x| per channel
    ids = clf.encode(TEXTS)
    input_ids, mask = (torch.from_numpy(a) for a in pad_batch(ids, list(range(len(ids))), clf._pad_id))
    with torch.inference_mode():
        embedded = clf.backend.model.encoder(input_ids=input_ids, attention_mask=mask, output_hidden_states=True).hidden_states[0]
    expected = embedded.abs().flatten(0, 1).amax(0).numpy()
    np.testing.assert_allclose(ranges["encoder.layer.0.attention.self.query"], expected, rtol=1e-5)


def test_smoothing_leaves_the_fp32_graph_unchanged(tiny_model_dir, tmp_path):
    from commentnlp.backends import build_onnx
    from commentnlp.batching import pad_batch
    from commentnlp.classifier import Classifier
    from commentnlp.quantization import activation_ranges, smooth_graph

    clf = Classifier.load(tiny_model_dir, backend="torch", device="cpu")
    fp32 = build_onnx(tiny_model_dir, cache=tmp_path / "cache")
    smoothed = tmp_path / "smoothed.onnx"
    n_layers = clf.backend.model.encoder.config.num_hidden_layers
    # per layer: the attention input (shared by query, key, value), the attention output, FFN in, FFN out
    assert smooth_graph(fp32, smoothed, activation_ranges(clf, TEXTS)) == 4 * n_layers
    ids = clf.encode(TEXTS)
    input_ids, mask = pad_batch(ids, list(range(len(ids))), clf._pad_id)
    feeds = {"input_ids": input_ids, "attention_mask": mask}
    for before, after in zip(_run(fp32, feeds), _run(smoothed, feeds)):
        np.testing.assert_allclose(after, before, rtol=1e-4, atol=1e-5)


def test_smoothing_cuts_int8_error_when_one_channel_is_an_outlier(tmp_path):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from commentnlp.quantization import quantize_graph

    rng = np.random.default_rng(0)
    w = rng.normal(size=(64, 32)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="/inner/encoder/encoder/layer.0/output/dense/MatMul")],
        "one_linear", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 32])], [numpy_helper.from_array(w, "w")])
    fp32 = tmp_path / "fp32.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(fp32))
    x = rng.normal(size=(256, 64)).astype(np.float32)
    x[:, 3] *= 60  # one channel with a much larger range than the rest, as after LayerNorm
    exact = x @ w
    errors = {}
    for name, ranges in (("plain", None), ("smoothed", {"encoder.layer.0.output.dense": np.abs(x).max(0)})):
        quantize_graph(fp32, tmp_path / f"{name}.onnx", ranges)
        errors[name] = np.abs(_run(tmp_path / f"{name}.onnx", {"x": x})[0] - exact).mean()
    assert errors["smoothed"] < errors["plain"] / 3


def test_ranges_that_fit_no_layer_are_refused(tiny_model_dir, tmp_path):
    from commentnlp.backends import build_onnx
    from commentnlp.quantization import quantize_graph

    fp32 = build_onnx(tiny_model_dir, cache=tmp_path / "cache")
    with pytest.raises(ValueError, match="none of the 1 activation ranges"):
        quantize_graph(fp32, tmp_path / "int8.onnx", {"decoder.layer.0.fc": np.ones(4, dtype=np.float32)})


def test_int8_graph_is_smoothed_when_the_model_has_ranges(tiny_model_dir, tmp_path):
    import onnx

    from commentnlp.backends import build_onnx
    from commentnlp.classifier import Classifier
    from commentnlp.quantization import activation_ranges
    from commentnlp.serialization import (ModelLoadError, model_fingerprint, read_activation_ranges,
                                          save_activation_ranges)

    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    assert read_activation_ranges(model) is None
    plain = build_onnx(model, quantize=True, cache=tmp_path / "cache")
    before = {ranges: model_fingerprint(model, with_ranges=ranges) for ranges in (True, False)}
    fp32_graph = build_onnx(model, cache=tmp_path / "cache")
    ranges = activation_ranges(Classifier.load(model, backend="torch", device="cpu"), TEXTS)
    save_activation_ranges(model, ranges)
    loaded = read_activation_ranges(model)
    assert set(loaded) == set(ranges) and all(np.array_equal(loaded[k], ranges[k]) for k in ranges)
    assert model_fingerprint(model) != before[True]  # the ranges define the int8 graph, so they key its cache
    assert model_fingerprint(model, with_ranges=False) == before[False]  # ... and not the fp32 graph's
    assert build_onnx(model, cache=tmp_path / "cache") == fp32_graph
    smoothed = build_onnx(model, quantize=True, cache=tmp_path / "cache")
    count = {p: sum(n.name.endswith("/smooth") for n in onnx.load(str(p)).graph.node) for p in (plain, smoothed)}
    assert count[plain] == 0 and count[smoothed] > 0
    logits = Classifier.load(model, backend="onnx-int8", onnx_cache=tmp_path / "cache").predict_logits(TEXTS)
    reference = Classifier.load(model, backend="torch", device="cpu").predict_logits(TEXTS)
    for head in reference:
        assert np.abs(logits[head] - reference[head]).max() < 0.5
    (model / "activation_ranges.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(ModelLoadError, match="cannot read"):
        read_activation_ranges(model)


def test_building_the_int8_graph_does_not_advise_users_to_preprocess_it(tiny_model_dir, tmp_path, caplog):
    import logging

    from commentnlp.backends import build_onnx
    from commentnlp.quantization import quantize_graph

    fp32 = build_onnx(tiny_model_dir, cache=tmp_path / "cache")
    with caplog.at_level(logging.INFO):
        quantize_graph(fp32, tmp_path / "int8.onnx", None)
        logging.warning("Please consider this other warning")  # only that one message is dropped
    messages = [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if "pre-processing" in m] and "Please consider this other warning" in messages
