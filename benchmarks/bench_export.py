"""Nothing lost at scale: label a large export salted with bad records and check every one came back.

    python benchmarks/bench_export.py                      # 100,000 lines (about 4 minutes on 2 cores)
    python benchmarks/bench_export.py --n 10000 --n 100000 # peak memory at two sizes: constant?

Writes an export where about one line in 50 is bad (not JSON, no text, null / empty / numeric
text, invalid UTF-8, a JSON array, binary garbage, a 1 MB comment, a BOM on line 1; plus a few blank lines, which
hold no record and are skipped and counted), runs the
real `commentnlp label` CLI on it in a fresh process, and checks: one output record per input
record, in input order (by `id`), every bad line carries an `error` naming its line and reason,
every good one carries labels, scores and an action. Prints a table with the rate and the peak
RSS of the labelling process (VmHWM).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import PEAK_RSS_SOURCE, texts_from_data

BAD = [
    ("not JSON", lambda i: b'{"id": %d, "text": "unterminated' % i),
    ("no text field", lambda i: json.dumps({"id": i, "author": "x"}).encode()),
    ("null text", lambda i: json.dumps({"id": i, "text": None}).encode()),
    ("empty text", lambda i: json.dumps({"id": i, "text": "   "}).encode()),
    ("numeric text", lambda i: json.dumps({"id": i, "text": 12345}).encode()),
    ("invalid UTF-8", lambda i: b'{"id": %d, "text": "caf\xe9 \xff\xfe"}' % i),
    ("JSON array", lambda i: json.dumps([i, "where can i buy this"]).encode()),
    ("binary garbage", lambda i: _garbage(random.Random(i))),
]


def _garbage(rng: random.Random, n: int = 200) -> bytes:
    """Random bytes with no newline that do not form a blank line."""
    return b"\x00" + bytes(rng.choice([b for b in range(1, 256) if b != 10]) for _ in range(n))


def write_export(path: Path, n: int, texts: list[str], bad_every: int = 50,
                 blank_every: int = 5000) -> tuple[dict[int, tuple[str, int]], int]:
    """Write ``n`` records (and some blank lines between them).

    Returns ``({record index: (kind, file line)} of the bad records, number of blank lines)``.
    """
    rng = random.Random(7)
    bad: dict[int, tuple[str, int]] = {}
    line_no = blanks = 0
    with open(path, "wb") as f:
        for i in range(n):
            if i and i % blank_every == 0:
                f.write(b"  \t \r\n")
                line_no, blanks = line_no + 1, blanks + 1
            line_no += 1
            if i == 0:
                f.write(b"\xef\xbb\xbf" + json.dumps({"id": 0, "text": "BOM first line, where is it sold"}).encode() + b"\n")
            elif i == n // 2:  # a 1 MB comment: kept and labelled (truncated for the model, never dropped)
                f.write(json.dumps({"id": i, "text": "so good " * 131_072}).encode() + b"\n")
            elif i % bad_every == 0:
                kind, make = BAD[rng.randrange(len(BAD))]
                bad[i] = (kind, line_no)
                f.write(make(i) + b"\n")
            else:
                f.write(json.dumps({"id": i, "text": texts[i % len(texts)], "likes": i % 17}).encode() + b"\n")
    return bad, blanks


def run_label(path: Path, out: Path) -> dict:
    """Run the CLI in a fresh process; returns its exit code, wall time and peak RSS."""
    code = PEAK_RSS_SOURCE + (
        "import sys\n"
        "from commentnlp.cli import app\n"
        f"sys.argv = ['commentnlp', 'label', {str(path)!r}, '-o', {str(out)!r}, '--quiet']\n"
        "try:\n    app()\n"
        "finally:\n"
        "    print('PEAK_RSS_MB', peak_rss_mb(), file=sys.stderr)\n"
    )
    t = time.time()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    seconds = time.time() - t
    rss = [l for l in proc.stderr.splitlines() if l.startswith("PEAK_RSS_MB")]
    return {"rc": proc.returncode, "seconds": seconds, "stderr": proc.stderr[-1500:],
            "peak_rss_mb": float(rss[-1].split()[1]) if rss else float("nan")}


def check(out: Path, n: int, bad: dict[int, tuple[str, int]]) -> dict:
    """Verify count, order and explanations; raises AssertionError on the first violation."""
    rows = [json.loads(l) for l in open(out, encoding="utf-8")]
    assert len(rows) == n, f"{len(rows)} output records for {n} input records"
    for i, row in enumerate(rows):
        if i in bad:
            kind, line_no = bad[i]
            assert "error" in row and "labels" not in row, f"record {i} ({kind}): {row}"
            assert f"line {line_no}" in row["error"], f"error does not name line {line_no}: {row['error']}"
        else:
            assert "labels" in row and "scores" in row and "action" in row, f"record {i} unlabelled: {row}"
            assert row.get("id") == i, f"record {i} out of order: id {row.get('id')}"
    return {"records": len(rows), "bad": len(bad), "explained": len(bad)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, action="append", help="export size(s); default 100,000")
    args = ap.parse_args()
    texts = texts_from_data()
    print("| records in | bad records | blank lines | records out | bad explained | in order | "
          "comments/s (incl. start-up) | peak RSS |")
    print("|---|---|---|---|---|---|---|---|")
    for n in args.n or [100_000]:
        with tempfile.TemporaryDirectory() as tmp:
            path, out = Path(tmp) / "export.jsonl", Path(tmp) / "export.labeled.jsonl"
            bad, blanks = write_export(path, n, texts)
            run = run_label(path, out)
            if run["rc"] != 0:
                sys.exit(f"commentnlp label failed (exit {run['rc']}):\n{run['stderr']}")
            res = check(out, n, bad)
            print(f"| {n:,} | {res['bad']:,} | {blanks} | {res['records']:,} | {res['explained']:,} | yes | "
                  f"{n / run['seconds']:.0f} | {run['peak_rss_mb']:.0f} MB |", flush=True)


if __name__ == "__main__":
    main()
