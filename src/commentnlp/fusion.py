"""Fused attention for exported BERT graphs: fewer, larger ONNX Runtime kernels, the same answers.

The exporter writes each self-attention layer as a few dozen small nodes (reshapes, transposes,
two MatMuls, the mask arithmetic, a softmax). ``onnxruntime.transformers.optimizer`` replaces
them with one ``Attention`` node per layer (Q, K and V in one matmul; ``QAttention`` once
quantised) and the embeddings with one ``EmbedLayerNormalization``: a short comment runs about
100 nodes instead of about 280. The fusions that ran slower on the CPU are left off:
``SkipLayerNormalization`` (see :class:`commentnlp.backends.OnnxBackend`) and folding a linear
layer's bias into the next node (the int8 matmul adds it at no cost).

Only BERT-type encoders (MiniLM included) are fused, and a fused graph is kept only if it gives
the exported graph's outputs on padded batches; otherwise the exported graph is used as it is.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np

from .userwarnings import warn

__all__ = ["FUSED_MODEL_TYPES", "fuse_graph"]

#: encoder ``model_type`` values whose graphs are fused (the optimizer's BERT patterns)
FUSED_MODEL_TYPES = ("bert",)

#: the largest difference in any output allowed between the fused and the exported graph
PARITY_TOLERANCE = 1e-3


def fuse_graph(source: str | Path, out: str | Path, model_type: str, num_heads: int, hidden_size: int) -> bool:
    """Write ``source`` with fused attention to ``out``; returns whether it fused.

    When the encoder is not BERT-type, nothing fuses, the optimizer fails (a warning says why) or
    the fused graph's outputs differ from ``source``'s, ``out`` is a copy of ``source`` and the
    answer is False: fusing only ever makes a graph faster, never unusable.
    """
    if model_type in FUSED_MODEL_TYPES:
        try:
            if _fuse(Path(source), Path(out), num_heads, hidden_size):
                return True
        except Exception as exc:  # the optimizer's own error, whatever it is: keep the exported graph
            warn(f"attention not fused, the exported graph is used as it is: {exc}")
    shutil.copyfile(source, out)
    return False


def _fuse(source: Path, out: Path, num_heads: int, hidden_size: int) -> bool:
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    options = FusionOptions("bert")
    options.enable_skip_layer_norm = False
    options.enable_bias_skip_layer_norm = False
    options.enable_bias_gelu = False
    quiet = logging.getLogger("onnxruntime.transformers")  # it logs every fusion it tries
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        fused = optimize_model(str(source), model_type="bert", num_heads=num_heads, hidden_size=hidden_size,
                               opt_level=0, optimization_options=options)
    finally:
        quiet.setLevel(level)
    if not fused.get_fused_operator_statistics().get("Attention"):
        return False
    fused.save_model_to_file(str(out))
    if _same_outputs(source, out):
        return True
    out.unlink()
    return False


def _same_outputs(a: Path, b: Path) -> bool:
    """Both graphs on one right-padded batch (as inference pads): every output within tolerance."""
    import onnxruntime as ort

    rng = np.random.default_rng(0)
    lengths = np.array([12, 7, 2])
    mask = (np.arange(12)[None, :] < lengths[:, None]).astype(np.int64)
    feeds = {"input_ids": rng.integers(1, 100, size=mask.shape).astype(np.int64) * mask, "attention_mask": mask}
    runs = [ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]).run(None, feeds) for p in (a, b)]
    return all(x.shape == y.shape and np.abs(x - y).max() <= PARITY_TOLERANCE for x, y in zip(*runs))
