"""The built wheel carries the bundled models, so a regular install loads them by name."""

import subprocess
import sys
import zipfile

from commentnlp.serialization import BUNDLED_MODELS

from conftest import REPO


def test_the_wheel_holds_the_bundled_models_and_the_license(tmp_path):
    """`pip install .` (not -e) installed no model: every classify() failed with 'bundled model not found'."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path)], check=True, capture_output=True, cwd=tmp_path)
    (wheel,) = tmp_path.glob("commentnlp-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for model in BUNDLED_MODELS:
        files = {p.name for p in (REPO / "models" / model).iterdir() if p.is_file()}
        assert {"config.json", "heads.safetensors", "tokenizer.json"} <= files
        assert {f"commentnlp/models/{model}/{name}" for name in files} <= names
    assert "commentnlp/resources/default_playbook.toml" in names
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
