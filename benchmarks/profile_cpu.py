"""Where `commentnlp label` spends its time on a CPU: per stage, then per ONNX Runtime operator.

    python benchmarks/profile_cpu.py [--n 10000] [--model DIR or NAME] [--backend auto] [--json]

1. Labels a JSONL export of --n comments (the project's data, cycled) with `label_file` in this
   process, as `commentnlp label` does on a CPU, and times each stage by wrapping the classifier's
   methods: normalise + tokenise (`encode`), length-sorted batching, the first graph (int8 for
   `onnx-cascade`), close calls, the fp32 re-run of the close calls, predictions (calibration,
   decisions, actions); what is left is reading, parsing and writing JSON.
2. Runs each ONNX graph of that backend over the same comments in the same batches, as the backend
   runs them (the int8 graph's batches side by side, one core each), with ONNX Runtime's profiler,
   and prints its kernel time per operator type, the share spent in matrix products, and the rate
   the graph would reach if only its matrix products took time.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _common import machine, texts_from_data, write_export

from commentnlp import Classifier
from commentnlp.backends import OnnxBackend, onnx_session, session_options
from commentnlp.exports import label_file

#: operator types that are (mostly) matrix products; QAttention/Attention also do the softmax
MATRIX_PRODUCTS = {"MatMul", "FusedMatMul", "Gemm", "MatMulInteger", "MatMulIntegerToFloat",
                   "DynamicQuantizeMatMul", "Attention", "QAttention"}

STAGES = {"encode": "normalise + tokenise", "batches_for_ids": "sort + pad batches", "backend": "first graph",
          "close_calls": "find close calls", "recheck": "fp32 re-run of close calls",
          "predictions": "calibrate, decide, actions"}


def time_stages(clf: Classifier, path: Path) -> dict:
    """Label ``path`` with ``clf`` (no workers): seconds per stage, total, and comments."""
    spent: dict[str, float] = defaultdict(float)

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - t
        return wrapper

    own = {name: clf.__dict__[name] for name in STAGES if name in clf.__dict__}  # backend, recheck
    mapped = []  # backends that run several batches at once (``map``): those calls are timed
    for name in STAGES:
        fn = getattr(clf, name)
        if hasattr(fn, "map"):
            fn.map = timed(name, fn.map)
            mapped.append(fn)
        elif fn is not None:
            setattr(clf, name, timed(name, fn))
    t = time.perf_counter()
    try:
        summary = label_file(path, path.with_suffix(".out.jsonl"), clf)
    finally:
        for name in STAGES:
            clf.__dict__.pop(name, None)
        clf.__dict__.update(own)
        for backend in mapped:
            del backend.map
    total = time.perf_counter() - t
    return {"n": summary.total, "total_s": total, "stages_s": dict(spent),
            "rest_s": total - sum(spent.values())}


def profile_graph(backend: OnnxBackend, batches) -> dict:
    """Kernel seconds per operator type of one graph over ``batches``, run alone as ``backend`` runs
    them: one at a time on all its cores, or side by side, one core each (the int8 graph). Kernel
    time then adds up over ``cores``."""
    cores = backend.threads if backend.side_by_side else 1
    options = session_options(1 if backend.side_by_side else backend.threads)
    options.enable_profiling = True
    with tempfile.TemporaryDirectory() as tmp:
        options.profile_file_prefix = str(Path(tmp) / "ort")
        session = onnx_session(backend.path, options)
        names = [o.name for o in session.get_outputs()]
        t = time.perf_counter()
        with ThreadPoolExecutor(cores) as pool:
            list(pool.map(lambda batch: session.run(names, {"input_ids": batch[1], "attention_mask": batch[2]}),
                          batches))
        wall = time.perf_counter() - t
        events = json.loads(Path(session.end_profiling()).read_text())
    by_op: Counter = Counter()
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            by_op[e["args"]["op_name"]] += e["dur"] / 1e6
    return {"graph": backend.path.name, "cores": cores, "wall_s": wall, "kernel_s": sum(by_op.values()),
            "ops_s": dict(by_op.most_common())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--model", default=None, help="model directory or bundled model name (default: the default model)")
    ap.add_argument("--backend", default="auto", help="an ONNX backend: auto (onnx-cascade on a CPU), onnx-int8, exact")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    clf = Classifier.load(args.model, backend=args.backend, device="cpu")
    graphs = [b for b in (clf.backend, clf.recheck) if b is not None and hasattr(b, "session")]
    if not graphs:
        raise SystemExit(f"--backend {args.backend} runs no ONNX graph here")
    texts = texts_from_data(args.n)
    clf.predict(texts[:256])  # warm up
    with tempfile.TemporaryDirectory() as tmp:
        stages = time_stages(clf, write_export(Path(tmp) / "export.jsonl", texts))
    batches = clf.batches_for_ids(clf.encode(texts))
    graph_runs = [profile_graph(b, batches) for b in graphs]
    result = {"machine": machine(), "backend": clf.backend_name, "label": stages, "graphs": graph_runs}
    if args.json:
        print(json.dumps(result, indent=2))
        return

    n, total = stages["n"], stages["total_s"]
    print(f"machine: {result['machine']}; backend: {result['backend']}; {n} comments\n")
    print(f"`label` in one process: {n / total:,.0f} comments/s\n")
    print("| stage | ms per 1,000 comments | share |\n|---|---|---|")
    rows = [(STAGES[k], v) for k, v in stages["stages_s"].items()] + [("read, parse, write JSON; the rest", stages["rest_s"])]
    for label, seconds in rows:
        print(f"| {label} | {seconds / n * 1e6:,.0f} | {seconds / total:.0%} |")
    for run in graph_runs:
        kernel = run["kernel_s"]
        products = sum(s for op, s in run["ops_s"].items() if op in MATRIX_PRODUCTS)
        side = f", {run['cores']} batches side by side" if run["cores"] > 1 else ""
        print(f"\n{run['graph']} alone, all {n} comments in the same batches{side}: {n / run['wall_s']:,.0f} "
              f"comments/s; kernels {kernel:.2f} core-s, of which matrix products {products / kernel:.0%} "
              f"(those alone: {n * run['cores'] / products:,.0f} comments/s)\n")
        print("| operator | s | share |\n|---|---|---|")
        for op, seconds in list(run["ops_s"].items())[:10]:
            print(f"| {op} | {seconds:.2f} | {seconds / kernel:.0%} |")


if __name__ == "__main__":
    main()
