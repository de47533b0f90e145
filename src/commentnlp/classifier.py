"""Inference: :class:`Classifier` (load a saved model, label texts) and :func:`classify`.

Texts are normalised (:mod:`commentnlp.preprocessing`), tokenised with the model's own
``tokenizer.json``, sorted by length and cut into fixed-size batches with dynamic
padding (little work wasted on padding), run through the model once for all heads,
and returned in input order. Scores are per-head probabilities, temperature-scaled
when the model was calibrated.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence, overload

import numpy as np

from .batching import Batch, check_batch_size, pad_batch, sorted_batches
from .calibration import apply_decision_thresholds, softmax
from .schema import THREAD_POSITIONS, UNSURE
from .playbook import Playbook, default_playbook
from .preprocessing import blank_kind, is_blank, normalize
from .userwarnings import warn
from .serialization import ModelConfig, read_config, read_tokenizer, resolve_model_path
from .validation import as_bool, is_missing, is_number, is_whole

__all__ = ["Classifier", "Prediction", "classify", "UNSURE"]

#: Comments per batch when none is given: 32 on the CPU (one core each, the int8 graph side by
#: side: :class:`~commentnlp.backends.OnnxBackend`); on a GPU, large batches keep it busy.
DEFAULT_BATCH_SIZE = 32
GPU_BATCH_SIZE = 1024
#: Inference backends :meth:`Classifier.load` accepts.
BACKENDS = ("auto", "exact", "onnx", "onnx-int8", "onnx-cascade", "torch")
#: ``onnx-cascade`` checks a comment's int8 answer in fp32 when moving two logits of one head this
#: much closer (each by this much) would change that head's label (:meth:`Classifier.close_calls`).
CASCADE_MARGIN = 0.15
#: The ONNX graphs each ONNX backend runs, as ``build_onnx``'s ``quantize`` flag: the first answers
#: every comment, a second one answers the close calls again (``onnx-cascade``).
ONNX_GRAPHS = {"onnx": (False,), "onnx-int8": (True,), "onnx-cascade": (True, False)}
#: At most this many padded tokens per batch: long comments go in smaller batches (flat memory;
#: batches running side by side each hold their own activations).
MAX_BATCH_TOKENS = 512
#: a batch_size above this on a CPU gets a warning: slower than the default, and memory grows with it
LARGE_CPU_BATCH = 256
GPU_MAX_BATCH_TOKENS = 65536


def text_list(texts: Any, one_text_allowed: bool = False) -> list[str]:
    """``texts`` as a list of strings, or a TypeError that says what was given instead."""
    if isinstance(texts, (str, bytes)) or not isinstance(texts, Iterable):
        expected = "a str or a list of str" if one_text_allowed else "a list of str (one text: wrap it in a list)"
        raise TypeError(f"texts must be {expected}, got {type(texts).__name__}")
    if hasattr(texts, "columns"):  # iterating a DataFrame gives its column names
        raise TypeError(f"texts must be a list of str, got a {type(texts).__name__}: pass its text column "
                        "(df['message']), or label its rows with commentnlp.exports.label_records(df)")
    if isinstance(texts, Mapping):
        raise TypeError(f"texts must be a list of str, got a {type(texts).__name__}: pass the text "
                        "itself (e.g. record['message']) or a list of texts, not the record")
    if isinstance(texts, (set, frozenset)):
        raise TypeError(f"texts must be an ordered sequence (results come back in input order), "
                        f"got a {type(texts).__name__}: pass sorted(texts) or list(texts)")
    batch = texts if isinstance(texts, list) else list(texts)
    for i, t in enumerate(batch):
        if not isinstance(t, str):
            raise TypeError(f"texts[{i}] is {type(t).__name__}, expected str")
    if any(type(t) is not str for t in batch):  # numpy or pandas strings: plain ones in the results
        batch = [str(t) for t in batch]
    return batch


def reply_flags(is_reply: Any, n: int, single: bool = False) -> list[bool | None] | None:
    """``is_reply`` as one True/False/None per text (None: unknown), or a TypeError or ValueError
    that says what is wrong. A single value stands for every text; numpy booleans count as
    booleans and NaN (a missing value in a pandas column) as unknown."""
    def flag(value: Any, where: str) -> bool | None:
        if is_missing(value):
            return None
        flag = as_bool(value)
        if flag is not None:
            return flag
        if is_number(value) and value in (0, 1):  # a float column of 1.0/0.0 with NaN for unknown
            return bool(value)
        raise TypeError(f"{where} is {type(value).__name__}, expected True, False or None")

    if is_reply is None:
        return None
    if single or as_bool(is_reply) is not None:
        return [flag(is_reply, "is_reply")] * n
    if isinstance(is_reply, (str, bytes, Mapping)) or not isinstance(is_reply, Iterable):
        raise TypeError(f"is_reply must be True, False or None, or one of them per text, "
                        f"got {type(is_reply).__name__}")
    flags = [flag(r, f"is_reply[{i}]") for i, r in enumerate(is_reply)]
    _check_positions(flags, n)
    return flags


@dataclass(frozen=True)
class Prediction:
    """Labels, per-head scores and the suggested CM action for one comment."""

    text: str
    style: str
    intent: str
    sentiment: str
    troll: bool | str
    scores: dict[str, dict[str, float]] = field(repr=False)
    action: str = ""
    action_id: str = ""

    @property
    def labels(self) -> dict[str, Any]:
        """The four labels as a dict (``troll`` is a bool unless abstained)."""
        return {"style": self.style, "intent": self.intent, "sentiment": self.sentiment, "troll": self.troll}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``{"labels", "scores", "action", "action_id"}``."""
        return {"labels": self.labels, "scores": {head: dict(scores) for head, scores in self.scores.items()},
                "action": self.action, "action_id": self.action_id}  # a copy: the frozen prediction stays as it was


class Classifier:
    """A loaded commentnlp model: ``predict`` labels, ``predict_proba`` scores.

    >>> clf = Classifier.load()            # the bundled default model
    >>> clf.predict("where can I buy this in Ohio?").intent
    'where_to_buy'
    """

    def __init__(self, model_dir: Path, config: ModelConfig, backend, playbook: Playbook | None = None,
                 recheck=None, recheck_margin: float = CASCADE_MARGIN, tokenizer=None):
        self.model_dir = Path(model_dir)
        self.config = config
        self.backend = backend
        #: a second, exact backend that answers again for the close calls of ``backend`` (or None)
        self.recheck = recheck
        self.recheck_margin = recheck_margin
        self.playbook = playbook or default_playbook()
        self.heads: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in config.heads.items()}
        self.classes_ = self.heads
        self._tokenizer = tokenizer or read_tokenizer(self.model_dir, config.max_length)
        pad = self._tokenizer.token_to_id("[PAD]")
        self._pad_id = 0 if pad is None else pad
        on_gpu = self._on_gpu = str(getattr(backend, "device", "cpu")).startswith("cuda")
        #: batch size used when a call gives none, and the padded-token budget per batch
        self.batch_size = GPU_BATCH_SIZE if on_gpu else DEFAULT_BATCH_SIZE
        self.max_batch_tokens = GPU_MAX_BATCH_TOKENS if on_gpu else MAX_BATCH_TOKENS

    @property
    def backend_name(self) -> str:
        """The backend as :meth:`load` names it: ``onnx``, ``onnx-int8``, ``onnx-cascade`` or ``torch``."""
        if self.recheck is not None:
            return "onnx-cascade"
        name = getattr(self.backend, "name", type(self.backend).__name__)
        return name + "-int8" if getattr(self.backend, "quantized", False) else name

    def __repr__(self) -> str:
        device = getattr(self.backend, "device", "cpu")
        return (f"Classifier(model={str(self.model_dir)!r}, backend={self.backend_name!r}, device={str(device)!r}, "
                f"heads={list(self.heads)})")

    @classmethod
    def load(
        cls,
        path: str | Path | None = None,
        *,
        device: str = "auto",
        backend: str = "auto",
        playbook: Playbook | str | Path | None = None,
        threads: int | None = None,
        onnx_cache: str | Path | None = None,
    ) -> "Classifier":
        """Load a saved model directory, or a bundled model by name (``"commentnlp-minilm-l3"``;
        the default model when ``path`` is None).

        ``device`` is ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda[:N]"``.
        ``backend`` is ``"auto"`` (``"onnx-cascade"`` on CPU when ONNX Runtime is installed, else
        PyTorch), ``"exact"`` (the model's own labels and scores: ``"onnx"`` on CPU when installed,
        else PyTorch; what training and evaluation use), ``"onnx"``
        (fp32 graph: the reference's labels, no torch at run time), ``"onnx-int8"`` (dynamic int8:
        faster, but a few labels differ from the reference and depend on the batch),
        ``"onnx-cascade"`` (int8, then the fp32 graph again for the comments whose int8 answer is a
        close call on some head: :meth:`close_calls`) or ``"torch"``.
        ``playbook`` is a :class:`Playbook` or a TOML file overriding the default one.
        ``threads`` caps ONNX Runtime's threads (default: all cores); ``onnx_cache`` is where the
        ONNX graph is cached or built (default ``$COMMENTNLP_CACHE`` or ``~/.cache/commentnlp``).
        """
        from .backends import OnnxBackend, TorchBackend, resolve_device

        if threads is not None and not is_whole(threads, 1):
            raise ValueError(f"threads must be None (every core) or a whole number >= 1, not {threads!r}")
        model_dir = resolve_model_path(path)
        config = read_config(model_dir)
        tokenizer = read_tokenizer(model_dir, config.max_length)  # before the graphs are built: its errors first
        if playbook is not None and not isinstance(playbook, Playbook):
            playbook = Playbook.from_toml(playbook, base=default_playbook())
        resolved = resolve_device(device)
        requested = {"path": model_dir, "device": device, "backend": backend, "threads": threads, "onnx_cache": onnx_cache}
        backend = resolve_backend(backend, resolved)
        recheck = None
        if backend in ONNX_GRAPHS:
            if resolved != "cpu":
                raise ValueError("the ONNX backend runs on the CPU; use backend='torch' for CUDA")
            first, *second = ONNX_GRAPHS[backend]
            engine = OnnxBackend(model_dir, quantize=first, threads=threads, cache=onnx_cache)
            if second:  # its threads sleep when done, not spin on the first graph's cores
                recheck = OnnxBackend(model_dir, quantize=second[0], threads=threads, cache=onnx_cache, spin=False)
        else:
            engine = TorchBackend(model_dir, device=resolved)
        clf = cls(model_dir, config, engine, playbook, recheck=recheck, tokenizer=tokenizer)
        clf._load_args = {**requested, "playbook": clf.playbook}  # for pickling: see __reduce__
        return clf

    def __reduce__(self):
        """Pickled as how it was loaded (an ONNX Runtime session cannot be pickled): a process that
        unpickles it (joblib, a spawned pool) loads the same model, backend and playbook again."""
        load_args = getattr(self, "_load_args", None)
        if load_args is None:
            raise TypeError("only a Classifier made by Classifier.load can be pickled")
        settings = {k: getattr(self, k) for k in ("batch_size", "max_batch_tokens", "recheck_margin")}
        return _reload, (load_args, settings)

    # -- core -------------------------------------------------------------------------
    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text after :func:`~commentnlp.preprocessing.normalize` (the model's input)."""
        return [enc.ids for enc in self._tokenizer.encode_batch([normalize(t) for t in texts])]

    def predict_logits(self, texts: Sequence[str], batch_size: int | None = None,
                       is_reply: Sequence[bool | None] | None = None) -> dict[str, np.ndarray]:
        """Raw logits per head, shape ``(len(texts), n_values)``, in input order.

        ``batch_size`` defaults to :attr:`batch_size` (32 on the CPU, 1024 on a GPU). ``is_reply``
        only narrows which answers ``onnx-cascade`` checks (:meth:`close_calls`)."""
        return self.logits_for_ids(self.encode(text_list(texts)), batch_size, is_reply)

    def logits_for_ids(self, ids: Sequence[Sequence[int]], batch_size: int | None = None,
                       is_reply: Sequence[bool | None] | None = None) -> dict[str, np.ndarray]:
        """Raw logits per head for texts already normalised and tokenised (``encode``), in order."""
        return self.logits_for_batches(len(ids), self.batches_for_ids(ids, batch_size), is_reply)

    def batches_for_ids(self, ids: Sequence[Sequence[int]], batch_size: int | None = None) -> list[Batch]:
        """The model's input for these token ids: ``(rows, input_ids, attention_mask)`` per batch,
        sorted by length and padded to each batch's longest: at most ``max_batch_tokens`` padded
        tokens, or as many per comment when a larger ``batch_size`` than :attr:`batch_size` is given."""
        if batch_size is None:
            batch_size = self.batch_size  # the device's (a worker process's Classifier has no backend to tell)
        else:
            check_batch_size(batch_size)
            if batch_size > LARGE_CPU_BATCH and not self._on_gpu:
                warn(f"batch_size={batch_size} on a CPU: batches beyond the default {DEFAULT_BATCH_SIZE} are no "
                     "faster there and hold far more memory (2,844 comments: 0.3 GB at 32, 1 GB at 512, 6 GB "
                     "in one batch); leave batch_size unset", RuntimeWarning)
        budget = max(self.max_batch_tokens, self.max_batch_tokens * batch_size // self.batch_size, batch_size)
        return [(idx, *pad_batch(ids, idx, self._pad_id)) for idx in
                sorted_batches([len(x) for x in ids], batch_size, max_tokens=budget)]

    def logits_for_batches(self, n: int, batches: Iterable[Batch],
                           is_reply: Sequence[bool | None] | None = None) -> dict[str, np.ndarray]:
        """Raw logits per head for ``n`` texts from their batches (``batches_for_ids``), in text order.

        The model's forward pass alone: with worker processes, :func:`commentnlp.exports.label_file`
        runs it in the main process while the workers tokenise and batch (``batches_for_ids``) and
        turn logits into predictions (``predictions``). With a :attr:`recheck` backend, the close
        calls (:meth:`close_calls`; ``is_reply``, when given, is each text's thread position) are
        answered again by it, together, in full batches."""
        if is_reply is not None:
            _check_positions(is_reply, n)
        out = {name: np.zeros((n, len(values)), dtype=np.float32) for name, values in self.heads.items()}
        close_rows: list[int] = []  # with a recheck backend: the close calls' rows, and their token ids
        close_ids: list[np.ndarray] = []
        batches = list(batches)
        for (idx, input_ids, attention_mask), logits in zip(batches, _forward(self.backend, batches)):
            for name in out:
                out[name][idx] = logits[name]
            if self.recheck is not None:
                positions = None if is_reply is None else [is_reply[i] for i in idx]
                for r in np.flatnonzero(self.close_calls(logits, self.recheck_margin, positions)):
                    close_rows.append(idx[r])
                    close_ids.append(input_ids[r, :attention_mask[r].sum()])
        if close_rows:
            rows = np.asarray(close_rows)
            rechecked = self.batches_for_ids(close_ids)
            for (batch, _, _), exact in zip(rechecked, _forward(self.recheck, rechecked)):
                for name in out:
                    out[name][rows[batch]] = exact[name]
        return out

    def close_calls(self, logits: Mapping[str, np.ndarray], margin: float,
                    is_reply: Sequence[bool | None] | None = None) -> np.ndarray:
        """Rows whose label on some head changes when two of that head's logits move ``margin``
        closer each (another class's up, the chosen class's down).

        Labels are decided as :meth:`predictions` decides them for the thread positions
        ``is_reply``; when those are not given, for every position a row could have. These are
        the comments whose int8 answer ``onnx-cascade`` checks in fp32: int8 moves a logit by a
        few tenths at most, so a label farther than that from a change is the fp32 one.
        """
        n = len(next(iter(logits.values())))
        if is_reply is not None:
            positions: list[bool | None] | None = list(is_reply)
        elif self.config.position_offsets:  # every position a row could have: one copy of the rows each
            positions = [flag for flag in (None, *THREAD_POSITIONS.values()) for _ in range(n)]
        else:
            positions = None
        copies = 1 if positions is None else len(positions) // n
        rows = {name: np.tile(v, (copies, 1)) for name, v in logits.items()}
        chosen = self.decide(self._calibrated(rows, positions))
        close = np.zeros(len(positions or range(n)), dtype=bool)
        for name, v in rows.items():
            # every move at once: block j has class j's logit up and the chosen one's down (no move
            # where j is the chosen class), decided as one batch of k blocks
            label, k = chosen[name], v.shape[1]
            eye = np.eye(k, dtype=v.dtype)
            moved = (v[None] + margin * (eye[:, None, :] - eye[label][None, :, :])).reshape(-1, k)
            decided = self.decide(self._calibrated({name: moved}, None if positions is None else positions * k))
            close |= (decided[name].reshape(k, -1) != label).any(axis=0)
        return close.reshape(copies, n).any(axis=0)

    def predict_proba(self, texts: Sequence[str], batch_size: int | None = None,
                      is_reply: Sequence[bool | None] | None = None) -> dict[str, np.ndarray]:
        """Calibrated probabilities per head, shape ``(len(texts), n_values)``; columns follow ``classes_``.

        ``is_reply`` (one per text, or one for all: True, False or None for unknown) adds the model's thread-position
        offsets (``config.position_offsets``) to the logits of the texts whose position is known."""
        texts = text_list(texts)
        flags = reply_flags(is_reply, len(texts))
        return self._calibrated(self.predict_logits(texts, batch_size, flags or [None] * len(texts)), flags)

    def _calibrated(self, logits: Mapping[str, np.ndarray],
                    is_reply: Sequence[bool | None] | None = None) -> dict[str, np.ndarray]:
        rows: dict[str, list[int]] = {}  # the texts of each known thread position
        if is_reply is not None:
            _check_positions(is_reply, len(next(iter(logits.values()), ())))
            rows = {position: [i for i, r in enumerate(is_reply) if r is flag]
                    for position, flag in THREAD_POSITIONS.items()}
        out = {}
        for name, v in logits.items():
            temperature = float(self.config.temperatures.get(name, 1.0))
            offsets = self.config.position_offsets.get(name) if rows else None
            if offsets:  # known thread positions shift this head's logits, after the temperature
                v = v / temperature
                temperature = 1.0
                for position, at in rows.items():
                    if position in offsets and at:
                        v[at] += np.asarray(offsets[position], dtype=v.dtype)
            out[name] = softmax(v, temperature)
        return out

    def decide(self, probs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Class index per row and head: argmax, or the model's per-label decision thresholds."""
        return {name: apply_decision_thresholds(p, self.heads[name], self.config.decision_thresholds.get(name))
                for name, p in probs.items()}

    @overload
    def predict(self, texts: str, batch_size: int | None = ..., abstain: bool = ...,
                is_reply: bool | None = ...) -> Prediction: ...
    @overload
    def predict(self, texts: Iterable[str], batch_size: int | None = ..., abstain: bool = ...,
                is_reply: Sequence[bool | None] | None = ...) -> list[Prediction]: ...

    def predict(self, texts, batch_size: int | None = None, abstain: bool = False, is_reply=None):
        """Label one text (returns a :class:`Prediction`) or many (returns a list, in order).

        With ``abstain=True`` a head whose top score is below the model's threshold for
        that head (``config.thresholds``) is labelled ``"unsure"``. ``is_reply`` says where a
        comment sits in its thread when the export tells (True: a reply to another comment,
        False: a top-level comment, None: unknown); one value for all texts, or one per text. A reply talks to
        other people, so it leans to ``community`` (LABELING.md); by how much was fitted on
        held-out real comments (``config.position_offsets``).

        An empty text, or one of spaces or invisible characters only, is a ValueError: there is nothing
        to label, and the model's answer for nothing would read like a label (``label_records`` reports
        such records one by one instead).
        """
        single = isinstance(texts, str)
        batch = [str(texts)] if single else text_list(texts, one_text_allowed=True)
        blank = next((i for i, t in enumerate(batch) if is_blank(t)), None)
        if blank is not None:
            where = "the text" if single else f"texts[{blank}]"
            raise ValueError(f"{where} is {blank_kind(batch[blank])}: "
                             "there is nothing to label; leave it out (commentnlp.is_blank tells), or label records "
                             "with commentnlp.exports.label_records, which reports them")
        replies = reply_flags(is_reply, len(batch), single)
        if not isinstance(abstain, (bool, np.bool_)):
            raise TypeError(f"abstain must be True or False, got {type(abstain).__name__}")
        logits = self.predict_logits(batch, batch_size, [None] * len(batch) if replies is None else replies)
        results = self.predictions(batch, logits, abstain, replies)
        return results[0] if single else results

    __call__ = predict

    def predictions(self, texts: Sequence[str], logits: Mapping[str, np.ndarray], abstain: bool = False,
                    is_reply: Sequence[bool | None] | None = None) -> list[Prediction]:
        """One :class:`Prediction` per text from its logits (``predict_logits`` or ``logits_for_batches``)."""
        probs = self._calibrated(logits, is_reply)
        chosen = self.decide(probs)
        heads = []  # per head: its name, its values, and per text its rounded scores and its label (or unsure)
        for name, values in self.heads.items():
            p = probs[name]
            options: list[Any] = [v == "true" for v in values] if name == "troll" else list(values)
            picked = np.asarray(options, dtype=object)[chosen[name]]
            if abstain:
                picked[p.max(axis=1) < self.config.thresholds.get(name, 0.0)] = UNSURE
            # 4 decimals: as round(x, 4) gives them (x * 1e4 is exact for float32 scores), at numpy's speed
            heads.append((name, values, np.round(p.astype(np.float64), 4).tolist(), picked.tolist()))
        actions: dict[str, str] = {}  # rendered once per rule
        out = []
        for i, text in enumerate(texts):
            labels = {name: picked[i] for name, _, _, picked in heads}
            scores = {name: dict(zip(values, rows[i])) for name, values, rows, _ in heads}
            rule = self.playbook.match(labels)
            if rule.action not in actions:  # by its template: the fallback rule may share a user rule's id
                actions[rule.action] = self.playbook.render(rule.action)
            out.append(Prediction(text=text, scores=scores, action=actions[rule.action], action_id=rule.id, **labels))
        return out


def _reload(load_args: dict[str, Any], settings: dict[str, Any]) -> Classifier:
    """An unpickled :class:`Classifier`: loaded again, its batch settings as they were."""
    clf = Classifier.load(**load_args)
    for name, value in settings.items():
        setattr(clf, name, value)
    return clf


def resolve_backend(backend: str, device: str) -> str:
    """The backend :meth:`Classifier.load` runs for ``backend`` on ``device`` (already resolved):
    ``auto`` and ``exact`` become ``onnx-cascade`` and ``onnx`` on the CPU when ONNX Runtime is
    installed, else ``torch``; the others stay as they are."""
    from .backends import onnx_available

    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(map(repr, BACKENDS))}, not {backend!r}")
    if backend in ("auto", "exact"):
        on_onnx = device == "cpu" and onnx_available()
        return ("onnx-cascade" if backend == "auto" else "onnx") if on_onnx else "torch"
    return backend


def _forward(backend, batches: Sequence[Batch]) -> list[dict[str, np.ndarray]]:
    """The backend's logits for each batch, in order: its ``map`` when it has one (several at once)."""
    feeds = [(input_ids, attention_mask) for _, input_ids, attention_mask in batches]
    run_all = getattr(backend, "map", None)
    return run_all(feeds) if run_all is not None else [backend(*feed) for feed in feeds]


def _check_positions(is_reply: Sequence[bool | None], n: int) -> None:
    if len(is_reply) != n:
        raise ValueError(f"is_reply has {len(is_reply)} values for {n} texts")


_loaded: dict[str, Classifier] = {}
_load_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _default_key() -> str:
    return str(resolve_model_path(None).resolve())


def load_cached(path: str | Path | None = None) -> Classifier:
    """Load a model once per process (thread-safe); ``None`` is the bundled default model."""
    # the default model by name or by None: one copy; None's key found once (resolving costs ~90 µs a call)
    key = _default_key() if path is None else str(resolve_model_path(path).resolve())
    clf = _loaded.get(key)
    if clf is None:
        with _load_lock:
            clf = _loaded.get(key)
            if clf is None:
                clf = _loaded[key] = Classifier.load(path)
    return clf


@overload
def classify(texts: str, *, model: Classifier | str | Path | None = ..., batch_size: int | None = ...,
             is_reply: bool | None = ..., abstain: bool = ...) -> Prediction: ...
@overload
def classify(texts: Iterable[str], *, model: Classifier | str | Path | None = ..., batch_size: int | None = ...,
             is_reply: Sequence[bool | None] | None = ..., abstain: bool = ...) -> list[Prediction]: ...


def classify(texts, *, model=None, batch_size: int | None = None, is_reply=None, abstain: bool = False):
    """Label one comment or a list of comments with the default (or given) model.

    ``is_reply``: whether each comment replies to another one, when known; ``abstain``: a head
    below the model's threshold is ``"unsure"`` (both as in :meth:`Classifier.predict`).

    >>> classify("Do you ship to Canada??").intent
    'where_to_buy'
    """
    clf = model if isinstance(model, Classifier) else load_cached(model)
    return clf.predict(texts, batch_size=batch_size, is_reply=is_reply, abstain=abstain)
