"""The host-side benchmark runs end to end (tiny sizes), so its README figures can be re-measured."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_pipeline_benchmark_reports_a_ceiling_and_every_stage():
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_pipeline.py"), "--n", "300",
                          "--repeats", "1", "--json"], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout)
    assert result["n"] == 300 and result["label_rate_instant_model"] > 0
    assert list(result["stage_seconds"]) == ["read JSON lines", "normalize", "tokenize", "sort and pad batches",
                                             "scores to predictions", "write JSON lines"]
    assert all(s > 0 for s in result["stage_seconds"].values())
    assert [r["workers"] for r in result["workers"]] == [0, 2]
    with_workers = result["workers"][1]
    # at 300 comments the per-comment CPU figures are mostly start-up noise: only check they are there
    assert with_workers["rate"] > 0 and with_workers["workers_start_cpu_s"] > 0
    assert {"main_cpu_us", "workers_cpu_us"} <= set(with_workers)


def test_pipeline_benchmark_checks_the_overlap_with_a_stand_in_device():
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_pipeline.py"), "--n", "300", "--repeats", "1",
                          "--workers", "1", "--device-rate", "50000", "--launches", "0", "20",
                          "--switch-interval", "0.005", "0.001", "--json"],
                         capture_output=True, text=True, timeout=300, cwd=REPO)
    assert run.returncode == 0, run.stderr[-2000:]
    overlap = json.loads(run.stdout)["overlap"]
    assert [(r["switch_interval"], r["device_rate"], r["launches"]) for r in overlap] == [
        (0.005, 50000, 0), (0.005, 50000, 20), (0.001, 50000, 0), (0.001, 50000, 20)]
    for r in overlap:
        assert r["perfect_overlap"] == min(r["device_alone"], r["host_ceiling"])
        assert 0 < r["one_after_the_other"] < r["perfect_overlap"] and r["label_rate"] > 0


def test_gpu_benchmark_runs_on_the_cpu_too():
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_gpu.py"), "--device", "cpu", "--n", "200",
                          "--workers", "1", "--switch-interval", "0.001", "--json"],
                         capture_output=True, text=True, timeout=600, cwd=REPO)
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout)
    assert result["switch_interval"] == 0.001
    rates = ("label_file_rate", "classify_rate", "forward_rate", "host_ceiling_rate")
    assert all(result[k] > 0 for k in rates) and result["workers"] == 1
    assert result["host_ceiling_rate"] > result["label_file_rate"]  # the instant model costs nothing
    # the same PyTorch fp32 model on the same device: every label identical
    assert result["identical_labels_vs_cpu_fp32"] == {"style": 1.0, "intent": 1.0, "sentiment": 1.0, "troll": 1.0}


def test_cpu_profile_times_every_stage_and_operator():
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "profile_cpu.py"), "--n", "300", "--json"],
                         capture_output=True, text=True, timeout=300, cwd=REPO)
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout)
    assert result["backend"] == "onnx-cascade" and result["label"]["n"] == 300
    stages = result["label"]["stages_s"]
    assert {"encode", "batches_for_ids", "backend", "close_calls", "predictions"} <= set(stages)
    assert all(s > 0 for s in stages.values()) and sum(stages.values()) < result["label"]["total_s"]
    # the cascade's two graphs, int8 first; the fused graphs' time is mostly in their matrix products
    graphs = result["graphs"]
    assert [g["graph"].split(".")[1] for g in graphs] == ["int8", "fp32"]
    assert "QAttention" in graphs[0]["ops_s"] and "Attention" in graphs[1]["ops_s"]
    assert [g["cores"] for g in graphs] == [os.cpu_count(), 1]  # int8 batches side by side, one core each
    assert all(0 < g["kernel_s"] <= g["wall_s"] * g["cores"] * 1.05 for g in graphs)


def _student_cascade(*args: str) -> dict:
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "student_cascade.py"), "--data",
                          str(REPO / "data" / "test.jsonl"), "--json", *args],
                         capture_output=True, text=True, timeout=300, cwd=REPO)
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout)[str(REPO / "data" / "test.jsonl")]


def test_student_cascade_sends_more_on_and_agrees_more_as_the_margin_grows():
    result = _student_cascade("--margins", "0", "0.5", "100")
    assert result["n"] == sum(1 for _ in open(REPO / "data" / "test.jsonl", encoding="utf-8"))
    zero, half, everything = result["margins"]
    assert zero["sent_on"] == 0 and zero["same"] == result["student_alone"]
    assert 0 < half["sent_on"] < 1 and everything["sent_on"] == 1
    assert all(zero["same"][h] <= half["same"][h] <= everything["same"][h] == 1 for h in zero["same"])
    assert min(result["student_alone"].values()) < 1  # the 3-layer model is another model

