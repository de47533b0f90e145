"""The model card (``README.md`` of a saved model directory), written from its ``config.json``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import serialization
from .serialization import ModelConfig

__all__ = ["model_card", "metrics_table", "save_config_and_card"]


def _evaluated_sets(metrics: dict[str, Any]) -> list[str]:
    """The names of the sets ``metrics`` holds figures of (dev, test, the ``[data] evaluate`` files)."""
    return [k for k, v in metrics.items() if isinstance(v, dict) and "summary" in v]


def metrics_table(metrics: dict[str, Any]) -> str:
    """Markdown table of the headline figures of every evaluated set."""
    sets = _evaluated_sets(metrics)
    if not sets:
        return "_No evaluation figures recorded._\n"
    cols = list(dict.fromkeys(c for name in sets for c in metrics[name]["summary"]))  # what any set has
    lines = ["| set | n | " + " | ".join(cols) + " |", "|---|---|" + "---|" * len(cols)]
    for name in sets:
        s = metrics[name]["summary"]
        lines.append(f"| {name} | {metrics[name]['n']} | "
                     + " | ".join(f"{s[c]:.3f}" if c in s else "–" for c in cols) + " |")
    return "\n".join(lines) + "\n"


def _sets(metrics: dict[str, Any]) -> str:
    """What the evaluated sets other than the splits are: the ``[data] evaluate`` files."""
    others = [k for k in _evaluated_sets(metrics) if k not in ("dev", "test")]
    if not others:
        return ""
    many = len(others) > 1
    return (f"{', '.join(f'`{k}`' for k in others)} {'are `[data] evaluate` files' if many else 'is a `[data] evaluate` file'}"
            f": labeled with the same schema, and none of {'their' if many else 'its'} texts is trained on.\n")


def _uncalibrated(config: ModelConfig) -> str:
    heads = [h for h in config.heads if h not in config.temperatures]
    if not heads:
        return ""
    return (f"\nNot calibrated: {', '.join(f'`{h}`' for h in heads)} (too few labelled dev records): "
            f"raw softmax scores, and no abstain threshold.\n")


def _baselines(metrics: dict[str, Any]) -> str:
    found = metrics.get("baselines")
    if not found:
        return ""
    from .baselines import comparison_table

    return (f"\nBaselines on `{found['data']}`, fitted on the same training data "
            f"(`commentnlp evaluate --model <this dir> --data {found['data']} --baselines --ci`; model: 95% bootstrap interval; margin: paired 95% interval):\n\n"
            + comparison_table(found["model"], found["results"], found.get("model_intervals")) + "\n")


def _held_out(data: dict) -> str:
    """``; dev: a.csv; test: b.csv``, or the share of the training files held out as dev."""
    dev = (f"; dev: {', '.join(data['dev'])}" if data.get("dev")
           else f"; dev: {data['dev_fraction']:.0%} of these held out" if data.get("dev_fraction") else "")
    return dev + (f"; test: {', '.join(data['test'])}" if data.get("test") else "")


def _ignored(data: dict) -> str:
    ignored = data.get("ignore_heads") or {}
    return "".join(f"; not trained on the {', '.join(h)} labels of {p}" for p, h in ignored.items())


def _distilled(settings: dict[str, Any]) -> str:
    training, data = settings.get("training", {}), settings.get("data", {})
    if not training.get("teacher"):
        return ""
    unlabeled = data.get("corpus_unlabeled") or {}
    teachers = training["teacher"] if isinstance(training["teacher"], list) else [training["teacher"]]
    source = " + ".join(f"`{t}`" for t in teachers) + (" (averaged logits)" if len(teachers) > 1 else "")
    return (f"\n- Distilled from {source} (KL at temperature {training.get('distill_temperature')}, "
            f"weight {training.get('distill_weight')}) on every training text"
            + (f", plus unlabeled corpus texts {unlabeled}" if unlabeled else "") + ".")


def _soup(training: dict[str, Any]) -> str:
    models = training.get("soup_of")
    if not models:
        return ""
    return ("- A soup: the weight average of " + ", ".join(f"`{m}`" for m in models)
            + " (`training/soup.py`); the lines above describe the first of them.\n")


def _changed_after_evaluation(metrics: dict[str, Any]) -> str:
    """A warning that figures below predate a decision threshold set since (``find-threshold``)."""
    changed = metrics.get("thresholds_changed_after_evaluation") or {}
    if not changed:
        return ""
    what = "; ".join(f"`{label}` {c.get('before') if c.get('before') is not None else 'none (argmax)'} -> "
                     f"{c.get('after') if c.get('after') is not None else 'none (argmax)'} on {c.get('data')}"
                     for label, c in changed.items())
    return (f"**The figures below were computed before a decision threshold changed** ({what}): they are those "
            f"of the earlier threshold. Run `commentnlp evaluate --model <this dir> --data <file>` for the current "
            f"ones.\n\n")


def model_card(config: ModelConfig) -> str:
    """Render the model card of a saved model."""
    t = config.training
    data = t.get("config", {}).get("data", {})
    heads = "\n".join(f"- `{name}`: {', '.join(values)}" for name, values in config.heads.items())
    ece = config.metrics.get("calibration_ece_dev", {})
    ece_rows = "\n".join(f"| {h} | {v['before']:.3f} | {v['after']:.3f} | {config.temperatures.get(h, 1.0)} |"
                         for h, v in ece.items())
    lora = config.lora or {}
    offsets_on = "; ".join(f"{what} on {where}" for what, where in
                           config.metrics.get("position_offsets_fitted_on", {}).items()) or "–"
    fitted_on = "; ".join(f"{label} on {where}" for label, where in
                          config.metrics.get("decision_thresholds_fitted_on", {}).items()) or "–"
    return f"""# commentnlp model

Labels comments left on brand posts and ads with four heads from one forward pass
(see `LABELING.md` of the commentnlp project):

{heads}

## Model
- Base encoder: `{config.base_model}`{f", first {config.num_layers} layers only" if config.num_layers else ""} (pooling: {config.pooling}, max {config.max_length} tokens)
- Fine-tuning: {config.finetuning}{f" (LoRA r={lora.get('r')}, alpha={lora.get('alpha')}, merged into the encoder at load time)" if lora else ""}
- Preprocessing version: {config.preprocessing_version} (emoji spelled out, URLs/mentions normalised)
- Files: safetensors weights + `config.json`; no pickles, no remote code. `activation_ranges.safetensors`
  holds the dev split's per-channel input ranges of the encoder's linear layers, which smooth the int8 graph (the CPU default, `onnx-cascade`, runs it first).
- commentnlp version: {config.commentnlp_version}

## Training
- Trained {t.get('trained_at', '?')} on {t.get('device', '?')} in {t.get('seconds', '?')} s; best epoch {t.get('best_epoch', '?')}.
- Records: {t.get('n_train', '?')} train, {t.get('n_dev', '?')} dev (early stopping, calibration).
- Project data: {', '.join(data.get('train', []))}{_held_out(data)}; corpus labels: {', '.join(data.get('corpus_labels', [])) or 'none'};
  native corpus labels: {data.get('corpus_native') or 'none'}{_ignored(data)}.{_distilled(t.get("config", {}))}
{_soup(t)}- Full settings are in `config.json` (`training.config`).

## Evaluation
{_changed_after_evaluation(config.metrics)}Macro-F1 per head, one-vs-rest F1 of `where_to_buy`, F1 of `troll = true`:

{metrics_table(config.metrics)}
{_sets(config.metrics)}Reproduce with `commentnlp evaluate --model <this dir> --data <file>`.
{_baselines(config.metrics)}

## Calibration
Per-head temperature scaling fitted on the dev split; expected calibration error (dev):

| head | ECE before | ECE after | temperature |
|---|---|---|---|
{ece_rows}
{_uncalibrated(config)}
Abstain thresholds (top score below which `--abstain` labels a head `unsure`, chosen for 90% dev accuracy
on what is kept): {config.thresholds}

Decision thresholds (a label wins its head when its calibrated probability reaches the threshold,
fitted for the best F1 of that label on the first set holding 30+ examples of it: real comments
labelled by this project and not trained on (`[data] threshold_labels`), the real comments of
dev, all of dev; `commentnlp find-threshold`): {config.decision_thresholds or "none"}
(searched: {fitted_on}; a label searched but without a threshold gained under 0.005 F1 from one).

Thread-position offsets (added to a head's temperature-scaled logits when the input says whether a
comment is a reply, e.g. a `parent_id` or `comment_type` field; fitted for the likelihood of the
labels of comments whose position is known, on the first set holding 30+ of them, in the same order):
{config.position_offsets or "none"} (fitted on: {offsets_on}). In the figures above, dev's corpus
comments carry the position their corpus records; other records are labelled from their text
alone unless their file gives a position.

## Intended use and limits
- English comments on brand social media; other languages are not supported (code-mixed text degrades).
- Labels are suggestions for a community manager, not decisions: review before hiding or reporting users.
- `troll` marks bad-faith provocation, not negativity: angry customers are `troll = false` by design.
"""


def save_config_and_card(model_dir: str | Path, config: ModelConfig) -> None:
    """Write a model's ``config.json`` and the model card (``README.md``) made from it."""
    serialization.write_config(model_dir, config)
    (Path(model_dir) / "README.md").write_text(model_card(config), encoding="utf-8")
