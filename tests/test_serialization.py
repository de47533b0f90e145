import json
import os
import re
import shutil
import sys

import numpy as np
import pytest
import torch

from commentnlp.batching import pad_batch
from commentnlp.classifier import Classifier
from commentnlp.preprocessing import normalize
from commentnlp.serialization import (BUNDLED_MODELS, ModelLoadError, bundled_model_path, load_torch_model, read_config,
                                      save_model)

from conftest import build_lora_model

TEXTS = ["Do you ship to Canada??", "lol ratio 🤡", "My order #4417 never arrived", "🔥🔥🔥", "love it " * 40]


def test_round_trip_gives_identical_outputs(tmp_path, tiny_base):
    model, tokenizer, config = build_lora_model(tiny_base, seed=3)
    enc = tokenizer([normalize(t) for t in TEXTS], truncation=True, max_length=config.max_length)
    ids, mask = pad_batch(enc["input_ids"], list(range(len(TEXTS))))
    with torch.inference_mode():
        before = {k: v.numpy() for k, v in model(torch.from_numpy(ids), torch.from_numpy(mask)).items()}
    save_model(tmp_path, model, tokenizer, config)
    clf = Classifier.load(tmp_path, backend="torch")
    after = clf.predict_logits(TEXTS)
    for head in before:
        np.testing.assert_allclose(after[head], before[head], atol=1e-5)
    # a second load (fresh merge of the adapters) gives the same numbers
    np.testing.assert_allclose(Classifier.load(tmp_path, backend="torch").predict_logits(TEXTS)["intent"],
                               after["intent"], atol=1e-6)


def test_a_model_saved_over_another_keeps_none_of_its_weights(tmp_path, tiny_base):
    from commentnlp.data import text_hashes
    from commentnlp.serialization import (model_fingerprint, read_training_texts, save_activation_ranges,
                                          write_training_texts)

    model, tokenizer, config = build_lora_model(tiny_base, seed=3)
    save_model(tmp_path / "fresh", model, tokenizer, config)
    old = tmp_path / "old"  # what an earlier full fine-tune left there, and its activation ranges
    (old / "encoder").mkdir(parents=True)
    (old / "encoder" / "model.safetensors").write_bytes(b"stale")
    save_activation_ranges(old, {"layer": np.ones(3, np.float32)})
    write_training_texts(old, {"train": text_hashes(["an old model's text"])})
    save_model(old, model, tokenizer, config)
    assert not (old / "encoder").exists() and not (old / "activation_ranges.safetensors").exists()
    assert read_training_texts(old) is None  # it must not claim the old model's texts
    assert model_fingerprint(old) == model_fingerprint(tmp_path / "fresh")
    config.finetuning = "heads"
    save_model(old, model, tokenizer, config)
    assert not (old / "adapter.safetensors").exists()


def test_training_text_hashes_round_trip_and_leave_the_fingerprint_alone(tmp_path, tiny_base):
    from commentnlp.data import text_hashes
    from commentnlp.serialization import model_fingerprint, read_training_texts

    model, tokenizer, config = build_lora_model(tiny_base, seed=3)
    save_model(tmp_path / "a", model, tokenizer, config)
    save_model(tmp_path / "b", model, tokenizer, config,
               training_texts={"train": text_hashes(["Where can I BUY it??", "love it"]), "dev": text_hashes(["meh"])})
    seen = read_training_texts(tmp_path / "b")
    assert seen["train"].dtype == np.uint64 and len(seen["train"]) == 2 and len(seen["dev"]) == 1
    assert np.isin(text_hashes(["where can i buy it"]), seen["train"]).all()  # case and punctuation aside
    assert not np.isin(text_hashes(["where can i buy one"]), seen["train"]).any()
    assert model_fingerprint(tmp_path / "a") == model_fingerprint(tmp_path / "b")  # cached graphs stay valid


def test_the_fingerprint_follows_everything_the_graph_is_built_from(tmp_path, tiny_base):
    """Cached ONNX graphs are keyed by it: a full fine-tune whose encoder/config.json changed ran the stale
    graph (another model's scores), silently; a link to /dev/zero or a FIFO named like weights was read (out
    of memory, or a hang, even for `info`). The base's own files are not hashed: a Spark executor without
    them runs the graph shipped to it under this key."""
    import shutil

    from commentnlp.serialization import model_fingerprint, read_config

    base = tmp_path / "base"
    shutil.copytree(tiny_base, base)
    model, tokenizer, config = build_lora_model(base, seed=4)
    save_model(tmp_path / "m", model, tokenizer, config)
    before = model_fingerprint(tmp_path / "m")
    shutil.rmtree(base)  # as on an executor
    assert model_fingerprint(tmp_path / "m") == before
    # settings that shape the graph count; a decision threshold does not
    raw = json.loads((tmp_path / "m" / "config.json").read_text())
    fingerprint = model_fingerprint(tmp_path / "m")
    for key, value in [("thresholds", {"intent": 0.5}), ("num_layers", 1)]:
        (tmp_path / "m" / "config.json").write_text(json.dumps({**raw, key: value}))
        assert (model_fingerprint(tmp_path / "m") == fingerprint) == (key == "thresholds"), key
    (tmp_path / "m" / "config.json").write_text(json.dumps(raw))
    # a full fine-tune: its encoder's config too
    full = tmp_path / "full"
    shutil.copytree(tmp_path / "m", full)
    (full / "config.json").write_text(json.dumps({**raw, "finetuning": "full"}))
    shutil.copytree(tiny_base, full / "encoder")
    fingerprint = model_fingerprint(full)
    encoder_config = json.loads((full / "encoder" / "config.json").read_text())
    (full / "encoder" / "config.json").write_text(json.dumps({**encoder_config, "hidden_act": "relu"}))
    assert model_fingerprint(full) != fingerprint and read_config(full).finetuning == "full"
    # only regular files are read
    fingerprint = model_fingerprint(tmp_path / "m")
    (tmp_path / "m" / "extra.safetensors").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "m" / "pipe.safetensors")
    assert model_fingerprint(tmp_path / "m") == fingerprint


def test_saved_directory_is_self_describing(tiny_model_dir):
    files = {p.name for p in tiny_model_dir.iterdir()}
    assert {"config.json", "heads.safetensors", "adapter.safetensors", "tokenizer.json", "README.md"} <= files
    assert not any(name.endswith((".bin", ".pt", ".pkl", ".pickle")) for name in files)
    config = json.loads((tiny_model_dir / "config.json").read_text())
    assert config["heads"]["intent"][0] == "where_to_buy"
    assert config["preprocessing_version"] and config["base_model"] and config["format"] == "commentnlp-model"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_saved_files_get_the_umask_like_the_json_files(tmp_path, tiny_base):
    """safetensors >= 0.8.1 writes its files 0o600; a model saved by a training job must stay
    readable by whoever may read its config.json (e.g. the service that serves it)."""
    from commentnlp.serialization import save_activation_ranges

    model, tokenizer, config = build_lora_model(tiny_base)
    old = os.umask(0o027)
    try:
        save_model(tmp_path, model, tokenizer, config, model_card="# m\n")
        save_activation_ranges(tmp_path, {"layer": np.ones(3, np.float32)})
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
    assert modes["config.json"] == 0o640
    assert {modes[n] for n in ("heads.safetensors", "adapter.safetensors", "activation_ranges.safetensors")} == {0o640}


def _copy(src, dst):
    shutil.copytree(src, dst)
    return dst


@pytest.mark.parametrize("damage,message", [
    (lambda d: (d / "config.json").unlink(), "config.json is missing"),
    (lambda d: (shutil.rmtree(d), d.write_text("{}")), "is a file, not a model directory"),  # said "not found"
    (lambda d: (d / "config.json").write_text("{not json"), "not valid JSON"),
    (lambda d: (d / "heads.safetensors").unlink(), "heads.safetensors is missing"),
    (lambda d: (d / "adapter.safetensors").write_bytes(b"\x00" * 10), "cannot read"),
    (lambda d: (d / "tokenizer.json").unlink(), "tokenizer.json is missing"),
    # a bare Exception naming no file, after the ONNX graphs were built (the CLI printed a traceback)
    (lambda d: (d / "tokenizer.json").write_text("{not json"), r"cannot read .*tokenizer\.json: key must be a string"),
    # a RecursionError traceback
    (lambda d: (d / "config.json").write_text("[" * 100_000 + "]" * 100_000), "config.json is not a commentnlp model config"),
])
def test_damaged_model_dirs_give_clear_errors(tmp_path, tiny_model_dir, damage, message):
    d = _copy(tiny_model_dir, tmp_path / "m")
    damage(d)
    with pytest.raises(ModelLoadError, match=message):
        Classifier.load(d, device="cpu")


def test_an_unreadable_model_file_is_a_load_error(tmp_path, tiny_model_dir, monkeypatch):
    """A config.json or weights file without read permission was a PermissionError traceback (info, classify...)."""
    import pathlib

    d = _copy(tiny_model_dir, tmp_path / "m")
    for name in ("config.json", "heads.safetensors"):
        locked = d / name

        def refuse(self, *args, _real=pathlib.Path.open, _locked=locked, **kwargs):
            if self == _locked:
                raise PermissionError(13, "Permission denied", str(self))
            return _real(self, *args, **kwargs)

        with monkeypatch.context() as m:
            m.setattr(pathlib.Path, "open", refuse)
            with pytest.raises(ModelLoadError, match=f"cannot read {re.escape(str(locked))}: Permission denied"):
                Classifier.load(d, device="cpu")


@pytest.mark.parametrize("edit,message", [
    ({"temperatures": None}, "'temperatures' must be an object, not null"),
    ({"thresholds": []}, "'thresholds' must be an object, not an array"),
    ({"max_length": "128"}, "'max_length' must be a whole number of tokens"),
    ({"num_layers": 0}, "'num_layers' must be null or a whole number of 1 or more"),
    ({"pooling": "cls"}, "'pooling' must be 'mean'"),
    ({"finetuning": "LoRA"}, "'finetuning' must be 'lora', 'full' or 'heads', not 'LoRA'"),
    ({"lora": None}, "'lora' must be an object"),
    ({"temperatures": {"style": 0}}, "'temperatures.style' must be a number above 0, not 0"),
    ({"thresholds": {"intent": 1.5}}, "'thresholds.intent' must be a score from 0 to 1"),
    ({"decision_thresholds": {"tone": {"x": 0.2}}}, "'decision_thresholds' names head 'tone', which the model does not have"),
    ({"decision_thresholds": {"intent": {"wtb": 0.2}}}, "'decision_thresholds.intent' names label 'wtb'"),
    ({"decision_thresholds": {"intent": {"where_to_buy": "0.2"}}},
     "'decision_thresholds.intent.where_to_buy' must be a score from 0 to 1, not '0.2'"),
    ({"position_offsets": {"style": {"replies": [1, 2]}}}, "positions are 'reply' and 'initial'"),
    ({"position_offsets": {"style": {"reply": [1]}}}, "'position_offsets.style.reply' must be a list of 2 numbers"),
    ({"heads": {"style": ["audience", 1]}}, "no valid 'heads'"),
])
def test_a_config_edited_by_hand_into_nonsense_is_refused_at_load_naming_the_field(tmp_path, tiny_model_dir, edit, message):
    d = _copy(tiny_model_dir, tmp_path / "m")
    cfg = json.loads((d / "config.json").read_text())
    cfg.update(edit)
    (d / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelLoadError, match=re.escape(message)):
        Classifier.load(d, device="cpu")


def test_configs_of_the_shipped_models_and_hand_set_thresholds_load(tmp_path, tiny_model_dir):
    for name in BUNDLED_MODELS:
        read_config(bundled_model_path(name))
    d = _copy(tiny_model_dir, tmp_path / "m")
    cfg = json.loads((d / "config.json").read_text())
    cfg.update(decision_thresholds={"intent": {"where_to_buy": 0.3}, "troll": {"true": 1}}, temperatures={"style": 2},
               position_offsets={"style": {"reply": [0, 4.6], "initial": [0, -2]}}, num_layers=1)
    (d / "config.json").write_text(json.dumps(cfg))
    assert read_config(d).decision_thresholds["troll"] == {"true": 1}


def test_preprocessing_version_mismatch_is_refused(tmp_path, tiny_model_dir):
    d = _copy(tiny_model_dir, tmp_path / "m")
    cfg = json.loads((d / "config.json").read_text())
    cfg["preprocessing_version"] = "0"
    (d / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelLoadError, match="preprocessing"):
        read_config(d)


def test_missing_directory(tmp_path):
    with pytest.raises(ModelLoadError, match="not found"):
        Classifier.load(tmp_path / "nope")


def test_pickles_are_never_loaded(tmp_path, tiny_model_dir, monkeypatch):
    d = _copy(tiny_model_dir, tmp_path / "m")
    (d / "pytorch_model.bin").write_bytes(b"not a pickle, must never be read")

    def no_pickles(*args, **kwargs):
        raise AssertionError("torch.load (pickle) was called")

    monkeypatch.setattr(torch, "load", no_pickles)
    model, _ = load_torch_model(d)
    assert model is not None


def test_onnx_backends_match_the_torch_reference(tiny_model_dir):
    texts = TEXTS * 3
    ref = Classifier.load(tiny_model_dir, backend="torch").predict_logits(texts)
    fp32 = Classifier.load(tiny_model_dir, backend="onnx").predict_logits(texts)
    int8 = Classifier.load(tiny_model_dir, backend="onnx-int8").predict_logits(texts)
    for head in ref:
        np.testing.assert_allclose(fp32[head], ref[head], atol=1e-4)
        assert np.abs(int8[head] - ref[head]).max() < 0.5


def test_a_graph_build_is_logged_at_info_once(tiny_model_dir, tmp_path, caplog):
    import logging

    from commentnlp.backends import build_onnx

    with caplog.at_level(logging.INFO, logger="commentnlp"):
        build_onnx(tiny_model_dir, cache=tmp_path)
        build_onnx(tiny_model_dir, cache=tmp_path)  # cached: nothing to say
    assert [r.getMessage().split(" ")[0] for r in caplog.records] == ["building", "built"]
    assert all(r.name == "commentnlp" and r.levelno == logging.INFO for r in caplog.records)


def test_onnx_graph_is_cached_by_model_hash(tiny_model_dir):
    from commentnlp.backends import build_onnx, cache_dir

    path = build_onnx(tiny_model_dir)
    assert path.is_file() and str(path).startswith(str(cache_dir()))
    mtime = path.stat().st_mtime_ns
    assert build_onnx(tiny_model_dir) == path and path.stat().st_mtime_ns == mtime
    assert not list(path.parent.glob("tmp*")), "no temporary files left behind"


def test_an_unwritable_graph_cache_builds_for_this_process_with_one_warning(tiny_model_dir, tmp_path, monkeypatch):
    """A read-only home or cache (a container) was an OSError traceback at load."""
    import warnings

    from commentnlp import backends

    not_a_dir = tmp_path / "cache"
    not_a_dir.write_text("a file where the cache should be")
    monkeypatch.setenv("COMMENTNLP_CACHE", str(not_a_dir))
    monkeypatch.setattr(backends, "_PROCESS_CACHE", [])
    with pytest.warns(RuntimeWarning, match=r"cannot write the ONNX graph cache .*cache \(Not a directory\).*"
                                             r"set COMMENTNLP_CACHE to a writable directory") as caught:
        clf = Classifier.load(tiny_model_dir, backend="onnx-cascade")
    assert len(caught) == 1
    fallback = backends._PROCESS_CACHE[0]
    assert clf.backend.path.is_relative_to(fallback) and clf.recheck.path.is_relative_to(fallback)
    assert not_a_dir.read_text() == "a file where the cache should be"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # built once: a second load reuses it quietly
        fp32 = Classifier.load(tiny_model_dir, backend="onnx")
    assert fp32.backend.path == clf.recheck.path
    texts = ["where to buy", "lol no"]
    monkeypatch.setenv("COMMENTNLP_CACHE", str(tmp_path / "writable"))
    reference = Classifier.load(tiny_model_dir, backend="onnx")
    assert not reference.backend.path.is_relative_to(fallback)
    for head, logits in reference.predict_logits(texts).items():
        np.testing.assert_allclose(fp32.predict_logits(texts)[head], logits, atol=1e-6)


def test_the_command_line_prints_that_warning_as_one_line(tiny_model_dir, tmp_path):
    import subprocess

    from commentnlp import backends

    not_a_dir = tmp_path / "cache"
    not_a_dir.write_text("")
    env = {**os.environ, "COMMENTNLP_CACHE": str(not_a_dir)}
    result = subprocess.run([sys.executable, "-m", "commentnlp", "classify", "--model", str(tiny_model_dir), "hi"],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"warning: cannot write the ONNX graph cache {not_a_dir} (Not a directory)")
    # then the one-time build, one line as it starts and one when done (the CLI shows the library's INFO log)
    assert [line.split(" ")[0] for line in lines[1:]] == ["building", "built", "building", "built"]
    assert f"model.fp32.v{backends.GRAPH_FORMAT}.onnx" in lines[1] and "int8" in lines[3]
    assert result.stdout.startswith("hi\n")


def test_a_file_or_folder_named_like_a_bundled_model_says_it_hides_it(tmp_path, monkeypatch):
    """An empty ./commentnlp-minilm-l3 made `--model commentnlp-minilm-l3` "model directory not found"."""
    from commentnlp.serialization import resolve_model_path

    monkeypatch.chdir(tmp_path)
    (tmp_path / "commentnlp-minilm-l3").write_text("")
    (tmp_path / "commentnlp-minilm").mkdir()
    for name, kind in (("commentnlp-minilm-l3", "file"), ("commentnlp-minilm", "folder")):
        with pytest.raises(ModelLoadError, match=f"the {kind} of that name here, not a model, hides the bundled model"):
            resolve_model_path(name)
