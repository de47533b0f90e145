"""int8 graphs that keep the fp32 answers: SmoothQuant smoothing, then dynamic per-channel int8.

Dynamic int8 quantises each activation tensor with one scale, so a few channels with large
values (BERT-style encoders have them after LayerNorm and GELU) leave little resolution for
the rest. SmoothQuant (Xiao et al., 2023, https://arxiv.org/abs/2211.10438) divides every
input channel ``j`` of a linear layer by ``s_j = max|x_j|**alpha / max|W_j|**(1 - alpha)`` and
multiplies row ``j`` of its weight by ``s_j``: the fp32 product is unchanged, but activations
become easier to quantise at the cost of weights, which are quantised per output channel.

The per-channel maxima ``max|x_j|`` come from running the model on the dev split when it is
finalised; they are saved in the model directory (``activation_ranges.safetensors``, keyed by
the linear module's name). A model without them is quantised without smoothing.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from pathlib import Path
from typing import Sequence

import numpy as np

__all__ = ["SMOOTHING_ALPHA", "activation_ranges", "smooth_graph", "quantize_graph"]

#: migration strength: 0 leaves activations as they are, 1 moves all their range into the weights
SMOOTHING_ALPHA = 0.9


def activation_ranges(classifier, texts: Sequence[str], batch_size: int = 64) -> dict[str, np.ndarray]:
    """Per input channel, the largest ``|x|`` entering each linear layer of a loaded
    :class:`~commentnlp.Classifier`'s encoder on ``texts`` (padding included, as dynamic
    quantisation sees it), keyed by module name. Runs the torch model of its directory."""
    import torch

    from .serialization import load_torch_model

    if not texts:
        raise ValueError("activation ranges need at least one text")
    model = getattr(classifier.backend, "model", None)
    if model is None:
        model, _ = load_torch_model(classifier.model_dir)
    device = next(model.parameters()).device
    ids = classifier.encode(texts)
    ranges: dict[str, torch.Tensor] = {}

    def record(name):
        def hook(_module, inputs):
            x = inputs[0].detach().abs().flatten(0, -2).amax(0).float().cpu()
            ranges[name] = x if name not in ranges else torch.maximum(ranges[name], x)
        return hook

    handles = [m.register_forward_pre_hook(record(name)) for name, m in model.encoder.named_modules()
               if isinstance(m, torch.nn.Linear)]
    try:
        with torch.inference_mode():
            for _rows, *inputs in classifier.batches_for_ids(ids, batch_size):  # as inference batches them
                model(*(torch.from_numpy(a).to(device) for a in inputs))
    finally:
        for h in handles:
            h.remove()
    return {name: v.numpy() for name, v in ranges.items()}


def _module_name(node) -> str:
    """The encoder module a node computes, from the module path the exporter names nodes and
    tensors after (``inner.encoder`` is the encoder):
    ``/inner/encoder/encoder/layer.0/attention/self/query/MatMul`` -> ``encoder.layer.0.attention.self.query``.
    A fused ``Attention`` node (:mod:`commentnlp.fusion`) does its layer's query, key and value
    matmuls; it is named after none, but its output keeps the name ``.../layer.0/attention/self/...``."""
    if node.op_type == "Attention":
        return _module_name_of(node.output[0]) + ".query"
    return _module_name_of(node.name)


def _module_name_of(name: str) -> str:
    return name.removeprefix("/inner/encoder/").rsplit("/", 1)[0].replace("/", ".")


def smooth_graph(fp32_path: str | Path, out_path: str | Path, ranges: dict[str, np.ndarray],
                 alpha: float = SMOOTHING_ALPHA) -> int:
    """Write a smoothed copy of an fp32 ONNX graph (same outputs up to float rounding); returns
    the number of activation tensors smoothed. Linear layers that share an input share one ``s``."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(fp32_path))
    graph = model.graph
    weights = {t.name: t for t in graph.initializer}
    uses: dict[str, int] = defaultdict(int)
    for node in graph.node:
        for name in node.input:
            uses[name] += 1
    groups: dict[str, list] = defaultdict(list)  # activation tensor -> the MatMuls (or fused Attention) reading it
    for node in graph.node:
        if (node.op_type in ("MatMul", "Attention") and node.input[1] in weights and uses[node.input[1]] == 1
                and _module_name(node) in ranges):
            groups[node.input[0]].append(node)
    muls = {}
    for tensor, nodes in groups.items():
        x_max = np.maximum(ranges[_module_name(nodes[0])], 1e-5)
        w = [numpy_helper.to_array(weights[n.input[1]]) for n in nodes]  # (in, out) each
        w_max = np.maximum(np.max([np.abs(a).max(axis=1) for a in w], axis=0), 1e-5)
        if x_max.shape != w_max.shape:
            raise ValueError(f"activation ranges of {_module_name(nodes[0])} do not fit the graph")
        s = np.clip(x_max ** alpha / w_max ** (1 - alpha), 1e-2, 1e3).astype(np.float32)
        for node, a in zip(nodes, w):
            weights[node.input[1]].CopyFrom(numpy_helper.from_array((a * s[:, None]).astype(np.float32), node.input[1]))
            node.input[0] = f"{tensor}/smoothed"
        graph.initializer.append(numpy_helper.from_array(1.0 / s, f"{tensor}/smooth_inv"))
        muls[tensor] = helper.make_node("Mul", [tensor, f"{tensor}/smooth_inv"], [f"{tensor}/smoothed"],
                                        name=f"{tensor}/smooth")
    produced = {o for node in graph.node for o in node.output}
    # each Mul first (graph inputs) or right after the node producing its input: still topologically sorted
    order = [mul for tensor, mul in muls.items() if tensor not in produced]
    for node in graph.node:
        order.append(node)
        order.extend(muls[o] for o in node.output if o in muls)
    del graph.node[:]
    graph.node.extend(order)
    onnx.save(model, str(out_path))
    return len(muls)


def _no_preprocessing_advice(record: logging.LogRecord) -> bool:
    """Drops ``quantize_dynamic``'s warning, on every build, to pre-process the graph first: it is
    fused and optimised before (:mod:`commentnlp.fusion`) and again when ONNX Runtime loads it."""
    return not record.getMessage().startswith("Please consider to run pre-processing before quantization")


def quantize_graph(fp32_path: str | Path, out_path: str | Path, ranges: dict[str, np.ndarray] | None) -> int:
    """Dynamic per-channel int8 of an fp32 graph, smoothed first when ``ranges`` are given;
    returns the number of smoothed activation tensors (0 without ranges)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    source, smoothed = Path(fp32_path), 0
    if ranges:
        source = Path(out_path).with_suffix(".smoothed.onnx")
        smoothed = smooth_graph(fp32_path, source, ranges)
        if smoothed == 0:
            raise ValueError(f"none of the {len(ranges)} activation ranges matches a linear layer of the graph")
    root = logging.getLogger()
    root.addFilter(_no_preprocessing_advice)
    try:  # shape inference does not type the outputs of ONNX Runtime's fused nodes: they are float
        quantize_dynamic(str(source), str(out_path), weight_type=QuantType.QInt8, per_channel=True,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    finally:
        root.removeFilter(_no_preprocessing_advice)
    if source != Path(fp32_path):
        source.unlink()
    return smoothed
