"""Inference backends: the same graph run by PyTorch (reference) or ONNX Runtime (fast path).

A backend takes padded ``input_ids`` / ``attention_mask`` int64 arrays and returns logits
per head. :class:`OnnxBackend` runs a graph exported from the saved model (LoRA merged,
mean pooling and heads included) in fp32 (the reference's labels) or with dynamic
per-channel int8 weights (faster; activations are quantised per batch, so a few labels
differ and depend on the batch; smoothed first when the model has activation ranges, see
:mod:`commentnlp.quantization`), and needs neither torch nor transformers at run time. Attention
is fused into one node per layer where that gives the same outputs (:mod:`commentnlp.fusion`).
The graph is built once per model
(keyed by a hash of its weights, and for int8 of its activation ranges), cached under ``$COMMENTNLP_CACHE`` (default
``~/.cache/commentnlp``) and written atomically, so concurrent processes never read a
half-written file.

A backend may also have ``map(batches)``: the logits of several ``(input_ids, attention_mask)``
batches, in order, as it runs them best (the int8 graph side by side, one core each).
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .serialization import model_fingerprint, read_activation_ranges, read_config
from .userwarnings import warn

__all__ = ["TorchBackend", "OnnxBackend", "resolve_device", "onnx_available", "cache_dir", "build_onnx",
           "session_options", "onnx_session"]


def resolve_device(device: str) -> str:
    """``"auto"`` -> ``"cuda"`` when an NVIDIA GPU is usable, else ``"cpu"``; checks other values.

    No network and, on machines without an NVIDIA driver, no torch import either.
    """
    if device not in ("auto", "cpu", "cuda") and not re.fullmatch(r"cuda:\d+", device):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:N]', not {device!r}")
    if device == "cpu":
        return device
    # no GPU to ask torch about: hidden by CUDA_VISIBLE_DEVICES, or no NVIDIA driver (whatever the variable
    # says: CUDA_VISIBLE_DEVICES=0 on a CPU-only host imported torch, 170 MB, to find none)
    if device == "auto" and (no_gpu_visible(os.environ.get("CUDA_VISIBLE_DEVICES")) or not nvidia_driver()):
        return "cpu"
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available():
        why = f"this torch ({torch.__version__}) is built without CUDA" if torch.version.cuda is None else "no GPU found"
        raise ValueError(f"device {device!r} asked for, but CUDA is not available: {why}; use 'cpu' or 'auto'")
    count = torch.cuda.device_count()
    if device != "cuda" and int(device.split(":")[1]) >= count:
        raise ValueError(f"device {device!r} asked for, but this machine has {count} GPU(s): cuda:0 to cuda:{count - 1}")
    return device


def nvidia_driver() -> bool:
    """Whether an NVIDIA driver may be loaded: its /proc entry, in a container the device it is given, in
    WSL2 the GPU device it passes on (/dev/dxg), on Windows its CUDA library. Cheap, and what decides
    whether torch is asked (which tells for sure); on Windows and WSL2 the Linux checks found none."""
    if Path("/proc/driver/nvidia/version").exists() or Path("/dev/nvidiactl").exists() or Path("/dev/dxg").exists():
        return True
    if sys.platform == "win32":
        import ctypes.util

        return ctypes.util.find_library("nvcuda") is not None
    return False


def no_gpu_visible(cuda_visible_devices: str | None) -> bool:
    """Whether ``$CUDA_VISIBLE_DEVICES`` hides every GPU: ``-1`` or an empty list, the usual "no GPU"
    (CUDA lists devices up to the first that is not one)."""
    if cuda_visible_devices is None:
        return False
    first = cuda_visible_devices.split(",")[0].strip()
    return first == "" or first.startswith("-")


def onnx_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


logger = logging.getLogger("commentnlp")

#: how graphs are built (export, fusion, quantisation); part of a cached graph's name, so a
#: change here builds new graphs instead of reusing older ones
GRAPH_FORMAT = 2


def cache_dir() -> Path:
    return Path(os.environ.get("COMMENTNLP_CACHE", Path.home() / ".cache" / "commentnlp"))


class TorchBackend:
    """Runs the merged PyTorch model (the reference path; also the GPU path)."""

    name = "torch"

    def __init__(self, model_dir: str | Path, device: str = "auto"):
        import torch

        from .serialization import load_torch_model

        self._torch = torch
        self.device = resolve_device(device)
        self.model, _ = load_torch_model(model_dir)
        self.model.to(self.device)
        if self.device.startswith("cuda"):
            self.model.half()

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> dict[str, np.ndarray]:
        torch = self._torch
        with torch.inference_mode():
            ids = torch.from_numpy(input_ids).to(self.device, non_blocking=True)
            mask = torch.from_numpy(attention_mask).to(self.device, non_blocking=True)
            out = self.model(ids, mask)
            # one copy back to the host for all heads: each copy waits for the device
            both = torch.cat([v.float() for v in out.values()], dim=1).cpu().numpy()
            return dict(zip(out, np.split(both, np.cumsum([v.shape[1] for v in out.values()])[:-1], axis=1)))


def _export_onnx(model_dir: Path, path: Path) -> list[str]:
    """Export the merged model (encoder + pooling + heads) to ONNX at ``path``, with attention fused
    where :func:`commentnlp.fusion.fuse_graph` can; returns head names."""
    import warnings

    import torch

    from .fusion import fuse_graph
    from .serialization import load_torch_model

    model, config = load_torch_model(model_dir)
    names = list(config.heads)
    encoder = model.encoder
    # attention written out as MatMul + Softmax (not one SDPA call): the pattern the fusion recognises
    if hasattr(encoder, "set_attn_implementation"):
        encoder.set_attn_implementation("eager")
    else:  # transformers 4.x
        encoder.config._attn_implementation = "eager"

    class Graph(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            out = self.inner(input_ids, attention_mask)
            return tuple(out[n] for n in names)

    example = (torch.ones(2, 8, dtype=torch.long), torch.ones(2, 8, dtype=torch.long))
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}}
    axes.update({n: {0: "batch"} for n in names})
    exported = path.with_suffix(".exported.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Graph(model.eval()), example, str(exported), input_names=["input_ids", "attention_mask"],
                          output_names=names, dynamic_axes=axes, opset_version=17, dynamo=False)
    ec = encoder.config
    fuse_graph(exported, path, ec.model_type, ec.num_attention_heads, ec.hidden_size)
    exported.unlink()
    return names


def build_onnx(model_dir: str | Path, quantize: bool = False, log: Callable[[str], None] | None = None,
               cache: str | Path | None = None) -> Path:
    """Return the cached ONNX graph of a model, building it first if needed (one-time cost).

    Graphs live under ``cache`` (default :func:`cache_dir`) in a folder named by the model's
    weight fingerprint (for the int8 graph, weights and activation ranges). The int8 graph is
    quantized from the fp32 one, which is built and cached first if needed. A build says so through
    ``log`` (default: the ``commentnlp`` logger, at INFO), when it starts and when it is done.
    """
    model_dir = Path(model_dir)
    name = f"model.{'int8' if quantize else 'fp32'}.v{GRAPH_FORMAT}.onnx"
    key = model_fingerprint(model_dir, with_ranges=quantize)
    target = Path(cache or cache_dir()) / key / name
    if target.is_file():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryDirectory(dir=target.parent).cleanup()
    except OSError as exc:  # a read-only home or cache (e.g. a container): build for this process only
        fallback = _process_cache()
        if (fallback / key / name).is_file():
            return fallback / key / name
        warn(f"cannot write the ONNX graph cache {target.parent.parent} ({exc.strerror or exc}); the graph is "
             f"built in {fallback} for this process only, each time it starts: set COMMENTNLP_CACHE to a "
             "writable directory to build it once", RuntimeWarning)
        return build_onnx(model_dir, quantize, log, fallback)
    fp32 = build_onnx(model_dir, log=log, cache=cache) if quantize else None
    say = log or logger.info
    say(f"building {name} for {model_dir}, once (cached in {target.parent})")
    t0 = time.time()
    _sweep_unfinished(target.parent.parent)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f"{UNFINISHED_PREFIX}{os.getpid()}-") as tmp:
        built = Path(tmp) / name
        if quantize:
            from .quantization import quantize_graph

            quantize_graph(fp32, built, read_activation_ranges(model_dir))
        else:
            _export_onnx(model_dir, built)
        os.replace(built, target)  # atomic: readers see the old state or the whole file
    say(f"built {name} in {time.time() - t0:.1f}s")
    return target


#: A graph is built in a folder named by this and the building process's id, beside where it goes.
UNFINISHED_PREFIX = ".building-"
#: A build's folder whose process is gone and that is older than this (seconds) is swept: a build takes
#: seconds, and a cache shared by several machines (containers) holds their processes' too.
UNFINISHED_AFTER = 3600


def unfinished_builds(cache: Path) -> list[Path]:
    """The folders of builds under way in ``cache``, or left by a killed one."""
    return sorted(cache.glob(f"*/{UNFINISHED_PREFIX}*")) if cache.is_dir() else []


def _sweep_unfinished(cache: Path) -> None:
    """Remove the folders of builds that a killed process left in ``cache`` (~60 MB each, never read)."""
    from .processes import sweep_left_behind

    sweep_left_behind(unfinished_builds(cache), UNFINISHED_PREFIX, UNFINISHED_AFTER)


_PROCESS_CACHE: list[Path] = []
_PROCESS_CACHE_LOCK = threading.Lock()


def _process_cache() -> Path:
    """A temporary graph cache for this process (removed at exit): where graphs are built when
    the cache directory cannot be written."""
    with _PROCESS_CACHE_LOCK:  # classifiers loaded in several threads share one
        if not _PROCESS_CACHE:
            path = Path(tempfile.mkdtemp(prefix="commentnlp-graphs-"))
            atexit.register(shutil.rmtree, path, ignore_errors=True)
            _PROCESS_CACHE.append(path)
        return _PROCESS_CACHE[0]


#: ONNX Runtime graph rewrites left off: its SkipLayerNormalization kernel took twice the time of
#: the LayerNormalization and Add it replaces (int8 default model, 2 cores: 10% of kernel time)
DISABLED_OPTIMIZERS = ["SkipLayerNormFusion"]


def available_cores() -> int:
    """CPU cores this process may run on (``taskset``, a container's CPU set), not all the machine has."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def session_options(threads: int | None = None, spin: bool = True):
    """ONNX Runtime session options of :class:`OnnxBackend`: ``threads`` intra-op threads (default:
    all cores), all graph optimisations; with ``spin=False`` idle threads sleep at once instead of
    spinning (for a session that shares the cores with another)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or available_cores()
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if not spin:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def onnx_session(path: str | Path, options=None):
    """An ONNX Runtime CPU session on a graph, as :class:`OnnxBackend` runs it (``options`` from
    :func:`session_options`, its default when None; :data:`DISABLED_OPTIMIZERS` left off)."""
    import onnxruntime as ort

    return ort.InferenceSession(str(path), options or session_options(), providers=["CPUExecutionProvider"],
                                disabled_optimizers=DISABLED_OPTIMIZERS)


class OnnxBackend:
    """Runs the exported graph with ONNX Runtime on the CPU (fp32, or int8 with ``quantize=True``).

    One batch runs on all ``threads`` cores (default: all): a single text is answered fastest
    that way. Several batches of the int8 graph (:meth:`map`), at least one per core, run side by
    side instead, one core each, in a one-thread session of their own (opened on first use, about
    35 MB more): its many small operators spread poorly over cores. On 2 cores that gives the int8
    graph 12% more comments/s; the fp32 graph, nearly all matrix products, gains 1% and runs them
    one at a time."""

    name = "onnx"

    def __init__(self, model_dir: str | Path, quantize: bool = False, threads: int | None = None,
                 log: Callable[[str], None] | None = None, cache: str | Path | None = None, spin: bool = True):
        self.path = build_onnx(model_dir, quantize=quantize, log=log, cache=cache)
        self.quantized = quantize
        self.heads = list(read_config(model_dir).heads)
        self.threads = threads or available_cores()
        self.session = onnx_session(self.path, session_options(self.threads, spin))
        # opened on first use, in this process: a forked child (gunicorn --preload, a multiprocessing pool) has
        # none of its parent's pool threads, and waited for them forever
        self._parallel: tuple[int, object, ThreadPoolExecutor] | None = None
        self._lock = threading.Lock()

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> dict[str, np.ndarray]:
        return self._run(self.session, input_ids, attention_mask)

    @property
    def side_by_side(self) -> bool:
        """Whether :meth:`map` runs batches side by side, one core each (the int8 graph, several cores)."""
        return self.quantized and self.threads > 1

    def map(self, batches: Sequence[tuple[np.ndarray, np.ndarray]]) -> list[dict[str, np.ndarray]]:
        """Logits of each ``(input_ids, attention_mask)`` batch, in order; int8 batches side by side
        when there are at least as many as cores (fewer run one at a time on every core)."""
        if not self.side_by_side or len(batches) < self.threads:
            return [self(*batch) for batch in batches]
        if self._parallel is not None and self._parallel[0] != os.getpid():  # forked: the lock may be held too
            self._parallel, self._lock = None, threading.Lock()
        with self._lock:
            if self._parallel is None:
                self._parallel = (os.getpid(), onnx_session(self.path, session_options(1)),
                                  ThreadPoolExecutor(self.threads, thread_name_prefix="commentnlp-onnx"))
        _, session, pool = self._parallel
        return list(pool.map(lambda batch: self._run(session, *batch), batches))

    def _run(self, session, input_ids: np.ndarray, attention_mask: np.ndarray) -> dict[str, np.ndarray]:
        outputs = session.run(self.heads, {"input_ids": input_ids, "attention_mask": attention_mask})
        return dict(zip(self.heads, outputs))
