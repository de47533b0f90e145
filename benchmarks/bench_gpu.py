"""GPU labelling: `label` end to end on CUDA, the model's forward alone, and the host's ceiling.

    python benchmarks/bench_gpu.py --n 200000              # on a machine with CUDA
    python benchmarks/bench_gpu.py --device cpu --n 2000   # the same measurements on the CPU

In one process, on --n comments cycled from data/ (PyTorch backend, fp16 on CUDA):
* `label_file` from a JSONL file to a JSONL file (the issue's end-to-end figure), with its default
  worker processes (`--workers`) parsing, tokenising and formatting beside the model; start-up
  (the workers' spawn, timed on a one-comment export) excluded, and included;
* `classify(list)` on the same texts in process;
* the model's forward pass alone on the same comments, tokenised and batched beforehand, so
  what it reports is what the device gives;
* the host's ceiling: `label_file` with the same workers and the model replaced by one that
  answers at once (`bench_pipeline.py`), the most it could label with an infinitely fast device;
* labels identical to the CPU fp32 reference on data/test.jsonl, per head;
* the device's name and peak memory.
--switch-interval S sets `sys.setswitchinterval` first (Python's default 0.005 s is how long a thread
that gave the GIL up, as the forward thread does at each kernel launch, may wait to get it back).
A machine without the base encoder package can put a copy on PYTHONPATH (`gpu_prepare.py`).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO, machine, texts_from_data, write_export
from bench_inference import agreement
from bench_pipeline import instant_label_run, padded_batches

from commentnlp import Classifier
from commentnlp.exports import label_file
from commentnlp.parallel import auto_workers


def _synchronize(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def forward_rate(clf: Classifier, texts: list[str], device: str) -> float:
    """Comments/s of the model's forward pass alone, on batches built beforehand."""
    batches = padded_batches(clf, clf.encode(texts))
    clf.backend(*batches[0])
    _synchronize(device)
    t0 = time.perf_counter()
    for batch in batches:
        clf.backend(*batch)
    _synchronize(device)
    return len(texts) / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--model", default=None, help="model directory or bundled name (default: the default model)")
    parser.add_argument("--device", default="cuda", help="cuda | cuda:N | cpu")
    parser.add_argument("--batch-size", type=int, default=None, help="comments per batch (default: the Classifier's)")
    parser.add_argument("--workers", type=int, default=None,
                        help="label_file's worker processes (default: its own choice, all cores but two, at most 16, on CUDA, 0 on the CPU)")
    parser.add_argument("--switch-interval", type=float, default=None,
                        help="sys.setswitchinterval in seconds for the whole run (default: Python's, 0.005)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval)
    clf = Classifier.load(args.model, backend="torch", device=args.device)
    if args.batch_size:
        clf.batch_size = args.batch_size
    texts = texts_from_data(args.n)
    workers = auto_workers(clf) if args.workers is None else args.workers
    result: dict = {"machine": machine(), "device": args.device, "n": args.n, "batch_size": clf.batch_size,
                    "workers": workers, "switch_interval": sys.getswitchinterval()}
    if args.device.startswith("cuda"):
        import torch

        result["device_name"] = torch.cuda.get_device_name(args.device)
        torch.cuda.reset_peak_memory_stats(args.device)
    clf.predict(texts[:2048])  # warm-up: kernels, allocator

    with tempfile.TemporaryDirectory() as tmp:
        path = write_export(Path(tmp) / "export.jsonl", texts)
        t0 = time.perf_counter()
        summary = label_file(path, Path(tmp) / "out.jsonl", clf, workers=workers)
        seconds = time.perf_counter() - t0
        # what starting the worker processes costs: the same call on a one-comment export
        t0 = time.perf_counter()
        label_file(write_export(Path(tmp) / "one.jsonl", texts[:1]), Path(tmp) / "out.jsonl", clf, workers=workers)
        result["worker_start_s"] = time.perf_counter() - t0
        result["label_file_rate_with_start"] = summary.labeled / seconds
        result["label_file_rate"] = summary.labeled / max(seconds - result["worker_start_s"], 1e-9)

        t0 = time.perf_counter()
        clf.predict(texts)
        result["classify_rate"] = len(texts) / (time.perf_counter() - t0)
        result["forward_rate"] = forward_rate(clf, texts, args.device)
        if args.device.startswith("cuda"):
            result["peak_device_memory_mb"] = torch.cuda.max_memory_allocated(args.device) / 2**20

        ceiling = instant_label_run(clf, path, Path(tmp) / "out.jsonl", workers)  # start-up excluded, as above
        result["host_ceiling_rate"] = ceiling["labeled"] / max(ceiling["seconds"] - result["worker_start_s"], 1e-9)

    on_device = agreement(args.model, REPO / "data" / "test.jsonl", ["torch"], args.device)["torch"]
    result["identical_labels_vs_cpu_fp32"] = on_device["identical_labels"]

    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"machine: {result['machine']}; device: {result.get('device_name', args.device)}; "
          f"{args.n} comments; batch size {clf.batch_size}; {workers} worker processes; "
          f"switch interval {result['switch_interval'] * 1e3:g} ms\n")
    print("| what | comments/s |\n|---|---|")
    print(f"| `label_file`, JSONL to JSONL, start-up excluded | {result['label_file_rate']:,.0f} |")
    print(f"| the same, with the workers' start-up ({result['worker_start_s']:.2f} s) | "
          f"{result['label_file_rate_with_start']:,.0f} |")
    print(f"| `classify(list)` | {result['classify_rate']:,.0f} |")
    print(f"| the model's forward alone (batches built beforehand) | {result['forward_rate']:,.0f} |")
    print(f"| host ceiling: `label_file` with an instant model | {result['host_ceiling_rate']:,.0f} |")
    if "peak_device_memory_mb" in result:
        print(f"\npeak device memory: {result['peak_device_memory_mb']:,.0f} MB")
    print("labels identical to the CPU fp32 reference (data/test.jsonl): " + ", ".join(
        f"{h} {v:.1%}" for h, v in result["identical_labels_vs_cpu_fp32"].items()))


if __name__ == "__main__":
    main()
