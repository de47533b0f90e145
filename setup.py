"""Build hook: the bundled models (``models/<name>/``) go into the wheel as
``commentnlp/models/<name>/``, so a regular install (``pip install .``, a built wheel) loads them by
name as an editable one does. Everything else is configured in ``pyproject.toml``."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

MODELS = Path(__file__).resolve().parent / "models"


class BuildWithModels(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):  # an editable install reads models/ where it is
            return
        target = Path(self.build_lib) / "commentnlp" / "models"
        for model in sorted(p for p in MODELS.iterdir() if (p / "config.json").is_file()):
            shutil.rmtree(target / model.name, ignore_errors=True)
            shutil.copytree(model, target / model.name)


setup(cmdclass={"build_py": BuildWithModels})
