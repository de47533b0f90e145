"""Spark benchmark: `commentnlp.spark.label_files` vs the single-process path, on the same comments.

    python benchmarks/bench_spark.py [--n 100000] [--master local[2]] [--sample K] [--model DIR] [--backend B] [--json]

In one run it builds an --n row Parquet file of comments (and the same rows as JSONL),
cycled from the project's own data (data/*.jsonl), and prints:
* comments/s of the single-process path (`commentnlp.exports.label_file` on the JSONL, one
  process, ONNX Runtime on all cores; model load excluded);
* comments/s of `label_files` on Spark (`--master`, Parquet in, Parquet out), with the
  SparkSession already up, and with its start-up included;
* how many Python workers, model loads and Arrow batches the Spark run used;
* label agreement of the Spark output and of the single-process path with `classify()` on
  the same texts (all --n rows by default; `--sample K` for the first K). The fp32 graph
  (`--backend exact` or `onnx`) is batch-independent, so every row must be identical: the script
  exits 1 otherwise (the default, onnx-cascade, keeps int8's answer where it is not a close
  call, and int8's answers move a little with their batch-mates; see README).
The CPU may be shared with other jobs: the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from _common import machine, texts_from_data

from commentnlp.schema import HEAD_NAMES


def agreement(a: list[tuple], b: list[tuple]) -> dict:
    n = len(a)
    out = {"all_heads": round(sum(x == y for x, y in zip(a, b)) / n, 4)}
    for k, head in enumerate(HEAD_NAMES):
        out[head] = round(sum(x[k] == y[k] for x, y in zip(a, b)) / n, 4)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--sample", type=int, default=0, help="compare the first K rows with classify() (0 = all)")
    ap.add_argument("--model", default=None, help="model directory (default: the bundled model)")
    ap.add_argument("--backend", default="auto", help="as Classifier.load: auto (onnx-cascade), exact, onnx, onnx-int8")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    import pandas as pd

    from commentnlp.backends import build_onnx
    from commentnlp.classifier import Classifier
    from commentnlp.exports import label_file
    from commentnlp.serialization import default_model_path

    model_dir = Path(args.model) if args.model else default_model_path()
    texts = texts_from_data(args.n)
    r: dict = {"machine": machine(), "n": args.n,
               "master": args.master, "load_avg_start": [round(x, 2) for x in os.getloadavg()]}
    build_onnx(model_dir)  # one-time graph build, not timed

    with tempfile.TemporaryDirectory(prefix="bench-spark-") as tmp:
        tmp = Path(tmp)
        frame = pd.DataFrame({"id": range(args.n), "text": texts,
                              "platform": [("facebook", "instagram", "tiktok")[i % 3] for i in range(args.n)]})
        frame.to_parquet(tmp / "comments.parquet", index=False)
        with open(tmp / "comments.jsonl", "w", encoding="utf-8") as f:
            for row in frame.itertuples(index=False):
                f.write(json.dumps({"id": row.id, "text": row.text, "platform": row.platform}) + "\n")

        # -- single process: the `commentnlp label` path -------------------------------------------
        clf = Classifier.load(model_dir, backend=args.backend)
        clf.predict(texts[:256])
        t, cpu = time.time(), time.process_time()
        summary = label_file(tmp / "comments.jsonl", tmp / "single.jsonl", clf)
        single_s, single_cpu = time.time() - t, time.process_time() - cpu
        r["backend"] = clf.backend_name
        r["single_process"] = {"seconds": round(single_s, 1), "rate": round(summary.total / single_s, 1),
                               "cpu_seconds": round(single_cpu, 1)}
        single = [json.loads(l) for l in open(tmp / "single.jsonl", encoding="utf-8")]
        single_labels = [tuple(x["labels"][h] for h in HEAD_NAMES) for x in single]

        # -- Spark ---------------------------------------------------------------------------------
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        from pyspark.sql import SparkSession

        from commentnlp.spark import label_files, worker_log_summary

        t = time.time()
        spark = (SparkSession.builder.master(args.master).appName("commentnlp-bench")
                 .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
                 .config("spark.log.level", "ERROR").getOrCreate())
        startup_s = time.time() - t
        result = label_files(tmp / "comments.parquet", tmp / "spark-out", model=model_dir, spark=spark,
                             backend=args.backend, worker_log_dir=tmp / "worker-log")
        workers = worker_log_summary(tmp / "worker-log")
        r["spark"] = {"seconds": result["seconds"], "rate": round(result["rows"] / result["seconds"], 1),
                      "startup_s": round(startup_s, 1),
                      "rate_with_startup": round(result["rows"] / (result["seconds"] + startup_s), 1),
                      "partitions": result["partitions"], "rows": result["rows"], "labeled": result["labeled"],
                      "python_workers": workers["workers"], "model_loads": workers["loads"],
                      "max_loads_per_worker": workers["max_model_loads"], "arrow_batches": workers["batches"],
                      "worker_cpu_seconds": workers["cpu_seconds"]}
        out = pd.read_parquet(tmp / "spark-out").sort_values("id")
        spark_labels = [tuple(x) for x in out[list(HEAD_NAMES)].itertuples(index=False)]

        # -- agreement with classify() ----------------------------------------------------------
        k = min(args.sample or args.n, args.n)
        reference = [tuple(p.labels[h] for h in HEAD_NAMES) for p in clf.predict(texts[:k])]
        r["agreement"] = {"n": k, "spark_vs_classify": agreement(spark_labels[:k], reference),
                          "single_process_vs_classify": agreement(single_labels[:k], reference),
                          "spark_vs_single_process_all": agreement(spark_labels, single_labels)}
        r["identical_to_classify"] = sum(a == b for a, b in zip(spark_labels[:k], reference))
        spark.stop()
    r["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]

    if args.json:
        print(json.dumps(r, indent=2))
    else:
        s, p = r["spark"], r["single_process"]
        print(f"machine: {r['machine']}; backend: {r['backend']}; {args.n:,} comments; load average "
              f"{r['load_avg_start']} at start, {r['load_avg_end']} at end (CPU shared with other jobs)\n")
        print("| path | comments/s | wall s | CPU s |\n|---|---|---|---|")
        print(f"| single process: `exports.label_file` (JSONL -> JSONL, 1 process) | {p['rate']:,.0f} | "
              f"{p['seconds']} | {p['cpu_seconds']} (the process) |")
        print(f"| Spark `label_files` {args.master} (Parquet -> Parquet, session up) | {s['rate']:,.0f} | "
              f"{s['seconds']} | {s['worker_cpu_seconds']} (Python workers, labelling function) |")
        print(f"| Spark, session start-up ({s['startup_s']} s) included | {s['rate_with_startup']:,.0f} | "
              f"{round(s['seconds'] + s['startup_s'], 1)} | |")
        print(f"\nSpark: {s['partitions']} partitions, {s['python_workers']} Python workers, {s['model_loads']} model "
              f"loads (at most {s['max_loads_per_worker']} per worker), {s['arrow_batches']} Arrow batches; "
              f"{s['labeled']:,} of {s['rows']:,} rows labelled")
        a = r["agreement"]
        print(f"\nidentical label sets (all 4 heads) on {k:,} rows:")
        print(f"  Spark vs classify():                 {a['spark_vs_classify']}")
        print(f"  single process vs classify():        {a['single_process_vs_classify']}")
        print(f"  Spark vs single process, all rows:   {a['spark_vs_single_process_all']}")
    if r["backend"] == "onnx" and r["identical_to_classify"] != k:
        sys.exit(f"MISMATCH: {k - r['identical_to_classify']} of {k} rows differ from classify() on the fp32 graph")

if __name__ == "__main__":
    main()
