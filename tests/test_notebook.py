"""The error-analysis notebook runs headless against the shipped model (so it cannot rot)."""

import sys
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.mark.slow
def test_error_analysis_notebook_executes(tmp_path):
    sys.path.insert(0, str(NOTEBOOKS))
    try:
        import make_error_analysis
    finally:
        sys.path.pop(0)
    nb = make_error_analysis.execute(make_error_analysis.build(), NOTEBOOKS)
    text = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "intent: macro-F1" in text and "gold=" in text
    assert "best threshold on" in text and "style errors, text only" in text  # the gaps section ran
    saved = (NOTEBOOKS / "error_analysis.ipynb").read_text(encoding="utf-8")
    assert '"outputs": [\n' in saved and "confusion" in saved.lower()
