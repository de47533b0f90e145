"""Re-calibrate and re-evaluate a saved model on the data splits recorded in its config.

    python training/finalize.py models/commentnlp-minilm [--baselines]

Fits per-head temperatures, abstain and decision thresholds on the dev split (through the
default inference path), evaluates dev, test and the evaluation files, and rewrites
config.json and the model card. With --baselines it also fits the baselines on the model's
training data and records their figures on the first evaluation file beside the model's.
Run from the repository root (recorded paths are relative).
"""

from pathlib import Path

import typer

from commentnlp.trainer import add_baselines, refinalize

app = typer.Typer(add_completion=False)


@app.command()
def main(
    model_dir: Path = typer.Argument(..., exists=True, file_okay=False, help="Saved model directory."),
    baselines: bool = typer.Option(False, "--baselines", help="Also fit and record the baselines."),
) -> None:
    """Re-calibrate, re-evaluate and (with --baselines) re-baseline a saved model."""
    refinalize(model_dir)
    if baselines:
        add_baselines(model_dir)


if __name__ == "__main__":
    app()
