"""Shared by the benchmarks: the comments they run on, the machine they name, and how a child process reports its memory."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: Source of ``peak_rss_mb()`` for the fresh processes the benchmarks start. VmHWM belongs to the
#: process image; ru_maxrss would also count the parent's RSS at fork.
PEAK_RSS_SOURCE = '''
def peak_rss_mb():
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
'''


def texts_from_data(n: int | None = None) -> list[str]:
    """The project's own comments (data/{train,dev,test}.jsonl), cycled to ``n`` texts."""
    texts = [json.loads(line)["text"] for split in ("train", "dev", "test")
             for line in open(REPO / "data" / f"{split}.jsonl", encoding="utf-8")]
    return texts if n is None else [texts[i % len(texts)] for i in range(n)]


def write_export(path: Path, texts: list[str]) -> Path:
    """Write ``texts`` as a JSON-lines export (``{"id", "text"}`` per line), as CMs' exports look."""
    with path.open("w", encoding="utf-8") as f:
        f.writelines(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in enumerate(texts))
    return path


def machine() -> str:
    """CPU model and core count: rates differ several-fold between CPUs (int8 kernels above all)."""
    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{name}, {os.cpu_count()} cores"
