"""Fused attention in the exported graph: fewer nodes, the torch model's answers; the exported
graph as it is when fusing is not possible or not exact."""

import shutil
from collections import Counter

import numpy as np
import pytest

from commentnlp.classifier import Classifier

TEXTS = ["where can I buy this in Ohio??", "love it 😍😍", "my order never arrived, 3 weeks now", "ok", "lol same"]


def _ops(path) -> Counter:
    import onnx

    return Counter(node.op_type for node in onnx.load(str(path)).graph.node)


def _layers(model_dir) -> int:
    return Classifier.load(model_dir, backend="torch", device="cpu").backend.model.encoder.config.num_hidden_layers


def test_a_bert_graph_is_fused_and_answers_as_the_torch_model(tiny_model_dir, tmp_path):
    from commentnlp.backends import build_onnx

    ops = _ops(build_onnx(tiny_model_dir, cache=tmp_path))
    assert ops["Attention"] == _layers(tiny_model_dir) and ops["EmbedLayerNormalization"] == 1
    assert ops["Softmax"] == 0 and ops["Transpose"] == 0  # what the fused nodes replace
    fused = Classifier.load(tiny_model_dir, backend="onnx", onnx_cache=tmp_path).predict_logits(TEXTS)
    reference = Classifier.load(tiny_model_dir, backend="torch", device="cpu").predict_logits(TEXTS)
    for head in reference:
        np.testing.assert_allclose(fused[head], reference[head], atol=1e-4)


def test_the_int8_graph_smooths_and_quantises_the_fused_attention(tiny_model_dir, tmp_path):
    import onnx

    from commentnlp.backends import build_onnx
    from commentnlp.quantization import activation_ranges, smooth_graph
    from commentnlp.serialization import save_activation_ranges

    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    ranges = activation_ranges(Classifier.load(model, backend="torch", device="cpu"), TEXTS)
    n_layers = _layers(model)
    # the fused Attention's input (query, key and value's) is smoothed like the three linear layers were
    smoothed = tmp_path / "smoothed.onnx"
    assert smooth_graph(build_onnx(model, cache=tmp_path / "cache"), smoothed, ranges) == 4 * n_layers
    attention = [n for n in onnx.load(str(smoothed)).graph.node if n.op_type == "Attention"]
    assert len(attention) == n_layers and all(n.input[0].endswith("/smoothed") for n in attention)
    save_activation_ranges(model, ranges)
    assert _ops(build_onnx(model, quantize=True, cache=tmp_path / "cache"))["QAttention"] == n_layers


def test_encoders_of_other_types_are_exported_as_they_are(tiny_model_dir, tmp_path):
    from commentnlp.backends import build_onnx
    from commentnlp.fusion import fuse_graph

    exported = build_onnx(tiny_model_dir, cache=tmp_path)  # any graph: nothing of it is read
    assert fuse_graph(exported, tmp_path / "out.onnx", "roberta", 2, 32) is False
    assert (tmp_path / "out.onnx").read_bytes() == exported.read_bytes()


def test_a_fused_graph_that_answers_differently_is_not_kept(tiny_model_dir, tmp_path, monkeypatch):
    import onnx
    from onnx import numpy_helper

    from commentnlp import fusion
    from commentnlp.backends import build_onnx

    fused = build_onnx(tiny_model_dir, cache=tmp_path / "a")
    changed = onnx.load(str(fused))
    bias = next(t for t in changed.graph.initializer if t.name.endswith("heads.style.bias"))
    bias.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(bias) + np.float32(0.01), bias.name))
    onnx.save(changed, str(tmp_path / "changed.onnx"))
    assert fusion._same_outputs(fused, fused) and not fusion._same_outputs(fused, tmp_path / "changed.onnx")

    monkeypatch.setattr(fusion, "_same_outputs", lambda a, b: False)
    plain = build_onnx(tiny_model_dir, cache=tmp_path / "b")
    assert _ops(plain)["Attention"] == 0 and _ops(plain)["Softmax"] == _layers(tiny_model_dir)
    logits = Classifier.load(tiny_model_dir, backend="onnx", onnx_cache=tmp_path / "b").predict_logits(TEXTS)
    reference = Classifier.load(tiny_model_dir, backend="torch", device="cpu").predict_logits(TEXTS)
    for head in reference:
        np.testing.assert_allclose(logits[head], reference[head], atol=1e-4)


def test_a_graph_where_nothing_fuses_is_kept_as_exported(tiny_model_dir, tmp_path, monkeypatch):
    from onnxruntime.transformers.optimizer import MODEL_TYPES

    from commentnlp.backends import build_onnx

    bert_model = MODEL_TYPES["bert"][0]  # the class the optimizer uses (imported under its own module name)
    monkeypatch.setattr(bert_model, "get_fused_operator_statistics", lambda self: {"Attention": 0})
    ops = _ops(build_onnx(tiny_model_dir, cache=tmp_path))
    assert ops["Attention"] == 0 and ops["Softmax"] == _layers(tiny_model_dir)


def test_an_optimizer_error_leaves_the_exported_graph_with_a_warning(tiny_model_dir, tmp_path, monkeypatch):
    import onnxruntime.transformers.optimizer as optimizer

    from commentnlp.backends import build_onnx

    def broken(*args, **kwargs):
        raise RuntimeError("pattern matcher gave up")

    monkeypatch.setattr(optimizer, "optimize_model", broken)
    with pytest.warns(UserWarning, match="attention not fused.*pattern matcher gave up"):
        graph = build_onnx(tiny_model_dir, cache=tmp_path)
    assert _ops(graph)["Attention"] == 0 and _ops(graph)["Softmax"] == _layers(tiny_model_dir)
