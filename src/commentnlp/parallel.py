"""Worker processes that do the host's share of labelling, so a fast model is not left waiting.

One labelling process reads, normalises, tokenises, formats and writes about 10,000-17,000
comments/s on two CPU cores (``benchmarks/bench_pipeline.py``), while a GPU runs the model
several times faster. With ``workers=N``, :func:`commentnlp.exports.label_file` keeps reading,
the forward pass and writing in its own process; N spawned worker processes (no torch, one
tokenizer thread each) normalise and tokenise each chunk of the export, and turn its logits into
predictions and output lines. Chunks go through in input order, at most ``2 * N`` waiting at
each stage, so memory stays flat whatever the size of the export.

A worker writes a chunk's output to a file of a private temporary directory and answers with
a few bytes only. multiprocessing sends a message over 16 KB in two writes, so a worker killed
between them (by the OOM killer, say) would leave ProcessPoolExecutor waiting for the rest of it
forever; a message this small goes in one atomic write, and a killed worker is always reported.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import shutil
import signal
import tempfile
from collections import Counter, deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Iterable, Iterator

from .exports import Item, LabelSummary, chunked, jsonl_line, output_records, replies_to_label, texts_to_label

__all__ = ["auto_workers", "label_chunks", "WorkerError"]

#: Most worker processes :func:`auto_workers` picks.
MAX_AUTO_WORKERS = 8

_classifier = None  # in a worker: a Classifier without a model (tokenizer, config, playbook)


class WorkerError(RuntimeError):
    """A worker process stopped before finishing its chunk (killed, out of memory)."""


def available_cores() -> int:
    """CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def auto_workers(classifier) -> int:
    """Worker processes ``label_file`` uses by default for ``classifier``.

    None when the model runs on the CPU (its forward pass needs every core); on a GPU, all
    cores but two (the main process and the device's driver), at most :data:`MAX_AUTO_WORKERS`.
    """
    on_gpu = str(getattr(classifier.backend, "device", "cpu")).startswith("cuda")
    return max(0, min(MAX_AUTO_WORKERS, available_cores() - 2)) if on_gpu else 0


def _start_worker(model_dir, config, playbook) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle: it stops the pool
    os.environ["RAYON_NUM_THREADS"] = "1"  # the workers are the parallelism: one tokenizer thread each
    global _classifier
    from .classifier import Classifier

    _classifier = Classifier(model_dir, config, None, playbook)


def _encode(texts: list[str]) -> list[list[int]]:
    """In a worker: the token ids of ``texts``."""
    return _classifier.encode(texts)


def _finish(items: list[Item], logits: dict[str, Any], text_field: str | None, path: str) -> int:
    """In a worker: write the chunk's counts (a JSON line), then its output records as JSON lines, to ``path``.

    Returns the number of items only, so the answer to the main process stays a few bytes.
    """
    summary = LabelSummary()
    texts = texts_to_label(items, text_field)
    predictions = _classifier.predictions(texts, logits, is_reply=replies_to_label(items))
    records = output_records(items, predictions, summary)
    counts = {"total": summary.total, "labeled": summary.labeled, "errors": summary.errors,
              "reasons": dict(summary.reasons)}
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(counts) + "\n")
        f.writelines(map(jsonl_line, records))
    return len(items)


def _read_finished(path: str, jsonl: bool) -> tuple[str | list[dict[str, Any]], LabelSummary]:
    """In the main process: a chunk's output (JSON lines as one string, or records) and counts, from ``path``."""
    with open(path, encoding="utf-8") as f:
        counts = json.loads(f.readline())
        lines = f.read()
    os.unlink(path)
    counts["reasons"] = Counter(counts["reasons"])
    # JSON escapes newlines inside strings, so each "\n" ends a record
    output = lines if jsonl else [json.loads(line) for line in lines.split("\n")[:-1]]
    return output, LabelSummary(**counts)


def label_chunks(
    items: Iterable[Item],
    classifier,
    workers: int,
    *,
    text_field: str | None = None,
    batch_size: int | None = None,
    summary: LabelSummary,
    chunk: int,
    jsonl: bool,
) -> Iterator[tuple[int, str | list[dict[str, Any]]]]:
    """``(records, output)`` per chunk of ``items``, in order, labelled with ``workers`` processes.

    ``output`` is the chunk's JSON lines as one string when ``jsonl``, else its output records.
    ``summary`` receives every chunk's counts as it is yielded.
    """
    if workers < 1:
        raise ValueError("workers must be >= 1")
    depth = 2 * workers
    scratch = tempfile.mkdtemp(prefix="commentnlp-label-")
    names = itertools.count()
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start_worker,
                               initargs=(classifier.model_dir, classifier.config, classifier.playbook))
    prepared: deque[tuple[list[Item], Future]] = deque()
    finished: deque[tuple[str, Future]] = deque()

    def forward() -> None:
        block, future = prepared.popleft()
        logits = classifier.logits_for_ids(future.result(), batch_size)
        path = os.path.join(scratch, f"{next(names)}.jsonl")
        finished.append((path, pool.submit(_finish, block, logits, text_field, path)))

    def done(waiting: int) -> Iterator[tuple[int, str | list[dict[str, Any]]]]:
        while finished and (len(finished) > waiting or finished[0][1].done()):
            path, future = finished.popleft()
            n = future.result()
            output, counts = _read_finished(path, jsonl)
            summary.add(counts)
            yield n, output

    def in_order() -> Iterator[tuple[int, str | list[dict[str, Any]]]]:
        for block in chunked(items, chunk):
            prepared.append((block, pool.submit(_encode, texts_to_label(block, text_field))))
            if len(prepared) > depth:
                forward()
            yield from done(depth)
        while prepared:
            forward()
            yield from done(depth)
        yield from done(0)

    try:
        yield from in_order()
    except BrokenProcessPool as exc:
        raise WorkerError("a worker process stopped unexpectedly (killed, or out of memory?); the output up to "
                          "the last checkpoint is kept: run again with --resume (resume=True), with fewer "
                          "workers or none") from exc
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(scratch, ignore_errors=True)
