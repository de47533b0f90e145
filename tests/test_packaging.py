"""The built wheel carries the bundled models, so a regular install loads them by name; nothing else
under models/ travels with it."""

import re
import shutil
import subprocess
import sys
import tarfile
import zipfile

from commentnlp.serialization import BUNDLED_MODELS

from conftest import REPO

#: what a build reads from the repository
BUILD_INPUTS = ("setup.py", "pyproject.toml", "MANIFEST.in", "README.md", "LICENSE", "src", "models", "tests")


def _copy_of_the_repository(dest):
    """The build's inputs as git tracks them (no caches, no build/ of an earlier run)."""
    tracked = subprocess.run(["git", "ls-files", "-z", *BUILD_INPUTS], cwd=REPO, capture_output=True, check=True)
    for name in filter(None, tracked.stdout.decode().split("\0")):
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, dest / name)
    return dest


def test_the_wheel_holds_the_bundled_models_and_the_license(tmp_path):
    """`pip install .` (not -e) installed no model: every classify() failed with 'bundled model not found'.
    Then every folder under models/ with a config.json shipped, whole: a model of one's own
    (`train -o models/mine`), a 20 MB `*.part`, and from a stale build/ a model deleted since."""
    src = _copy_of_the_repository(tmp_path / "repo")
    shutil.copytree(src / "models" / BUNDLED_MODELS[-1], src / "models" / "mine")
    (src / "models" / BUNDLED_MODELS[0] / "adapter.safetensors.part").write_bytes(b"\0" * 1024)
    stale = src / "build" / "lib" / "commentnlp" / "models" / "deleted"
    stale.mkdir(parents=True)
    (stale / "config.json").write_text("{}")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path)], check=True, capture_output=True, cwd=tmp_path)
    (wheel,) = tmp_path.glob("commentnlp-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for model in BUNDLED_MODELS:
        files = {p.name for p in (REPO / "models" / model).iterdir() if p.is_file()}
        assert {"config.json", "heads.safetensors", "tokenizer.json"} <= files
        assert {f"commentnlp/models/{model}/{name}" for name in files} == \
               {n for n in names if n.startswith(f"commentnlp/models/{model}/")}
    assert {n.split("/")[2] for n in names if n.startswith("commentnlp/models/")} == set(BUNDLED_MODELS)
    assert "commentnlp/resources/default_playbook.toml" in names
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)

    # the source distribution: the bundled models, no other, and no tests it cannot run (conftest, data/)
    subprocess.run([sys.executable, "-c", f"from setuptools import build_meta; build_meta.build_sdist({str(tmp_path)!r})"],
                   check=True, capture_output=True, cwd=src)
    (sdist,) = tmp_path.glob("commentnlp-*.tar.gz")
    members = [m.split("/", 1)[1] for m in tarfile.open(sdist).getnames() if "/" in m]
    assert {m.split("/")[1] for m in members if m.startswith("models/") and m.count("/") > 1} == set(BUNDLED_MODELS)
    assert not any(m.startswith("tests/") or m.endswith(".part") for m in members)


def test_the_source_distribution_names_the_bundled_models():
    """MANIFEST.in grafts each bundled model by name: the list must follow BUNDLED_MODELS."""
    grafted = re.findall(r"^graft models/(\S+)$", (REPO / "MANIFEST.in").read_text(), re.MULTILINE)
    assert tuple(grafted) == BUNDLED_MODELS
