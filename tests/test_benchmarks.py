"""The host-side benchmark runs end to end (tiny sizes), so its README figures can be re-measured."""

import json
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
