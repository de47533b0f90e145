"""Build hook: the bundled models (``models/<name>/``, the names ``commentnlp.serialization.BUNDLED_MODELS``
lists) go into the wheel as ``commentnlp/models/<name>/``, so a regular install (``pip install .``, a built
wheel) loads them by name as an editable one does. Only a model's own files travel: a model of your own
under models/, a half-written ``*.part`` or a stale build's copy do not. Everything else is configured in
``pyproject.toml``."""

import ast
import fnmatch
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
MODELS = ROOT / "models"
#: what a saved model directory holds (weights, JSON config and tokenizer, its card)
MODEL_FILES = ("*.safetensors", "*.json", "README.md", "*.txt", "*.model")


def bundled_models() -> tuple[str, ...]:
    """``BUNDLED_MODELS`` as the package defines it (read, not imported: its dependencies may be missing here)."""
    tree = ast.parse((ROOT / "src" / "commentnlp" / "serialization.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "BUNDLED_MODELS" for t in node.targets):
            return tuple(ast.literal_eval(node.value))
    raise RuntimeError("BUNDLED_MODELS not found in src/commentnlp/serialization.py")


def _not_model_files(folder: str, names: list[str]) -> set[str]:
    return {n for n in names if not (Path(folder, n).is_dir() and not n.startswith("."))
            and not any(fnmatch.fnmatch(n, pattern) for pattern in MODEL_FILES)}


class BuildWithModels(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):  # an editable install reads models/ where it is
            return
        target = Path(self.build_lib) / "commentnlp" / "models"
        shutil.rmtree(target, ignore_errors=True)  # a model removed since an earlier build must not ship
        for name in bundled_models():
            shutil.copytree(MODELS / name, target / name, ignore=_not_model_files)


setup(cmdclass={"build_py": BuildWithModels})
