"""What `commentnlp label` costs outside the model: the ceiling a faster model (a GPU) cannot lift.

    python benchmarks/bench_pipeline.py                      # 50,000 comments cycled from data/
    python benchmarks/bench_pipeline.py --n 200000 --workers 0 2 4 8 --json
    python benchmarks/bench_pipeline.py --n 60000 --workers 1 --device-rate 8000 16000 40000 --launches 0 500
    python benchmarks/bench_pipeline.py --n 60000 --workers 1 --device-rate 16000 --launches 500 --switch-interval 0.005 0.0002

Runs the real `label_file` on a JSONL export with the model's forward pass replaced by one that
returns constant logits instantly, so what is left is the host's share of every label: reading
JSON, normalising, tokenising, batching, turning scores into predictions and writing JSON. Its
rate is the most any accelerator can give one labelling run on this machine. It is measured for
each `--workers` count (0: all in one process), with the CPU time the main process and the
workers spend per comment (the workers' start-up is measured apart and taken off, so use tens of
thousands of comments): the main process's share bounds what more cores can give. Then times
each stage on its own (one pass each, same texts, one process), to show where that time goes.

With --device-rate, it also checks that `label` overlaps a device's work with the host's: the
model becomes a stand-in accelerator that waits, with the GIL released, as long as a device of
that rate would take per batch (batches of 1,024, as on a GPU), after --launches calls per batch
that each release and retake the GIL (as an eager forward's kernel launches do). The run's rate
is printed beside the stand-in's alone, the host ceiling (the instant model, same workers), the
lower of the two (perfect overlap) and what the stages would give one after the other.
--switch-interval repeats those runs with each given `sys.setswitchinterval` in the main process
(Python's default: 0.005 s): how long a thread that gave the GIL up waits to get it back while
another thread of the main process (reading, writing) holds it.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from itertools import product
from pathlib import Path

import numpy as np
from _common import machine, texts_from_data, write_export

from commentnlp import Classifier
from commentnlp.batching import pad_batch, sorted_batches
from commentnlp.exports import label_file, read_jsonl
from commentnlp.preprocessing import normalize


class InstantModel:
    """A backend that answers every batch at once with uniform logits (labels are meaningless)."""

    def __init__(self, heads: dict[str, tuple[str, ...]]):
        self.heads = heads

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> dict[str, np.ndarray]:
        return {h: np.zeros((len(input_ids), len(v)), np.float32) for h, v in self.heads.items()}


class StandInDevice(InstantModel):
    """An accelerator stand-in: ``launches`` GIL round trips, then a GIL-free wait of one batch at ``rate`` comments/s."""

    def __init__(self, heads: dict[str, tuple[str, ...]], rate: float, launches: int = 0):
        super().__init__(heads)
        self.rate, self.launches = rate, launches

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> dict[str, np.ndarray]:
        for _ in range(self.launches):
            time.sleep(0)  # releases the GIL and takes it back, as a kernel launch from Python does
        time.sleep(len(input_ids) / self.rate)
        return super().__call__(input_ids, attention_mask)


def overlap_runs(clf: Classifier, path: Path, output: Path, workers: int, rates: list[float],
                 launches: list[int], switch_intervals: list[float | None]) -> list[dict]:
    """``label_file`` with a stand-in device per (switch interval, rate, launches), with GPU-sized
    batches; a switch interval of None leaves the interpreter's as it is."""
    from commentnlp.classifier import GPU_BATCH_SIZE, GPU_MAX_BATCH_TOKENS

    saved, saved_interval = (clf.backend, clf.batch_size, clf.max_batch_tokens), sys.getswitchinterval()
    clf.batch_size, clf.max_batch_tokens = GPU_BATCH_SIZE, GPU_MAX_BATCH_TOKENS
    try:
        ceiling = instant_label_run(clf, path, output, workers)["rate"]
        with path.open("rb") as f:
            texts = [item.record["text"] for item in read_jsonl(f)]
        batches = clf.batches_for_ids(clf.encode(texts))
        out = []
        for interval, launch_count, rate in product(switch_intervals, launches, rates):
            if interval is not None:
                sys.setswitchinterval(interval)
            clf.backend = StandInDevice(clf.heads, rate, launch_count)
            t0 = time.perf_counter()
            clf.logits_for_batches(len(texts), batches)
            alone = len(texts) / (time.perf_counter() - t0)
            t0 = time.perf_counter()
            summary = label_file(path, output, clf, workers=workers)
            run = summary.labeled / (time.perf_counter() - t0)
            out.append({"device_rate": rate, "launches": launch_count, "switch_interval": sys.getswitchinterval(),
                        "device_alone": alone, "label_rate": run,
                        "host_ceiling": ceiling, "perfect_overlap": min(alone, ceiling),
                        "one_after_the_other": 1 / (1 / alone + 1 / ceiling)})
        return out
    finally:
        clf.backend, clf.batch_size, clf.max_batch_tokens = saved
        sys.setswitchinterval(saved_interval)


def padded_batches(clf: Classifier, ids: list[list[int]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """The padded batches ``clf`` runs its model on for these token ids."""
    return [pad_batch(ids, idx, clf._pad_id) for idx in
            sorted_batches([len(x) for x in ids], clf.batch_size, clf.max_batch_tokens)]


def _cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def instant_label_run(clf: Classifier, path: Path, output: Path, workers: int = 0) -> dict[str, float]:
    """``label_file`` with an instant model: comments/s, comments labelled, wall seconds, and CPU
    seconds of this process and of the workers (their start-up included)."""
    backend, clf.backend = clf.backend, InstantModel(clf.heads)
    try:
        main, children = _cpu_seconds(resource.RUSAGE_SELF), _cpu_seconds(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        summary = label_file(path, output, clf, workers=workers)
        seconds = time.perf_counter() - t0
        return {"rate": summary.labeled / seconds, "labeled": summary.labeled, "seconds": seconds, "main_cpu_s": _cpu_seconds(resource.RUSAGE_SELF) - main,
                "workers_cpu_s": _cpu_seconds(resource.RUSAGE_CHILDREN) - children}
    finally:
        clf.backend = backend


def workers_run(clf: Classifier, path: Path, tmp: Path, n: int, workers: int, repeats: int) -> dict:
    """Median rate over ``repeats`` runs with ``workers``, and CPU µs per comment (start-up excluded)."""
    runs = [instant_label_run(clf, path, tmp / "out.jsonl", workers) for _ in range(repeats)]
    start = {"main_cpu_s": 0.0, "workers_cpu_s": 0.0}
    if workers:  # the same run on a one-comment export: what starting the workers costs
        start = instant_label_run(clf, write_export(tmp / "one.jsonl", ["hi"]), tmp / "out.jsonl", workers)
    return {"workers": workers, "rate": float(np.median([r["rate"] for r in runs])),
            "rates": [r["rate"] for r in runs],
            "main_cpu_us": float(np.median([r["main_cpu_s"] - start["main_cpu_s"] for r in runs])) / n * 1e6,
            "workers_cpu_us": float(np.median([r["workers_cpu_s"] - start["workers_cpu_s"] for r in runs])) / n * 1e6,
            "workers_start_cpu_s": start["workers_cpu_s"]}


def stage_seconds(clf: Classifier, path: Path) -> dict[str, float]:
    """Seconds per stage of labelling ``path``, each stage timed on its own."""
    seconds: dict[str, float] = {}

    def timed(name, fn):
        t0 = time.perf_counter()
        result = fn()
        seconds[name] = time.perf_counter() - t0
        return result

    with path.open("rb") as f:
        items = timed("read JSON lines", lambda: list(read_jsonl(f)))
    texts = [item.record["text"] for item in items]
    normalized = timed("normalize", lambda: [normalize(t) for t in texts])
    ids = timed("tokenize", lambda: [e.ids for e in clf._tokenizer.encode_batch(normalized)])
    timed("sort and pad batches", lambda: padded_batches(clf, ids))
    logits = clf.predict_logits(texts)  # the instant model's, untimed
    predictions = timed("scores to predictions", lambda: clf.predictions(texts, logits))
    timed("write JSON lines", lambda: [json.dumps({**item.record, "labels": p.labels, "scores": p.scores,
                                                   "action": p.action}, ensure_ascii=False)
                                       for item, p in zip(items, predictions)])
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--model", default=None, help="model directory or bundled name (its tokenizer is used)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2],
                        help="worker process counts to measure (0: all in one process)")
    parser.add_argument("--device-rate", type=float, nargs="*", default=[],
                        help="stand-in device rates (comments/s) to check the overlap at, with the first --workers count")
    parser.add_argument("--launches", type=int, nargs="+", default=[0],
                        help="GIL round trips per batch of the stand-in device")
    parser.add_argument("--switch-interval", type=float, nargs="+", default=[None],
                        help="sys.setswitchinterval values (s) to repeat the stand-in runs at (default: as it is)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    clf = Classifier.load(args.model, backend="onnx")
    with tempfile.TemporaryDirectory() as tmp:
        path = write_export(Path(tmp) / "export.jsonl", texts_from_data(args.n))
        runs = [workers_run(clf, path, Path(tmp), args.n, w, args.repeats) for w in args.workers]
        overlap = overlap_runs(clf, path, Path(tmp) / "out.jsonl", args.workers[0], args.device_rate,
                               args.launches, args.switch_interval) if args.device_rate else []
        clf.backend = InstantModel(clf.heads)  # the stages' scores come from it too
        stages = stage_seconds(clf, path)

    one = next((r for r in runs if r["workers"] == 0), runs[0])  # one process, when measured
    result = {"machine": machine(), "n": args.n, "label_rate_instant_model": one["rate"],
              "label_rates": one["rates"], "workers": runs, "stage_seconds": stages, "overlap": overlap}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"machine: {result['machine']}; {args.n} comments; `label` with an instant model, median of {args.repeats}\n")
    print("| workers | comments/s | CPU µs per comment: main process | workers (start-up excluded) |"
          " most comments/s the main process allows |\n|---|---|---|---|---|")
    for r in runs:
        # with no workers the main process's CPU time includes the tokenizer's parallel threads
        bound = f"{1e6 / r['main_cpu_us']:,.0f}" if r["workers"] else "–"
        print(f"| {r['workers']} | {r['rate']:,.0f} [{min(r['rates']):,.0f}-{max(r['rates']):,.0f}] | "
              f"{r['main_cpu_us']:.1f} | {r['workers_cpu_us']:.1f} | {bound} |")
    print("\n| stage (one process) | s | µs per comment | share |\n|---|---|---|---|")
    total = sum(stages.values())
    for name, s in stages.items():
        print(f"| {name} | {s:.2f} | {s / args.n * 1e6:.1f} | {s / total:.0%} |")
    print(f"| all stages, one after the other | {total:.2f} | {total / args.n * 1e6:.1f} | |")
    if overlap:
        print(f"\nA stand-in device, {args.workers[0]} workers, batches of 1,024 (comments/s):\n")
        print("| device | GIL round trips per batch | switch interval | device alone | `label` | host ceiling |"
              " perfect overlap | one after the other |\n|---|---|---|---|---|---|---|---|")
        for r in overlap:
            print(f"| {r['device_rate']:,.0f}/s | {r['launches']} | {r['switch_interval'] * 1e3:g} ms | "
                  f"{r['device_alone']:,.0f} | {r['label_rate']:,.0f} | "
                  f"{r['host_ceiling']:,.0f} | {r['perfect_overlap']:,.0f} | {r['one_after_the_other']:,.0f} |")


if __name__ == "__main__":
    main()
