"""Training: fine-tune the multi-head model (LoRA by default) with early stopping on a dev split.

``train(config)`` is what both ``commentnlp train`` and ``training/train.py`` call. It is
seeded and reproducible on CPU, uses CUDA when ``training.device`` allows it, and saves
a self-describing model directory (see :mod:`commentnlp.serialization`) whose
``config.json`` and model card carry the test metrics of the saved model.
"""

from __future__ import annotations

import copy
import os
import random
import re
import shutil
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .batching import pad_batch, sorted_batches, sortish_batches
from .calibration import (expected_calibration_error, find_decision_threshold, fit_class_offset, fit_temperature, softmax,
                          threshold_for_precision)
from .data import (DataError, data_digests, dedupe_key_version, encode_labels, expand, recorded_key_version,
                   heads_by_file, split_data, text_hashes, threshold_records)
from .evaluation import evaluate_labels, rename_hint, summary
from .exports import distinct_files, plural, reply_of
from .preprocessing import normalize
from .schema import HEADS, HEADS_BY_NAME, HEAD_NAMES, THREAD_POSITIONS
from .serialization import write_training_texts
from .training_args import ConfigError, ModelArgs, TrainingConfig

__all__ = ["train", "finalize", "refinalize", "TrainResult"]

Log = Callable[[str], None]


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class TrainResult(dict):
    """``{"output_dir", "history", "metrics", "best_epoch", "seconds"}``."""


def _tokenize(tokenizer, records: list[dict], max_length: int) -> tuple[list[list[int]], dict[str, np.ndarray]]:
    from datasets import Dataset, disable_progress_bars

    disable_progress_bars()
    ds = Dataset.from_list([{"text": normalize(r["text"]), **encode_labels(r)} for r in records])
    ds = ds.map(lambda b: tokenizer(b["text"], truncation=True, max_length=max_length), batched=True,
                remove_columns=["text"])
    labels = {h: np.asarray(ds[h], dtype=np.int64) for h in HEAD_NAMES}
    return list(ds["input_ids"]), labels


def _class_weights(labels: dict[str, np.ndarray]):
    """Softened 'balanced' class weights per head (inverse square root of frequency)."""
    import torch

    out = {}
    for head in HEADS:
        y = labels[head.name]
        y = y[y >= 0]
        counts = np.bincount(y, minlength=len(head.values)).astype(float)
        w = np.where(counts > 0, np.sqrt(counts.sum() / np.maximum(counts, 1) / len(head.values)), 1.0)
        out[head.name] = torch.tensor(w / w[counts > 0].mean() if (counts > 0).any() else w, dtype=torch.float32)
    return out


def _logits(model, ids: list[list[int]], batch_size: int, device: str, pad_id: int) -> dict[str, np.ndarray]:
    import torch

    model.eval()
    out = {h.name: np.zeros((len(ids), len(h.values)), dtype=np.float32) for h in HEADS}
    with torch.inference_mode():
        for idx in sorted_batches([len(x) for x in ids], batch_size):
            input_ids, mask = pad_batch(ids, idx, pad_id)
            logits = model(torch.from_numpy(input_ids).to(device), torch.from_numpy(mask).to(device))
            for name, v in logits.items():
                out[name][idx] = v.float().cpu().numpy()
    return out


#: ``{head: labels}`` of the schema: what every model trained here predicts.
_HEAD_VALUES = {h.name: list(h.values) for h in HEADS}


def _report(records: list[dict], logits: dict[str, np.ndarray]) -> dict[str, Any]:
    predicted = {h: [_HEAD_VALUES[h][i] for i in logits[h].argmax(axis=1)] for h in _HEAD_VALUES}
    return evaluate_labels(records, predicted, _HEAD_VALUES)


def _selection_score(report: dict[str, Any]) -> float:
    scores = [report[h]["macro_f1"] for h in HEAD_NAMES if h in report]
    return float(np.mean(scores)) if scores else 0.0


#: A head is calibrated (temperature, abstain threshold) only on at least this many labelled dev records.
MIN_CALIBRATION_RECORDS = 10


def _calibrate(logits: dict[str, np.ndarray], labels: dict[str, np.ndarray], log: Log = _stderr,
               ) -> tuple[dict, dict, dict]:
    """Per head: the temperature fitted on dev, the abstain threshold, and the ECE before and after;
    a head with too few labelled dev records gets none, and the log says so."""
    temperatures, thresholds, ece = {}, {}, {}
    for head in HEAD_NAMES:
        y = labels[head]
        keep = y >= 0
        if keep.sum() < MIN_CALIBRATION_RECORDS:
            log(f"warning: {head}: {plural(int(keep.sum()), 'labelled dev record')}, fewer than "
                f"{MIN_CALIBRATION_RECORDS}: not calibrated (its scores are the raw softmax) and no abstain threshold "
                f"(--abstain never answers unsure there); label more dev records for it")
            continue
        z, yk = logits[head][keep], y[keep]
        t = fit_temperature(z, yk)
        temperatures[head] = t
        before = expected_calibration_error(softmax(z), yk)
        after = expected_calibration_error(softmax(z, t), yk)
        ece[head] = {"before": round(before, 4), "after": round(after, 4)}
        thresholds[head] = threshold_for_precision(softmax(z, t), yk, target=0.9)
    return temperatures, thresholds, ece


#: labels whose decision threshold is tuned on dev (the rare classes a CM must not miss)
DECISION_LABELS = {"troll": "true", "intent": "where_to_buy"}


#: A decision threshold is only fitted on a set holding at least this many examples of its label.
MIN_THRESHOLD_POSITIVES = 30


def _decision_thresholds(candidates: list[tuple[str, dict[str, np.ndarray], dict[str, np.ndarray]]],
                         temperatures: dict[str, float], log: Log) -> tuple[dict[str, dict[str, float]], dict[str, str]]:
    """Per-label decision thresholds (:data:`DECISION_LABELS`) fitted for the best F1, and the set
    each was fitted on.

    ``candidates`` are ``(name, logits, labels)`` sets in order of preference; each label is
    fitted on the first that holds at least :data:`MIN_THRESHOLD_POSITIVES` examples of it, and
    gets no threshold when none does (a threshold fitted on a handful of positives is noise).
    """
    out: dict[str, dict[str, float]] = {}
    fitted_on: dict[str, str] = {}
    for head, label in DECISION_LABELS.items():
        j = list(HEADS_BY_NAME[head].values).index(label)
        for name, logits, labels in candidates:
            keep = labels[head] >= 0
            positives = int((labels[head][keep] == j).sum())
            if positives >= MIN_THRESHOLD_POSITIVES:
                break
        else:
            log(f"no decision threshold for {head}={label}: {positives} examples in {name}")
            continue
        probs = softmax(logits[head][keep], temperatures.get(head, 1.0))
        t, before, after = find_decision_threshold(probs, labels[head][keep], list(HEADS_BY_NAME[head].values), label)
        fitted_on[f"{head}={label}"] = f"{name} ({positives} examples)"
        if t is not None:
            out[head] = {label: t}
            log(f"decision threshold {head}={label} at {t} ({name}, {positives} positives): "
                f"F1 {before:.3f} -> {after:.3f}")
    return out, fitted_on


#: Heads whose logits shift with a comment's known thread position, and the class they shift:
#: a reply talks to other people, which LABELING.md calls community.
POSITION_HEADS = {"style": "community"}

#: A thread-position offset is only fitted on a set holding at least this many comments of that position.
MIN_POSITION_EXAMPLES = 30


def _position_offsets(candidates: list[tuple[str, dict[str, np.ndarray], dict[str, np.ndarray], list]],
                      temperatures: dict[str, float], log: Log) -> tuple[dict[str, dict[str, list[float]]], dict[str, str]]:
    """Per head of :data:`POSITION_HEADS` and thread position (``schema.THREAD_POSITIONS``): the logit
    offset of its class that best fits the labels of comments whose position is known, and the
    set each was fitted on (the first of ``candidates``, ``(name, logits, labels, is_reply)``,
    holding :data:`MIN_POSITION_EXAMPLES` labelled comments of that position)."""
    out: dict[str, dict[str, list[float]]] = {}
    fitted_on: dict[str, str] = {}
    for head, label in POSITION_HEADS.items():
        j = list(HEADS_BY_NAME[head].values).index(label)
        for position, flag in THREAD_POSITIONS.items():
            for name, logits, labels, replies in candidates:
                keep = (labels[head] >= 0) & np.array([r is flag for r in replies], dtype=bool)
                if keep.sum() >= MIN_POSITION_EXAMPLES:
                    break
            else:
                log(f"no {position} offset for {head}: too few labelled comments whose position is known")
                continue
            z = logits[head][keep] / temperatures.get(head, 1.0)
            b = fit_class_offset(z, labels[head][keep], j)
            offsets = [0.0] * z.shape[1]
            offsets[j] = b
            out.setdefault(head, {})[position] = offsets
            fitted_on[f"{head}/{position}"] = f"{name} ({int(keep.sum())} {position} comments)"
            log(f"{head} offset for {position} comments: {label} logit {b:+.2f} ({name}, {int(keep.sum())} comments)")
    return out, fitted_on


def _label_arrays(records: list[dict]) -> dict[str, np.ndarray]:
    """Class index per record for each head (-100 where unlabelled)."""
    encoded = [encode_labels(r) for r in records]
    return {h: np.array([e[h] for e in encoded], dtype=np.int64) for h in HEAD_NAMES}


def _build_model(config: TrainingConfig):
    import torch
    from transformers import AutoTokenizer

    from .modeling import MultiHeadModel
    from .serialization import base_load_error, load_base_encoder, quiet_transformers, resolve_base_model

    m = config.model
    source = resolve_base_model(m.base_model)
    try:
        with quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(source)
    except (OSError, ValueError) as exc:  # not a directory, not a Hugging Face id (or offline)
        raise base_load_error(source, exc) from None
    encoder = load_base_encoder(source, m.num_layers)
    vocabulary = getattr(encoder.config, "vocab_size", None)
    if vocabulary and len(tokenizer) < min(vocabulary, 1000) // 2:  # transformers builds an empty one, unsaid
        raise ConfigError(f"model.base_model {m.base_model}: its tokenizer holds {len(tokenizer)} tokens for an encoder "
                          f"of {vocabulary}, so every word would read as unknown; the directory lacks its tokenizer "
                          "files (tokenizer.json; or vocab.txt, vocab.json and merges.txt, or a *.model, with "
                          "tokenizer_config.json): copy them in from the model it was saved from")
    positions = getattr(encoder.config, "max_position_embeddings", None)
    if positions and m.max_length > positions:
        raise ConfigError(f"model.max_length is {m.max_length}, but {m.base_model} reads at most {positions} tokens")
    if m.finetuning == "lora":
        from peft import LoraConfig, get_peft_model

        if m.lora_target_modules == ModelArgs.lora_target_modules and not any(
                re.fullmatch(m.lora_target_modules, name) for name, _ in encoder.named_modules()):
            m.lora_target_modules = "all-linear"  # the default names BERT's layers; DistilBERT's differ (saved as such)
        try:
            with quiet_transformers():
                encoder = get_peft_model(encoder, LoraConfig(r=m.lora_r, lora_alpha=m.lora_alpha,
                                                             lora_dropout=m.lora_dropout,
                                                             target_modules=m.lora_target_modules, bias="none"))
        except ValueError as exc:
            raise ConfigError(f"model.lora_target_modules {m.lora_target_modules!r} names no layer of "
                              f"{m.base_model}: {exc}") from None
    elif m.finetuning == "heads":
        for p in encoder.parameters():
            p.requires_grad_(False)
    model = MultiHeadModel(encoder, HEADS, dropout=m.dropout)
    torch.manual_seed(config.training.seed)
    for head in model.heads.values():
        torch.nn.init.normal_(head.weight, std=0.02)
        torch.nn.init.zeros_(head.bias)
    return model, tokenizer


def _check_every_head_is_taught(records: list[dict], has_teacher: bool, log: Log = _stderr) -> None:
    """Refuse training data that labels no record of some head, or gives all its records one label,
    unless a teacher teaches it: that head would answer noise (a random troll = true on every
    comment, which the playbook acts on), or only ever that label (troll = false on every troll).
    A field that looks like such a head under another name (``is_troll``) is named either way."""
    labels = {h: {r[h] for r in records if r.get(h) is not None} for h in HEAD_NAMES}
    unlabeled = [h for h in HEAD_NAMES if not labels[h]]
    rename = rename_hint(records, unlabeled) if unlabeled else ""
    if has_teacher:
        if rename:
            log(f"warning: no training record labels {', '.join(unlabeled)}: the teacher's answers are its targets"
                f"{rename}")
        return
    if unlabeled:
        raise DataError(
            f"no training record labels {', '.join(unlabeled)}{rename}: the model would answer noise there, and the "
            f"playbook would act on it. {_LABEL_OR_TEACH}")
    single = [f"{h} (all {next(iter(labels[h]))!r})" for h in HEAD_NAMES if len(labels[h]) == 1]
    if single:
        raise DataError(f"every training record gives one label to {', '.join(single)}: the model could only ever "
                        f"answer that. {_LABEL_OR_TEACH}")


def _warn_of_labels_not_trained(train: list[dict], dev: list[dict], log: Log) -> None:
    """Name the labels dev holds that no training record has: the model can hardly ever answer them."""
    for head in HEAD_NAMES:
        trained = {str(r[head]) for r in train if r.get(head) is not None}
        in_dev = Counter(str(r[head]) for r in dev if r.get(head) is not None and str(r[head]) not in trained)
        for label, n in sorted(in_dev.items()):
            log(f"warning: no training record is {head}={label} ({n} in dev): the model can hardly ever answer it")


_LABEL_OR_TEACH = ("Label some records for every head and label, or learn those heads from a trained model: "
                   "--training.teacher commentnlp-minilm (its answers on your texts become their targets)")


def _teacher_logits(teachers: list[str], records: list[dict], device: str, log: Log) -> dict[str, np.ndarray]:
    """Raw logits of saved teacher models on the training texts (computed once, before training,
    on the training device); several teachers are an ensemble: their logits are averaged."""
    from .classifier import Classifier

    texts = [r["text"] for r in records]
    per_teacher = []
    for teacher in teachers:
        t0 = time.time()
        clf = Classifier.load(teacher, device=device, backend="exact")
        if {h: list(v) for h, v in clf.heads.items()} != _HEAD_VALUES:
            raise ValueError(f"teacher {teacher} has other heads or labels than this model: {clf.heads}")
        per_teacher.append(clf.predict_logits(texts))
        log(f"teacher {teacher}: logits of {len(records)} training texts in {time.time() - t0:.0f}s")
    return {h: np.mean([logits[h] for logits in per_teacher], axis=0) for h in per_teacher[0]}


def _pin_data_files(config: TrainingConfig) -> tuple[TrainingConfig, dict[str, str]]:
    """A copy of ``config`` whose data globs are the files they match now, and those files' digests.

    Training splits and records this copy, so the saved config names exactly the files trained
    on, even if more appear while it runs.
    """
    config = copy.deepcopy(config)
    for key in ("train", "dev", "test", "corpus_labels", "evaluate", "exclude"):
        try:
            files = []
            for pattern in getattr(config.data, key):
                matched = expand([pattern])
                if not matched:  # a glob that matches nothing is a mistake, not an empty split
                    raise DataError(f"no file matches {pattern}")
                files += matched
            setattr(config.data, key, distinct_files(str(p) for p in files))  # a file named twice (a.jsonl, ./a.jsonl): once
        except DataError as exc:  # name the setting: a config copied from the repository names data/*.jsonl
            hint = " ('test = []' for no test split)" if key == "test" else ""
            raise DataError(f"[data] {key}: {exc}{hint}") from None
    d = config.data
    labelled = [Path(f) for f in [*d.train, *d.dev, *(d.corpus_labels if d.datasets_dir else [])]]
    for pattern in d.ignore_heads:  # one that matches no file would leave the heads it names trained on
        try:
            matched = heads_by_file({pattern: []}, labelled)
        except DataError as exc:
            raise DataError(f"[data] ignore_heads: {exc}") from None
        if not matched:
            raise DataError(f"[data] ignore_heads: {pattern} matches none of the files trained on (train, dev"
                            f"{', corpus_labels' if d.datasets_dir else ''}): "
                            f"{', '.join(map(str, labelled[:3]))}{', ...' if len(labelled) > 3 else ''}")
    d.threshold_labels = {f: sorted(heads) for f, heads in
                          heads_by_file(d.threshold_labels, expand(d.threshold_labels), "threshold_labels").items()}
    return config, data_digests([*d.train, *d.dev, *d.test, *d.corpus_labels, *d.threshold_labels])


def check_output_dir(config: TrainingConfig) -> Path:
    """The directory ``training.output_dir`` names, or a :class:`ConfigError` (before any data is
    read or any step trained) if a model must not be saved there: a bundled model's directory
    (unless ``training.overwrite_bundled``), a file, or a directory holding anything but a saved
    model (a previous model is saved over, as a retrain does)."""
    from .serialization import BUNDLED_MODELS, bundled_dir_at, is_model_dir

    args = config.training
    out = Path(args.output_dir)
    bundled = bundled_dir_at(out)
    if bundled and not args.overwrite_bundled:
        raise ConfigError(f"training.output_dir {out} is the bundled model {bundled}, which everything that uses "
                          f"this install loads by default: save to another directory (-o models/mine), or add "
                          f"--training.overwrite_bundled true to replace the shipped model on purpose")
    if str(out) in BUNDLED_MODELS and not out.exists():
        raise ConfigError(f"training.output_dir {out} is the name of a bundled model: --model {out} would load the "
                          f"shipped one instead of yours from other directories; name it otherwise, e.g. -o models/mine")
    if out.exists() and not out.is_dir():
        raise ConfigError(f"training.output_dir {out} is a file, not a directory: give a new directory for the model")
    if out.is_dir() and not is_model_dir(out):
        others = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))  # .gitkeep, .DS_Store, a stage
        if others:
            shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
            raise ConfigError(f"training.output_dir {out} is a directory that holds other files than a saved model "
                              f"({shown}), which saving would overwrite or delete: give a new or empty directory, "
                              f"or a model directory to retrain")
    _check_writable(out)
    return out


def _check_writable(out: Path) -> None:
    """A :class:`ConfigError` unless directory ``out`` can be created and written (tried, then undone:
    the directories this made are removed again), so that a model trained for half an hour is not
    lost on a read-only or missing mount."""
    made: list[Path] = []
    try:
        missing = out
        while not missing.exists() and missing != missing.parent:
            made.append(missing)
            missing = missing.parent
        if not missing.is_dir():
            raise NotADirectoryError(20, f"{missing} is not a directory")
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f"{_STAGE_PREFIX}write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"training.output_dir {out}: cannot save a model there ({exc.strerror or exc})") from None
    finally:
        for d in made:  # deepest first
            try:
                d.rmdir()
            except OSError:
                pass


#: Where a model is saved and finalised before it replaces what ``training.output_dir`` holds.
_STAGE_PREFIX = ".partial-"


def train(config: TrainingConfig, log: Log = _stderr) -> TrainResult:
    """Train a model as ``config`` says and save it to ``config.training.output_dir``."""
    config.validate()
    with dedupe_key_version(config.data.dedupe_key):  # the texts found twice as data.dedupe_key finds them
        return _train(config, log)


def _train(config: TrainingConfig, log: Log) -> TrainResult:
    import torch
    from transformers import get_linear_schedule_with_warmup, set_seed

    from .backends import resolve_device
    from .serialization import ModelConfig, save_model

    t0 = time.time()
    check_output_dir(config)
    config, digests = _pin_data_files(config)
    args = config.training
    if isinstance(args.teacher, str):  # set from Python as one path
        args.teacher = [args.teacher] if args.teacher else []
    set_seed(args.seed)
    device = resolve_device(args.device)
    if config.data.corpus_unlabeled and not args.teacher:
        raise ValueError("data.corpus_unlabeled needs training.teacher: unlabeled texts only learn from a teacher")
    train_records, dev_records, test_records = split_data(config, log)
    log(f"data: train {len(train_records)}, dev {len(dev_records)}, test {len(test_records)}; device {device}")
    _check_every_head_is_taught(train_records, bool(args.teacher), log)
    _warn_of_labels_not_trained(train_records, dev_records, log)
    # read now, not after training: a bad evaluation or threshold file is told before any step is trained
    eval_sets = evaluation_sets(config)
    threshold_set = threshold_records(config, [*train_records, *dev_records, *test_records], log)

    model, tokenizer = _build_model(config)
    model.to(device)
    pad_id = tokenizer.pad_token_id or 0
    train_ids, train_labels = _tokenize(tokenizer, train_records, config.model.max_length)
    dev_ids, _ = _tokenize(tokenizer, dev_records, config.model.max_length)

    class_weights = {k: v.to(device) for k, v in _class_weights(train_labels).items()} if args.class_weights else None
    teacher_logits = _teacher_logits(args.teacher, train_records, device, log) if args.teacher else None
    head_params = list(model.heads.parameters())
    head_ids = {id(p) for p in head_params}
    enc_params = [p for p in model.parameters() if p.requires_grad and id(p) not in head_ids]
    groups = [{"params": head_params, "lr": args.head_learning_rate}]
    if enc_params:
        groups.append({"params": enc_params, "lr": args.learning_rate})
    optimizer = torch.optim.AdamW(groups, weight_decay=args.weight_decay)
    rng = random.Random(args.seed)
    lengths = [len(x) for x in train_ids]
    steps_per_epoch = -(-len(train_ids) // args.batch_size)
    total = steps_per_epoch * args.epochs
    if args.max_steps > 0:
        total = min(total, args.max_steps)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(total * args.warmup_ratio), total)

    from .modeling import distillation_loss, multi_head_loss

    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    n_trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    depth = f", first {config.model.num_layers} layers" if config.model.num_layers else ""
    log(f"model: {config.model.base_model} ({config.model.finetuning}{depth}), {n_trainable:,} trainable parameters")
    history, best_score, best_state, best_epoch, bad, step = [], -1.0, None, 0, 0, 0
    for epoch in range(1, args.epochs + 1):
        model.train()
        running, ran, t_epoch = 0.0, 0, time.time()
        for idx in sortish_batches(lengths, args.batch_size, rng):
            input_ids, mask = pad_batch(train_ids, idx, pad_id)
            logits = model(torch.from_numpy(input_ids).to(device), torch.from_numpy(mask).to(device))
            labels = {h: torch.from_numpy(train_labels[h][idx]).to(device) for h in HEAD_NAMES}
            loss = multi_head_loss(logits, labels, class_weights, args.head_weights)
            if teacher_logits is not None:
                soft = {h: torch.from_numpy(v[idx]).to(device) for h, v in teacher_logits.items()}
                loss = loss + args.distill_weight * distillation_loss(logits, soft, args.distill_temperature)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for g in groups for p in g["params"]], 1.0)
            optimizer.step()
            scheduler.step()
            running += float(loss.detach())
            ran += 1
            step += 1
            if args.max_steps and step >= args.max_steps:
                break
        dev_logits = _logits(model, dev_ids, args.eval_batch_size, device, pad_id)
        report = _report(dev_records, dev_logits)
        score = _selection_score(report)
        history.append({"epoch": epoch, "loss": round(running / max(1, ran), 4), "dev_score": round(score, 4),
                        **summary(report), "seconds": round(time.time() - t_epoch, 1)})
        log(f"epoch {epoch}: loss {history[-1]['loss']}, dev mean macro-F1 {score:.4f} "
            f"({', '.join(f'{k} {v:.3f}' for k, v in summary(report).items())}) [{history[-1]['seconds']}s]")
        if score > best_score:
            best_score, best_epoch, bad = score, epoch, 0
            best_state = {n: p.detach().clone() for n, p in model.named_parameters() if n in trainable}
        else:
            bad += 1
            if bad >= args.patience:
                log(f"early stopping: no dev improvement for {args.patience} epochs")
                break
        if args.max_steps and step >= args.max_steps:
            break
    if best_state is not None:
        params = dict(model.named_parameters())
        with torch.no_grad():
            for n, v in best_state.items():
                params[n].copy_(v)

    m = config.model
    model_config = ModelConfig(
        base_model=m.base_model,
        finetuning=m.finetuning,
        num_layers=m.num_layers or None,
        lora={"r": m.lora_r, "alpha": m.lora_alpha, "dropout": m.lora_dropout, "target_modules": m.lora_target_modules}
        if m.finetuning == "lora" else None,
        max_length=m.max_length,
        training={
            "config": config.to_dict(),
            "data_sha256": digests,
            "best_epoch": best_epoch,
            "history": history,
            "dedupe_key": config.data.dedupe_key,  # how its data split: refinalize and the baselines split it so again
            "n_train": len(train_records),
            "n_dev": len(dev_records),
            "trained_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "seconds": round(time.time() - t0, 1),
            "device": device,
        },
    )
    out_dir = Path(args.output_dir)
    model.to("cpu")
    # saved and finalised beside what the directory holds, which it replaces only once complete: a
    # failure (a full disk) leaves no half-saved, uncalibrated model that loads without a warning
    existed = out_dir.exists()
    for stale in out_dir.glob(f"{_STAGE_PREFIX}*") if existed else []:  # of a run that was killed
        shutil.rmtree(stale, ignore_errors=True)
    stage = out_dir / f"{_STAGE_PREFIX}{os.getpid()}"
    try:
        save_model(stage, model, tokenizer, model_config, training_texts=_training_text_hashes(train_records, dev_records))
        metrics = finalize(stage, dev_records, {"test": test_records, **eval_sets}, log, threshold_set=threshold_set)
        _replace_model(stage, out_dir)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        if not existed:
            shutil.rmtree(out_dir, ignore_errors=True)
        raise
    log(f"saved {out_dir} in {time.time() - t0:.0f}s (best epoch {best_epoch})")
    return TrainResult(output_dir=str(out_dir), history=history, metrics=metrics,
                       best_epoch=best_epoch, seconds=round(time.time() - t0, 1))


def _replace_model(stage: Path, out_dir: Path) -> None:
    """Move the model saved in ``stage`` into ``out_dir``, replacing the model files it held (and
    removing those of the old model the new one has not: an encoder/ beside an adapter would mislead)."""
    from .serialization import CONFIG_NAME, OPTIONAL_MODEL_FILES

    def remove(path: Path) -> None:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()

    remove(out_dir / CONFIG_NAME)  # first: a move cut short leaves no config naming a mix of two models
    for name in OPTIONAL_MODEL_FILES:
        if not (stage / name).exists():
            remove(out_dir / name)
    for entry in sorted(stage.iterdir(), key=lambda p: p.name == CONFIG_NAME):  # config.json last
        remove(out_dir / entry.name)
        entry.rename(out_dir / entry.name)
    stage.rmdir()


def evaluation_sets(config: TrainingConfig) -> dict[str, list[dict]]:
    """The records of the ``[data] evaluate`` files, by a name each (the file's name, with as many of
    its parent folders as tell two files of one name apart: ``a/real.jsonl``, ``b/real.jsonl``)."""
    from .data import read_labeled

    paths = distinct_files(str(p) for p in expand(config.data.evaluate))  # a/x.jsonl and ./a/x.jsonl: once
    names = [Path(p).name for p in paths]
    for depth in range(2, max((len(Path(p).parts) for p in paths), default=0) + 1):
        if len(set(names)) == len(names) and not {"dev", "test"} & set(names):
            break
        names = ["/".join(Path(p).parts[-depth:]) for p in paths]
    try:
        return {name: read_labeled(p) for name, p in zip(names, paths)}
    except DataError as exc:
        raise DataError(f"[data] evaluate: {exc}") from None


def finalize(model_dir: str | Path, dev_records: list[dict], eval_sets: dict[str, Any], log: Log = _stderr,
             threshold_set: list[dict] | None = None) -> dict:
    """Calibrate a saved model on dev, pick its thresholds, evaluate it, and write config + model card
    (and the dev activation ranges that smooth its int8 graph). Each decision threshold is fitted
    on the first of ``threshold_set`` (real comments not trained on), dev's real comments and all
    of dev that holds 30+ examples of its label.

    Everything is computed through the inference path users get by default (``Classifier.load``),
    so the figures in the model card are the ones ``commentnlp evaluate`` reproduces.
    """
    from .classifier import Classifier
    from .model_card import save_config_and_card
    from .quantization import activation_ranges
    from .serialization import save_activation_ranges

    model_dir = Path(model_dir)
    dev_texts = [r["text"] for r in dev_records]
    # first, as they are part of the weights that key the cached ONNX graphs
    save_activation_ranges(model_dir, activation_ranges(Classifier.load(model_dir, backend="torch", device="cpu"), dev_texts))
    clf = Classifier.load(model_dir, backend="exact")  # raw logits do not depend on the calibration being replaced
    config = clf.config
    dev_logits = clf.predict_logits(dev_texts)
    dev_labels = _label_arrays(dev_records)
    temperatures, thresholds, ece = _calibrate(dev_logits, dev_labels, log)
    config.temperatures, config.thresholds = temperatures, thresholds
    # decision thresholds follow the comments the model will meet: real ones, held out, else dev's share
    # and so do the thread-position offsets
    candidates = []
    if threshold_set:
        candidates.append((f"{len(threshold_set)} held-out real comments",
                           clf.predict_logits([r["text"] for r in threshold_set]), _label_arrays(threshold_set),
                           [reply_of(r) for r in threshold_set]))
    dev_replies = [reply_of(r) for r in dev_records]
    real = np.array([str(r.get("source", "")).startswith("corpus:") for r in dev_records])
    if real.any():
        candidates.append(("the real comments of dev", {h: v[real] for h, v in dev_logits.items()},
                           {h: v[real] for h, v in dev_labels.items()}, [r for r, k in zip(dev_replies, real) if k]))
    candidates.append(("dev", dev_logits, dev_labels, dev_replies))
    config.decision_thresholds, fitted_on = _decision_thresholds([c[:3] for c in candidates], temperatures, log)
    config.position_offsets, offsets_fitted_on = _position_offsets(candidates, temperatures, log)
    config.metrics = {"calibration_ece_dev": ece, "decision_thresholds_fitted_on": fitted_on,
                      "position_offsets_fitted_on": offsets_fitted_on}
    config.metrics.update(evaluate_saved(clf, {"dev": dev_records, **eval_sets}, log))  # the new calibration
    save_config_and_card(model_dir, config)
    return config.metrics


def refinalize(model_dir: str | Path, log: Log = _stderr) -> dict:
    """Re-run :func:`finalize` on a saved model with the data splits recorded in its config (and
    record its training texts' hashes, :func:`record_training_texts`)."""
    from .serialization import read_config

    config, train, dev, test = _recorded_splits(model_dir, log)
    write_training_texts(model_dir, _training_text_hashes(train, dev))
    with dedupe_key_version(recorded_key_version(read_config(model_dir).training)):
        threshold_set = threshold_records(config, [*train, *dev, *test], log)
    return finalize(model_dir, dev, {"test": test, **evaluation_sets(config)}, log, threshold_set=threshold_set)


def record_training_texts(model_dir: str | Path, log: Log = _stderr) -> dict[str, int]:
    """Write ``training_texts.safetensors`` for a model saved without it: the hashes of the train and
    dev texts, rebuilt from the data its config records (which ``evaluate`` then recognises).
    Returns ``{split: texts}``."""
    _, train, dev, _ = _recorded_splits(model_dir, log)
    write_training_texts(model_dir, _training_text_hashes(train, dev))
    return {"train": len(train), "dev": len(dev)}


def _recorded_splits(model_dir: str | Path, log: Log) -> tuple[TrainingConfig, list[dict], list[dict], list[dict]]:
    """A saved model's training config and its train/dev/test records, rebuilt from the data files it
    records; a DataError if those files changed since (their digests) or the split came out otherwise."""
    from .serialization import read_config

    saved = read_config(model_dir).training
    config = TrainingConfig.from_dict(saved["config"])
    _, digests = _pin_data_files(config)
    changed = [f for f, digest in saved.get("data_sha256", {}).items() if digests.get(f) != digest]
    if changed:
        raise DataError(f"the data {model_dir} was trained on changed since: {', '.join(changed)}")
    with dedupe_key_version(recorded_key_version(saved)):  # duplicates found as when it was trained
        train, dev, test = split_data(config, log)
    if (saved.get("n_train", len(train)), saved.get("n_dev", len(dev))) != (len(train), len(dev)):
        raise DataError(f"the data of {model_dir} splits into {len(train)} train / {len(dev)} dev records, "
                        f"not the {saved['n_train']} / {saved['n_dev']} it was trained on")
    return config, train, dev, test


def _training_text_hashes(train: list[dict], dev: list[dict]) -> dict[str, Any]:
    return {"train": text_hashes(r["text"] for r in train), "dev": text_hashes(r["text"] for r in dev)}


def baselines_data(config, model_dir: str | Path) -> str:
    """The file :func:`add_baselines` evaluates on by default: the first ``[data] evaluate`` file a
    saved model's config records, or a DataError saying to name one."""
    evaluate = TrainingConfig.from_dict((config.training or {}).get("config") or {}).data.evaluate
    if not evaluate:
        raise DataError(f"{model_dir} was trained without [data] evaluate files, the baselines' default data: "
                        f"name the labelled records to evaluate them on (finalize.py --baselines-data FILE)")
    return evaluate[0]


def add_baselines(model_dir: str | Path, data: str | Path | None = None, log: Log = _stderr) -> dict:
    """Fit the baselines on the model's training data, evaluate them on ``data`` (default: the
    first evaluation file of its config) and record them in config.json and the model card."""
    from .baselines import baseline_training_records, comparison_table, run_baselines
    from .classifier import Classifier
    from .data import read_labeled
    from .evaluation import evaluate_predictions, predict_records
    from .model_card import save_config_and_card
    from .serialization import read_config

    model_dir = Path(model_dir)
    config = read_config(model_dir)
    data = data or baselines_data(config, model_dir)
    records = read_labeled(data)
    clf = Classifier.load(model_dir, backend="exact")
    _, predicted = predict_records(clf, records)
    model = evaluate_predictions(records, predicted, clf.heads, confidence_intervals=True)
    results = run_baselines(baseline_training_records(config), records, reference=predicted)
    config.metrics["baselines"] = {"data": str(data), "model": model["summary"], "model_intervals": model["intervals"],
                                   "results": results}
    save_config_and_card(model_dir, config)
    log(comparison_table(model["summary"], results, model["intervals"]))
    return config.metrics["baselines"]


def evaluate_saved(model, sets: dict[str, Any], log: Log = _stderr) -> dict[str, Any]:
    """Evaluate a saved model (a directory or a loaded Classifier, through the real inference path)
    on named record lists or files."""
    from .classifier import Classifier
    from .evaluation import evaluate

    clf = model if isinstance(model, Classifier) else Classifier.load(model, backend="exact")
    out: dict[str, Any] = {}
    for name, data in sets.items():
        if isinstance(data, list) and not data:
            continue
        result = evaluate(clf, copy.deepcopy(data) if isinstance(data, list) else data, check_seen=False)
        out[name] = {"n": result["n"], "summary": result["summary"],
                     "heads": {h: {k: v for k, v in r.items() if k != "confusion"} for h, r in result["heads"].items()}}
        log(f"{name}: " + ", ".join(f"{k} {v:.3f}" for k, v in result["summary"].items()))
    return out
