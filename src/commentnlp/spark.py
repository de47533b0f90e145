"""Label whole comment archives on Apache Spark, with the same model and the same labels.

:func:`label_dataframe` adds ``style, intent, sentiment`` (string), ``troll`` (boolean),
``action`` (string), ``scores`` (string: the JSON of the scores dict, exactly what
``Prediction.scores`` holds) and ``error`` (string, null when labelled) to a DataFrame.
It runs ``mapInPandas`` over Arrow batches: each Python worker loads the model **once**
(a module-level cache keyed by model path and backend) and reuses it for every batch and
every partition it is given. :func:`label_files` reads Parquet or JSON lines, labels and
writes Parquet or JSON, and returns counts.

Shipping the model: a model directory on the driver is zipped (with the ONNX graph the
driver built for it, so executors neither export nor quantize anything and run the very
graph ``classify()`` runs on the driver) and sent with ``SparkContext.addArchive``;
workers find it with ``SparkFiles.get``. (``addFile(dir, recursive=True)`` is refused by
Spark for local directories outside local mode, so it is used only for directories on a
Hadoop filesystem: ``hdfs://``, ``s3a://``, ...). ``ship_model=False`` uses the path as it
is on every executor (a shared filesystem, or a path baked into the executor image).

Rows whose text is null, empty or only whitespace keep flowing, with ``error`` set in the
words of ``commentnlp label`` (``'text' is null, not a string``, ``'text' is empty``) and
the label columns null.
"""

from __future__ import annotations

import atexit
import copy
import functools
import json
import logging
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
import zipfile
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from .exports import API_LIST_KEYS, TEXT_FIELDS, reply_field_in, reply_value, text_field_in, text_of
from .validation import is_whole

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from pyspark.sql import DataFrame, SparkSession

    from .playbook import Playbook

__all__ = ["OUTPUT_COLUMNS", "OUTPUT_SCHEMA", "SCORES_TYPE", "label_dataframe", "label_files",
           "worker_log_summary"]

log = logging.getLogger(__name__)

_OUTPUT_TYPES = {"style": "string", "intent": "string", "sentiment": "string", "troll": "boolean",
                 "action": "string", "scores": "string", "error": "string"}
#: Columns added by :func:`label_dataframe`, in this order.
OUTPUT_COLUMNS = tuple(_OUTPUT_TYPES)
#: Their Spark types (DDL).
OUTPUT_SCHEMA = ", ".join(f"{name} {kind}" for name, kind in _OUTPUT_TYPES.items())
#: Parse ``scores`` with ``F.from_json("scores", SCORES_TYPE)`` to query it as a map.
SCORES_TYPE = "map<string,map<string,double>>"

#: Inside a shipped model archive, its ONNX graphs laid out as ``build_onnx``'s cache holds them
#: (``<key>/model.<int8|fp32>.v<format>.onnx``), so a worker loads them with ``onnx_cache`` pointed here.
_GRAPH_DIR = "_onnx"
_ROW = "__commentnlp_row"
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


def _require_pyspark() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise ImportError("commentnlp.spark needs PySpark: pip install 'commentnlp[spark]'") from None


# ---------------------------------------------------------------------------------------
# Worker side: one model per Python worker process, reused across batches and partitions.
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _WorkerSpec:
    """Everything a worker needs; pickled into the task (small: no model inside)."""

    model: str  # a SparkFiles name (from_spark_files) or a path every executor can read
    from_spark_files: bool
    fingerprint: str | None  # of the shipped model, when the archive carries its ONNX graph
    backend: str
    batch_size: int | None  # None: the classifier's default
    text_col: str
    text_type: str | None  # None: a string column; else the JSON-ish name of its type ("int", ...)
    drop: tuple[str, ...]  # input columns replaced by output columns of the same name
    playbook: Any  # a Playbook or None
    log_dir: str | None


_classifiers: dict[tuple[str, str], Any] = {}
#: How many times this process has loaded each (model path, backend): 1 once loaded, never more.
_loads: dict[tuple[str, str], int] = {}
_lock = threading.Lock()


def _task_cpus() -> int | None:
    """Cores given to one Spark task (``spark.task.cpus``): the ONNX Runtime thread count."""
    try:
        from pyspark import TaskContext

        ctx = TaskContext.get()
        if ctx is not None:
            return max(1, int(ctx.cpus()))
    except Exception:  # older PySpark, or not in a task
        pass
    try:
        return max(1, int(os.environ["OMP_NUM_THREADS"]))  # PySpark sets it to spark.task.cpus
    except (KeyError, ValueError):
        return None


@contextmanager
def _build_lock():
    """Serialise ONNX builds between the workers of one machine (only when no graph was shipped)."""
    from .backends import cache_dir

    handle = None
    try:
        import fcntl

        cache_dir().mkdir(parents=True, exist_ok=True)
        handle = open(cache_dir() / ".spark-build.lock", "w")
        fcntl.flock(handle, fcntl.LOCK_EX)
    except (ImportError, OSError):
        handle = None
    try:
        yield
    finally:
        if handle is not None:
            handle.close()  # releases the lock


def _load_classifier(model_dir: Path, backend: str, fingerprint: str | None):
    """Load the worker's model, using the ONNX graph shipped with it when there is one."""
    from .classifier import Classifier

    shipped = model_dir / _GRAPH_DIR if fingerprint is not None and (model_dir / _GRAPH_DIR).is_dir() else None
    with _build_lock() if shipped is None else nullcontext():
        return Classifier.load(model_dir, backend=backend, threads=_task_cpus(), onnx_cache=shipped)


def _log_event(spec: _WorkerSpec, event: str, **fields: Any) -> None:
    """Append one JSON line to ``<log_dir>/worker-<host>-<pid>.jsonl`` (diagnostics and tests)."""
    if not spec.log_dir:
        return
    host, pid = socket.gethostname(), os.getpid()
    record = {"event": event, "host": host, "pid": pid, "time": round(time.time(), 3), **fields}
    path = Path(spec.log_dir)
    path.mkdir(parents=True, exist_ok=True)
    with open(path / f"worker-{host}-{pid}.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


def _worker_classifier(spec: _WorkerSpec):
    """The model of this worker process, loaded on first use and kept for the process's life."""
    if spec.from_spark_files:
        from pyspark import SparkFiles

        path = SparkFiles.get(spec.model)
        if not Path(path).is_dir():
            raise FileNotFoundError(f"commentnlp: the shipped model {spec.model!r} is not at {path} on this executor")
    else:
        path = spec.model
    key = (path, spec.backend)
    clf = _classifiers.get(key)
    if clf is None:
        with _lock:
            clf = _classifiers.get(key)
            if clf is None:
                t0 = time.time()
                clf = _classifiers[key] = _load_classifier(Path(path), spec.backend, spec.fingerprint)
                _loads[key] = _loads.get(key, 0) + 1
                seconds = round(time.time() - t0, 3)
                log.info("commentnlp: loaded %s (%s) in process %d in %.1fs", path, clf.backend_name, os.getpid(),
                         seconds)
                _log_event(spec, "load", model=path, backend=clf.backend_name, seconds=seconds,
                           model_loads=_loads[key])
    return clf, key


def _label_batches(batches: Iterator["pd.DataFrame"], spec: _WorkerSpec) -> Iterator["pd.DataFrame"]:
    """The ``mapInPandas`` function: label each Arrow batch of a partition."""
    import pandas as pd

    clf = key = None
    name = spec.text_col
    for pdf in batches:
        cpu0 = time.process_time()
        n = len(pdf)
        if spec.drop:
            pdf = pdf.drop(columns=list(spec.drop))
        cols: dict[str, list[Any]] = {c: [None] * n for c in OUTPUT_COLUMNS}
        series = pdf[name]
        missing = series.isna().tolist()
        # the thread position, read as label_file reads it (the first of REPLY_FIELDS present)
        position, kind = reply_field_in([str(c) for c in pdf.columns]) or (None, None)
        positions = pdf[position].astype(object).where(pdf[position].notna(), None).tolist() if position else None
        values = series.tolist() if spec.text_type is None else None
        rows: list[int] = []
        texts: list[str] = []
        for i in range(n):
            if missing[i]:
                error = f"{name!r} is null, not a string"
            elif spec.text_type is not None:
                error = f"{name!r} is {spec.text_type}, not a string"
            else:
                text, error = text_of({name: values[i]}, name)
                if error is None:
                    rows.append(i)
                    texts.append(text)
            if error is not None:
                cols["error"][i] = error
        if texts:
            if clf is None:
                clf, key = _worker_classifier(spec)
                if spec.playbook is not None:
                    clf = copy.copy(clf)  # shares the backend and tokenizer; only the actions differ
                    clf.playbook = spec.playbook
            replies = [reply_value(kind, positions[i]) for i in rows] if position else None
            for i, p in zip(rows, clf.predict(texts, batch_size=spec.batch_size, is_reply=replies)):
                for head, label in p.labels.items():
                    cols[head][i] = label
                cols["action"][i] = p.action
                cols["scores"][i] = json.dumps(p.scores, ensure_ascii=False)
        out = pdf.copy(deep=False)
        for c in OUTPUT_COLUMNS:
            out[c] = pd.Series(cols[c], index=pdf.index, dtype=object)
        _log_event(spec, "batch", rows=n, labeled=len(texts), cpu_seconds=round(time.process_time() - cpu0, 3),
                   model_loads=_loads.get(key, 0) if key is not None else None)
        yield out


# ---------------------------------------------------------------------------------------
# Driver side: stage and ship the model, build the plan.
# ---------------------------------------------------------------------------------------

_staged: dict[tuple[str, str], Path] = {}
_shipped: set[tuple[str, str]] = set()
_stage_root: Path | None = None
_stage_lock = threading.Lock()


def _staging_root() -> Path:
    global _stage_root
    if _stage_root is None:
        _stage_root = Path(tempfile.mkdtemp(prefix="commentnlp-spark-"))
        atexit.register(shutil.rmtree, _stage_root, True)
    return _stage_root


def _stage_model(model_dir: Path, backend: str) -> tuple[Path, str, bool]:
    """Zip a model directory (plus its ONNX graphs) once per process: ``(archive, fingerprint, has_graph)``."""
    from .backends import build_onnx, onnx_available
    from .classifier import ONNX_GRAPHS, resolve_backend
    from .serialization import model_files, model_fingerprint
    from .userwarnings import warn

    fingerprint = model_fingerprint(model_dir)
    kind = resolve_backend(backend, "cpu")
    quantized = ONNX_GRAPHS.get(kind, ()) if onnx_available() else ()  # the graphs the workers' CPUs run
    with _stage_lock:
        archive = _staged.get((fingerprint, kind))
        if archive is not None and archive.is_file():
            return archive, fingerprint, bool(quantized)
        graphs = [build_onnx(model_dir, quantize=quantize) for quantize in quantized]
        archive = _staging_root() / f"commentnlp-model-{fingerprint}-{kind}.zip"
        part = archive.with_suffix(".part")
        with zipfile.ZipFile(part, "w", zipfile.ZIP_STORED) as z:
            files, left_out = model_files(model_dir)
            if left_out:  # not what a link to outside it names, unless a model's file
                warn(f"not shipped with the model: {', '.join(left_out)} (links to outside {model_dir})")
            for path in files:
                z.write(model_dir / path, path.as_posix())
            for graph in graphs:  # under build_onnx's own key (the fp32 graph's leaves activation ranges out)
                z.write(graph, f"{_GRAPH_DIR}/{graph.parent.name}/{graph.name}")
        os.replace(part, archive)
        _staged[(fingerprint, kind)] = archive
        return archive, fingerprint, bool(graphs)


def _ship(sc, model: str | Path | None, backend: str, ship_model: bool) -> tuple[str, bool, str | None]:
    """``(reference, from_spark_files, fingerprint)`` for :class:`_WorkerSpec`."""
    from .serialization import read_config, resolve_model_path

    text = str(model) if model is not None else None
    if text is not None and text.startswith("file://"):
        text = text[len("file://"):]
    if text is not None and _URI.match(text):  # hdfs://, s3a://, ...: a directory on a Hadoop filesystem
        if not ship_model:
            return text, False, None
        uri = text.rstrip("/")
        with _stage_lock:
            if (sc.applicationId, uri) not in _shipped:
                sc.addFile(uri, recursive=True)
                _shipped.add((sc.applicationId, uri))
        return uri.rsplit("/", 1)[-1], True, None
    model_dir = resolve_model_path(text)
    read_config(model_dir)  # fail here, on the driver, with a clear ModelLoadError
    if not ship_model:
        return str(model_dir.resolve()), False, None
    archive, fingerprint, has_graph = _stage_model(model_dir.resolve(), backend)
    with _stage_lock:
        if (sc.applicationId, str(archive)) not in _shipped:
            sc.addArchive(str(archive))
            _shipped.add((sc.applicationId, str(archive)))
    return archive.name, True, fingerprint if has_graph else None


def _json_type_name(data_type) -> str:
    """The name ``commentnlp label`` would give a JSON value of this Spark type."""
    from pyspark.sql import types as T

    if isinstance(data_type, T.BooleanType):
        return "bool"
    if isinstance(data_type, (T.ByteType, T.ShortType, T.IntegerType, T.LongType)):
        return "int"
    if isinstance(data_type, (T.FloatType, T.DoubleType, T.DecimalType)):
        return "float"
    if isinstance(data_type, (T.StructType, T.MapType)):
        return "dict"
    if isinstance(data_type, T.ArrayType):
        return "list"
    return data_type.simpleString()


def label_dataframe(
    df: "DataFrame",
    text_col: str = "text",
    model: str | Path | None = None,
    batch_size: int | None = None,
    *,
    backend: str = "auto",
    playbook: "Playbook | str | Path | None" = None,
    ship_model: bool = True,
    worker_log_dir: str | Path | None = None,
) -> "DataFrame":
    """Return ``df`` plus ``style, intent, sentiment, troll, action, scores, error`` (lazy, like any transformation).

    ``model`` is a model directory on the driver (None = the bundled default model), shipped
    to the executors, or an ``hdfs://``/``s3a://``/... directory (added with ``addFile``);
    with ``ship_model=False`` it is a path every executor can read as it is. ``backend`` is
    as in :meth:`Classifier.load` (``"auto"``: ``onnx-cascade`` on CPU, like ``classify()``).
    ``scores`` is a JSON string (``F.from_json("scores", SCORES_TYPE)`` makes it a map).
    Input columns named like an output column are replaced (a table labelled before is labelled
    anew; ``commentnlp label`` keeps a field it did not write as ``<name>.input``).
    ``worker_log_dir`` (a directory the executors can write) gets one JSON line per model
    load and per Arrow batch from each worker process; see :func:`worker_log_summary`.
    """
    _require_pyspark()
    from pyspark.sql.types import BooleanType, StringType, StructField, StructType

    from .batching import check_batch_size
    from .classifier import resolve_backend
    from .playbook import Playbook, default_playbook

    resolve_backend(backend, "cpu")  # an unknown backend fails here, on the driver
    if batch_size is not None:
        check_batch_size(batch_size)
    if text_col not in df.columns:
        raise ValueError(f"no column {text_col!r} in the DataFrame (columns: {', '.join(df.columns)})")
    if text_col.lower() in OUTPUT_COLUMNS:
        raise ValueError(f"the text column cannot be called {text_col!r}: that is an output column")
    if playbook is not None and not isinstance(playbook, Playbook):
        playbook = Playbook.from_toml(playbook, base=default_playbook())
    replaced = tuple(c for c in df.columns if c.lower() in OUTPUT_COLUMNS)
    if replaced:
        log.warning("commentnlp: input columns %s are replaced by the labels", ", ".join(replaced))
    kept = [f for f in df.schema.fields if f.name not in replaced]
    schema = StructType(kept + [StructField(c, BooleanType() if t == "boolean" else StringType(), True)
                                for c, t in _OUTPUT_TYPES.items()])
    text_type = df.schema[text_col].dataType
    reference, from_spark_files, fingerprint = _ship(df.sparkSession.sparkContext, model, backend, ship_model)
    if worker_log_dir is not None:
        text = str(worker_log_dir)
        worker_log_dir = text if _URI.match(text) else str(Path(text).resolve())
    spec = _WorkerSpec(
        model=reference, from_spark_files=from_spark_files, fingerprint=fingerprint, backend=backend,
        batch_size=batch_size, text_col=text_col,
        text_type=None if isinstance(text_type, StringType) else _json_type_name(text_type),
        drop=replaced, playbook=playbook, log_dir=worker_log_dir,
    )
    return df.mapInPandas(functools.partial(_label_batches, spec=spec), schema)


def worker_log_summary(log_dir: str | Path) -> dict[str, Any]:
    """Sum up a ``worker_log_dir``: worker processes, model loads, batches, rows, CPU seconds.

    ``max_model_loads`` is the most times any one worker process loaded a model (1 when
    every worker loaded it once and reused it); ``cpu_seconds`` is the CPU time the workers
    spent in the labelling function (the model load excluded).
    """
    loads, batches, workers, rows, max_loads, cpu = 0, 0, set(), 0, 0, 0.0
    for path in sorted(Path(log_dir).glob("worker-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            event = json.loads(line)
            workers.add((event["host"], event["pid"]))
            if event["event"] == "load":
                loads += 1
            elif event["event"] == "batch":
                batches += 1
                rows += event["rows"]
                cpu += event.get("cpu_seconds", 0.0)
            max_loads = max(max_loads, event.get("model_loads") or 0)
    return {"workers": len(workers), "loads": loads, "batches": batches, "rows": rows,
            "max_model_loads": max_loads, "cpu_seconds": round(cpu, 1)}


# ---------------------------------------------------------------------------------------
# Files in, files out.
# ---------------------------------------------------------------------------------------

_EXTENSIONS = {".parquet": "parquet", ".pq": "parquet", ".parq": "parquet",
               ".json": "json", ".jsonl": "json", ".ndjson": "json"}
_COMPRESSION = (".gz", ".bz2", ".xz", ".zst", ".snappy", ".lz4", ".deflate")


def _kind_of(name: str) -> str | None:
    name = name.lower()
    for ext in _COMPRESSION:
        if name.endswith(ext):
            name = name[: -len(ext)]
            break
    return next((kind for ext, kind in _EXTENSIONS.items() if name.endswith(ext)), None)


def detect_input_format(path: str | Path) -> str:
    """``"parquet"`` or ``"json"`` from a file's extension or the files of a directory."""
    text = str(path).rstrip("/")
    kind = _kind_of(text)
    if kind:
        return kind
    local = Path(text)
    if not _URI.match(text) and local.is_dir():
        kinds = set()
        for f in local.rglob("*"):
            if f.is_file() and not any(p.startswith(("_", ".")) for p in f.relative_to(local).parts):
                kinds.add(_kind_of(f.name))
        kinds.discard(None)
        if len(kinds) == 1:
            return kinds.pop()
        if kinds:
            raise ValueError(f"{path} holds both Parquet and JSON files; pass input_format='parquet' or 'json'")
    raise ValueError(f"cannot tell whether {path} is Parquet or JSON lines; pass input_format='parquet' or 'json'")


def _session(spark: "SparkSession | None", master: str) -> tuple["SparkSession", bool]:
    """The given or running session, else a new one (``True``: we started it).

    Under ``spark-submit`` (which starts this Python itself) its ``--master`` is used;
    otherwise ``master``.
    """
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    if spark is not None:
        return spark, False
    if SparkContext._active_spark_context is not None:
        return SparkSession.builder.getOrCreate(), False
    builder = SparkSession.builder.appName("commentnlp label")
    if "PYSPARK_GATEWAY_PORT" not in os.environ:  # not launched by spark-submit
        builder = builder.master(master)
        if master.startswith("local"):
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers need this Python (and commentnlp)
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("WARN")
    return session, True


def label_files(
    input_path: str | Path,
    output_path: str | Path,
    *,
    text_col: str | None = None,
    input_format: str = "auto",
    output_format: str = "parquet",
    master: str = "local[*]",
    partitions: int | None = None,
    model: str | Path | None = None,
    backend: str = "auto",
    batch_size: int | None = None,
    playbook: "Playbook | str | Path | None" = None,
    overwrite: bool = False,
    spark: "SparkSession | None" = None,
    worker_log_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Label Parquet or JSON lines (a file or a directory) into a Parquet or JSON directory.

    Uses ``spark``, else the running SparkSession, else starts one on ``master`` and stops
    it at the end (under ``spark-submit``, on spark-submit's master). The text column is
    ``text_col`` or the first of ``exports.TEXT_FIELDS`` (``text, message, comment, body, content, ...``). With fewer input
    partitions than the cluster has cores (a single file, say), or when ``partitions`` is
    given, rows are range-partitioned on their input position so the output part files stay
    in input order. JSON lines that are not valid JSON objects come back with ``raw`` (the
    line) and ``error = "not valid JSON"``. The output must not exist unless ``overwrite``.
    ``backend``, ``batch_size``, ``playbook`` and ``worker_log_dir`` are passed to
    :func:`label_dataframe`.
    Returns ``{rows, labeled, errors, seconds, reasons, output, text_col, partitions}``
    (``seconds``: wall time of the call; ``reasons``: rows per error message).
    """
    _require_pyspark()
    from pyspark.sql import functions as F

    t0 = time.time()
    if input_format == "auto":
        input_format = detect_input_format(input_path)
    if input_format not in ("parquet", "json"):
        raise ValueError(f"input_format must be 'auto', 'parquet' or 'json', not {input_format!r}")
    if output_format not in ("parquet", "json"):
        raise ValueError(f"output_format must be 'parquet' or 'json', not {output_format!r}")
    if partitions is not None and not is_whole(partitions, 1):
        raise ValueError(f"partitions must be a whole number of 1 or more, not {partitions!r}")
    src, dst = str(input_path), str(output_path)
    if not _URI.match(src) and not Path(src).exists():
        raise FileNotFoundError(f"input not found: {src}")
    if not _URI.match(dst):
        if not _URI.match(src) and Path(src).resolve() == Path(dst).resolve():
            raise ValueError("the output cannot be the input")
        if Path(dst).exists() and not overwrite:
            raise FileExistsError(f"output already exists: {dst} (pass overwrite=True to replace it; on the command "
                                  "line, remove it or choose another -o)")
    session, started = _session(spark, master)
    try:
        df = session.read.parquet(src) if input_format == "parquet" else session.read.json(src)
        corrupt = "_corrupt_record" in df.columns
        if text_col is None:
            text_col = text_field_in(df.columns)
            if text_col is None:
                listed = next((c for c in API_LIST_KEYS if c in df.columns), None)
                hint = (f"; its records may be listed under {listed!r}, as in an API response: label it without "
                        f"--engine spark, which reads those" if listed else "")
                raise ValueError(f"no text column in {src} (looked for {', '.join(TEXT_FIELDS)}; columns are "
                                 f"{', '.join(df.columns)}); pass text_col (--text-field on the command line){hint}")
        elif text_col not in df.columns:
            raise ValueError(f"no column {text_col!r} in {src} (columns: {', '.join(df.columns)})")
        have = df.rdd.getNumPartitions()
        wanted = partitions or (2 * session.sparkContext.defaultParallelism
                                if have < session.sparkContext.defaultParallelism else None)
        if wanted and wanted != have:
            df = (df.withColumn(_ROW, F.monotonically_increasing_id())
                  .repartitionByRange(wanted, _ROW).sortWithinPartitions(_ROW).drop(_ROW))
        labeled = label_dataframe(df, text_col, model, batch_size, backend=backend, playbook=playbook,
                                  worker_log_dir=worker_log_dir)
        if corrupt:
            labeled = labeled.withColumn("error", F.when(F.col("_corrupt_record").isNotNull(), F.lit("not valid JSON"))
                                         .otherwise(F.col("error")))
            if "raw" not in labeled.columns:
                labeled = labeled.withColumnRenamed("_corrupt_record", "raw")
        writer = labeled.write.mode("overwrite" if overwrite else "errorifexists")
        if output_format == "parquet":
            writer.parquet(dst)
            written = session.read.parquet(dst)
        else:
            writer.json(dst)
            written = session.read.schema("error string").json(dst)
        counts = {row["error"]: row["count"] for row in written.groupBy("error").count().collect()}
    finally:
        if started:
            session.stop()
    rows = sum(counts.values())
    labeled_n = counts.get(None, 0)
    return {"rows": rows, "labeled": labeled_n, "errors": rows - labeled_n, "seconds": round(time.time() - t0, 2),
            "reasons": {k: v for k, v in sorted(counts.items(), key=lambda kv: -kv[1]) if k is not None},
            "output": dst, "text_col": text_col, "partitions": wanted or have}
