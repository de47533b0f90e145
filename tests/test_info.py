import json
import os
import re
import subprocess
import sys

from typer.testing import CliRunner

from commentnlp import __version__
from commentnlp.backends import build_onnx
from commentnlp.cli import app
from commentnlp.info import cache_info, format_model_info, format_system_info, model_info, system_info
from commentnlp.schema import HEADS

runner = CliRunner()


def test_system_info_names_the_version_bundled_models_and_packages():
    info = system_info()
    assert info["commentnlp"] == __version__
    assert info["default_model"] == "commentnlp-minilm"
    assert set(info["bundled_models"]) == {"commentnlp-minilm", "commentnlp-minilm-l3"}
    assert all(path and path.endswith(name) for name, path in info["bundled_models"].items())
    assert info["packages"]["onnxruntime"] and info["packages"]["numpy"]
    text = format_system_info(info)
    assert f"commentnlp {__version__}" in text and "commentnlp-minilm (default)" in text


def test_cache_info_counts_the_graphs_built_and_their_bytes(tmp_path, monkeypatch, tiny_model_dir):
    monkeypatch.setenv("COMMENTNLP_CACHE", str(tmp_path))
    assert cache_info() == {"path": str(tmp_path), "graphs": [], "bytes": 0, "unfinished": 0}
    assert model_info(tiny_model_dir)["graphs_cached"] == {"fp32": False, "int8": False}
    graph = build_onnx(tiny_model_dir)
    (tmp_path / "notes.txt").write_text("not a graph")
    info = cache_info()
    assert info["graphs"] == [str(graph.relative_to(tmp_path))]
    assert info["bytes"] == graph.stat().st_size > 0
    assert model_info(tiny_model_dir)["graphs_cached"] == {"fp32": True, "int8": False}
    assert "cached: fp32" in format_model_info(model_info(tiny_model_dir))


def test_a_killed_builds_folder_is_counted_and_swept_an_hour_on(tmp_path, monkeypatch, tiny_model_dir):
    """A build killed midway (kill -9, SIGTERM before it was an interrupt) left its ~60 MB folder in the
    cache for good, and info did not count it."""
    import time

    from commentnlp.backends import UNFINISHED_PREFIX

    monkeypatch.setenv("COMMENTNLP_CACHE", str(tmp_path))
    graph = build_onnx(tiny_model_dir)
    gone = 2 ** 22 + 1  # no process has this id (above Linux's pid_max)
    old, new = graph.parent / f"{UNFINISHED_PREFIX}{gone}-old", graph.parent / f"{UNFINISHED_PREFIX}{gone}-new"
    stopped = graph.parent / f"{UNFINISHED_PREFIX}{os.getpid()}-stopped"  # a build stopped (Ctrl-Z) for hours
    for left in (old, new, stopped):
        left.mkdir()
        (left / graph.name).write_bytes(b"\0" * 1000)
    two_hours_ago = time.time() - 7200
    for left in (old, stopped):
        os.utime(left, (two_hours_ago, two_hours_ago))
    info = cache_info()
    assert (info["unfinished"], info["bytes"]) == (3, graph.stat().st_size + 3000)
    assert "3 unfinished builds (a killed run's; swept after an hour)" in format_system_info(system_info())
    build_onnx(tiny_model_dir, quantize=True)  # the next build sweeps what a killed one left, not a running one's
    assert not old.exists() and new.exists() and stopped.exists()


def test_model_info_reads_the_saved_config(tiny_model_dir):
    info = model_info(tiny_model_dir)
    assert info["heads"] == {h.name: list(h.values) for h in HEADS}
    assert info["finetuning"] == "lora" and info["lora_rank"] == 4 and info["max_length"] == 64
    assert info["metrics"] == {} and info["thread_positions"] == [] and info["training_texts"] is None
    text = format_model_info(info)
    assert "fine-tuning: lora (r=4)" in text and "decisions  highest score" in text and "hashes" not in text


def test_model_info_says_where_the_base_encoder_comes_from(tiny_model_dir, tmp_path):
    """A model whose base is a Hugging Face id goes online to load (33 s to fail offline): info said nothing."""
    import shutil

    assert model_info(tiny_model_dir)["base_source"] == "directory"  # the tests' tiny base, a local folder
    assert model_info("commentnlp-minilm")["base_source"] == "package"
    hub = tmp_path / "hub"
    shutil.copytree(tiny_model_dir, hub)
    config = json.loads((hub / "config.json").read_text())
    (hub / "config.json").write_text(json.dumps({**config, "base_model": "someorg/innocent-minilm"}))
    info = model_info(hub)
    assert info["base_source"] == "hub" and "someorg/innocent-minilm (a Hugging Face Hub id: downloaded on first load" \
        in format_model_info(info)
    assert "Hugging Face" not in format_model_info(model_info(tiny_model_dir))


def test_model_info_says_its_figures_predate_a_threshold_changed_since(tiny_model_dir, tmp_path):
    """After find-threshold changed a threshold, info showed the stored figures with no caveat,
    while the model card said they were those of the earlier threshold."""
    import shutil

    from commentnlp.serialization import read_config, write_config

    model = tmp_path / "m"
    shutil.copytree(tiny_model_dir, model)
    config = read_config(model)
    config.metrics = {"dev": {"n": 10, "summary": {"troll_macro_f1": 0.5}}}
    write_config(model, config)
    assert model_info(model)["thresholds_changed_after_evaluation"] == {}
    assert "computed before" not in format_model_info(model_info(model))
    changed = {"troll=true": {"before": None, "after": 0.55, "data": "dev.jsonl (40 examples; commentnlp find-threshold)"}}
    config.metrics["thresholds_changed_after_evaluation"] = changed
    write_config(model, config)
    info = model_info(model)
    assert info["thresholds_changed_after_evaluation"] == changed and list(info["metrics"]) == ["dev"]
    assert "computed before a decision threshold changed (troll=true none (argmax) -> 0.55 on dev.jsonl (40 examples; " \
           "commentnlp find-threshold)): they are those of the earlier threshold; commentnlp evaluate gives the " \
           "current ones" in format_model_info(info)
    result = runner.invoke(app, ["info", str(model), "--json"])
    assert json.loads(result.output)["thresholds_changed_after_evaluation"] == changed
    assert "computed before a decision threshold changed" in runner.invoke(app, ["info", str(model)]).output


def test_model_info_of_the_default_model_gives_its_real_dev_figures():
    info = model_info()
    real = info["metrics"]["real_dev.jsonl"]
    assert real["n"] == 500 and 0 < real["where_to_buy_f1"] <= 1
    assert info["decision_thresholds"]["intent"]["where_to_buy"] > 0
    assert info["thread_positions"] == ["initial", "reply"]
    assert f"real_dev.jsonl   500 {real['style_macro_f1']:>12.3f}" in format_model_info(info)
    texts = info["training_texts"]  # distinct hashes: a text trained on twice (case aside) counts once
    assert texts["dev"] == info["n_dev"] and 0.99 * info["n_train"] <= texts["train"] <= info["n_train"]
    assert "keeps their hashes (evaluate tells records it has seen)" in format_model_info(info)


def test_info_needs_neither_torch_nor_transformers():
    code = ("import sys; from commentnlp.info import model_info, system_info; model_info(); system_info(); "
            "print(sorted(m for m in ('torch', 'transformers', 'onnxruntime') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_info_command(tiny_model_dir, tmp_path):
    result = runner.invoke(app, ["info"])
    assert result.exit_code == 0 and f"commentnlp {__version__}" in result.output
    result = runner.invoke(app, ["info", str(tiny_model_dir), "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["lora_rank"] == 4
    result = runner.invoke(app, ["info", "commentnlp-minilm-l3"])
    assert result.exit_code == 0 and "layers: 3" in result.output
    result = runner.invoke(app, ["info", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.strip() == f"error: {tmp_path} is not a commentnlp model: config.json is missing"


def test_info_takes_the_model_as_model_option_as_every_other_command(tiny_model_dir, tmp_path):
    """commentnlp info --model m2 exited 2 "No such option: --model"; every other command takes --model/-m."""
    positional = runner.invoke(app, ["info", str(tiny_model_dir), "--json"])
    for option in ("--model", "-m"):
        result = runner.invoke(app, ["info", option, str(tiny_model_dir), "--json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["path"] == json.loads(positional.output)["path"]
    assert runner.invoke(app, ["info", str(tiny_model_dir), "-m", str(tiny_model_dir)]).exit_code == 0  # the same twice
    result = runner.invoke(app, ["info", str(tiny_model_dir), "--model", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.strip() == f"error: two models: {tiny_model_dir} and --model {tmp_path}; give one"
    help_text = runner.invoke(app, ["info", "--help"], env={"COLUMNS": "200"}).output
    assert "MODEL" in help_text and "--model" in help_text and re.search(r"(^|\s)-m\b", help_text)


def test_version_option():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output == f"commentnlp {__version__}\n"


def test_model_info_calls_a_base_path_that_is_not_here_a_missing_directory(tiny_model_dir, tmp_path):
    """A model trained on another machine on a base at /home/x/bert was described as "a Hugging Face Hub id:
    downloaded on first load": from_pretrained reads only a repo id huggingface_hub's validate_repo_id
    accepts ("name" or "org/name") from the Hub; any other name is a path, here a missing directory."""
    import shutil

    model = tmp_path / "m"
    shutil.copytree(tiny_model_dir, model)
    config = json.loads((model / "config.json").read_text())
    bases = ((str(tmp_path / "gone" / "bert"), "missing"), ("./gone", "missing"), ("../gone", "missing"),
             ("~/gone", "missing"), ("models/gone/bert", "missing"), ("someorg/innocent-minilm", "hub"),
             ("bert-base-uncased", "hub"))
    for base, source in bases:
        (model / "config.json").write_text(json.dumps({**config, "base_model": base}))
        info = model_info(model)
        assert info["base_source"] == source, base
        text = format_model_info(info)
        assert ("Hugging Face" in text) == (source == "hub"), base
        assert (f"base       {base} (no such directory here" in text) == (source == "missing"), base
    from commentnlp.serialization import base_load_error, is_hub_id

    assert all(is_hub_id(base) == (source == "hub") for base, source in bases)
    # training names the missing directory as such too, not transformers' "Repo id must be in the form ..."
    assert str(base_load_error("models/gone/bert", OSError("Repo id must be ..."))).endswith(": no such directory")
