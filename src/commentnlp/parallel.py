"""Worker processes that do the host's share of labelling, so a fast model is not left waiting.

One labelling process reads, normalises, tokenises, formats and writes about 10,000-17,000
comments/s on two CPU cores (``benchmarks/bench_pipeline.py``), while a GPU runs the model
several times faster. With ``workers=N``, :func:`commentnlp.exports.label_file` keeps reading
and writing in its own process and runs the forward pass in a thread of it, so the device
computes while the next chunk is read; N spawned worker processes (no torch, one tokenizer
thread each) parse each chunk of the export (JSONL lines arrive unparsed), normalise, tokenise
and batch it, and turn its logits into predictions and output lines. Chunks go through in input
order, at most ``2 * N`` waiting at each stage, so memory stays flat whatever the export's size.

A worker writes a chunk's output to a file of a private temporary directory and answers with
a few bytes only. multiprocessing sends a message over 16 KB in two writes, so a worker killed
between them (by the OOM killer, say) would leave ProcessPoolExecutor waiting for the rest of it
forever; a message this small goes in one atomic write, and a killed worker is always reported.
"""

from __future__ import annotations

import glob
import itertools
import json
import multiprocessing
import os
import shutil
import signal
import tempfile
import threading
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Iterable, Iterator

from .backends import available_cores
from .batching import Batch
from .exports import (Item, LabelSummary, RawLine, chunked, jsonl_line, output_records, parse_jsonl_line,
                      replies_to_label, texts_to_label)
from .processes import sweep_left_behind

__all__ = ["auto_workers", "label_chunks", "WorkerError"]

#: Most worker processes :func:`auto_workers` picks.
MAX_AUTO_WORKERS = 16

_classifier = None  # in a worker: a Classifier without a model (tokenizer, config, playbook)


class WorkerError(RuntimeError):
    """A worker process stopped before finishing its chunk (killed, out of memory)."""


def auto_workers(classifier) -> int:
    """Worker processes ``label_file`` uses by default for ``classifier``.

    None when the model runs on the CPU (its forward pass needs every core); on a GPU, all
    cores but two (the main process and the device's driver), at most :data:`MAX_AUTO_WORKERS`.
    """
    on_gpu = str(getattr(classifier.backend, "device", "cpu")).startswith("cuda")
    return max(0, min(MAX_AUTO_WORKERS, available_cores() - 2)) if on_gpu else 0


def _start_worker(model_dir, config, playbook, batch_size: int, max_batch_tokens: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle: it stops the pool
    os.environ["RAYON_NUM_THREADS"] = "1"  # the workers are the parallelism: one tokenizer thread each
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    global _classifier
    from .classifier import Classifier

    _classifier = Classifier(model_dir, config, None, playbook)
    _classifier.batch_size, _classifier.max_batch_tokens = batch_size, max_batch_tokens  # the device's batching


def _exit_with_parent() -> None:
    """In a worker: end when the labelling process that spawned it is gone (``kill -9``: nothing told the
    workers, which waited for work forever, ~90 MB each), also when it went while this one started.
    Its sentinel tells, on Windows too (where ``getppid`` keeps the id of a parent that is gone)."""
    multiprocessing.parent_process().join()
    os._exit(0)


def _scratch_dir() -> str:
    """A private temporary directory for this run's chunk files, named by this process; those of runs
    whose process is gone (killed) are removed, once untouched for 10 minutes."""
    sweep_left_behind(glob.glob(os.path.join(tempfile.gettempdir(), f"{_SCRATCH_PREFIX}*-*")), _SCRATCH_PREFIX, 600)
    return tempfile.mkdtemp(prefix=f"{_SCRATCH_PREFIX}{os.getpid()}-")


_SCRATCH_PREFIX = "commentnlp-label-"


def _spawn_workers(pool: ProcessPoolExecutor, workers: int) -> None:
    """Start the pool's processes now, with Ctrl-C ignored from their first instruction (a process
    started with SIGINT ignored keeps it so): a Ctrl-C while they imported printed their tracebacks.
    Ctrl-C stays this process's to handle, and its handler is back once they are started."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is None:
        return  # only the main thread sets handlers, and one set outside Python could not be put back
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        for _ in range(workers):  # each submit to a pool with no idle process starts one
            pool.submit(os.getpid)
    finally:
        signal.signal(signal.SIGINT, previous)


def _items(block: list[Item] | list[RawLine]) -> list[Item]:
    """In a worker: the chunk's items (JSONL lines arrive unparsed and are parsed here).

    Each chunk is parsed twice, by the worker that tokenises it and by the one that formats it:
    3 µs a line in parallel, cheaper than passing parsed records through the main process."""
    return [x if isinstance(x, Item) else parse_jsonl_line(*x) for x in block]


def _prepare(block: list[Item] | list[RawLine], text_field: str | None) -> tuple[int, list[Batch], list[bool | None]]:
    """In a worker: how many of the chunk's items have a text to label, the model's batches for them,
    and their thread positions (``logits_for_batches``'s arguments)."""
    items = _items(block)
    ids = _classifier.encode(texts_to_label(items, text_field))
    return len(ids), _classifier.batches_for_ids(ids), replies_to_label(items)


def _finish(block: list[Item] | list[RawLine], logits: dict[str, Any], text_field: str | None, path: str,
            abstain: bool = False) -> int:
    """In a worker: write the chunk's counts (a JSON line), then its output records as JSON lines, to ``path``.

    Returns the number of items only, so the answer to the main process stays a few bytes.
    """
    summary = LabelSummary()
    items = _items(block)
    texts = texts_to_label(items, text_field)
    predictions = _classifier.predictions(texts, logits, abstain=abstain, is_reply=replies_to_label(items))
    records = output_records(items, predictions, summary)
    counts = {"total": summary.total, **summary.counts()}
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
    part = LabelSummary(total=counts.pop("total"))
    part.restore(counts)
    # JSON escapes newlines inside strings, so each "\n" ends a record
    output = lines if jsonl else [json.loads(line) for line in lines.split("\n")[:-1]]
    return output, part


def label_chunks(
    items: Iterable[Item | RawLine],
    classifier,
    workers: int,
    *,
    text_field: str | None = None,
    batch_size: int | None = None,
    summary: LabelSummary,
    chunk: int,
    jsonl: bool,
    abstain: bool = False,
) -> Iterator[tuple[int, str | list[dict[str, Any]]]]:
    """``(records, output)`` per chunk of ``items``, in order, labelled with ``workers`` processes.

    ``items`` are :class:`~commentnlp.exports.Item` s, or JSONL lines not yet parsed
    (:func:`~commentnlp.exports.jsonl_lines`), which the workers parse. ``output`` is the chunk's
    JSON lines as one string when ``jsonl``, else its output records. ``summary`` receives every
    chunk's counts as it is yielded.
    """
    if workers < 1:
        raise ValueError("workers must be >= 1")
    depth = 2 * workers
    scratch = _scratch_dir()
    names = itertools.count()
    batching = (classifier.batch_size if batch_size is None else batch_size, classifier.max_batch_tokens)
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start_worker,
                               initargs=(classifier.model_dir, classifier.config, classifier.playbook, *batching))
    _spawn_workers(pool, workers)
    device = ThreadPoolExecutor(1, thread_name_prefix="commentnlp-forward")  # the model runs beside the I/O
    prepared: deque[tuple[list, Future]] = deque()  # being tokenised and batched by a worker
    computing: deque[tuple[list, Future]] = deque()  # in the forward thread
    finished: deque[tuple[str, Future]] = deque()  # being formatted by a worker

    def compute() -> None:
        block, future = prepared.popleft()
        computing.append((block, device.submit(classifier.logits_for_batches, *future.result())))

    def finish() -> None:
        block, future = computing.popleft()
        path = os.path.join(scratch, f"{next(names)}.jsonl")
        finished.append((path, pool.submit(_finish, block, future.result(), text_field, path, abstain)))

    def done(waiting: int) -> Iterator[tuple[int, str | list[dict[str, Any]]]]:
        while finished and (len(finished) > waiting or finished[0][1].done()):
            path, future = finished.popleft()
            n = future.result()
            output, counts = _read_finished(path, jsonl)
            summary.add(counts)
            yield n, output

    def in_order() -> Iterator[tuple[int, str | list[dict[str, Any]]]]:
        for block in chunked(items, chunk):
            prepared.append((block, pool.submit(_prepare, block, text_field)))
            if len(prepared) > depth:
                compute()
            if len(computing) > 1:  # one chunk on the device, the next one queued behind it
                finish()
            yield from done(depth)
        while prepared or computing:
            if prepared:
                compute()
            finish()
            yield from done(depth)
        yield from done(0)

    try:
        yield from in_order()
    except BrokenProcessPool as exc:
        raise WorkerError("a worker process stopped unexpectedly (killed, or out of memory?); the output up to "
                          "the last checkpoint is kept: run again with --resume (resume=True), with fewer "
                          "workers or none") from exc
    finally:
        device.shutdown(wait=True, cancel_futures=True)
        pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(scratch, ignore_errors=True)
