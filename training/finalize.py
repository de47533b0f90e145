"""Re-calibrate and re-evaluate a saved model on the data splits recorded in its config.

    python training/finalize.py models/commentnlp-minilm [--baselines]
    python training/finalize.py models/commentnlp-minilm --training-texts-only

Fits per-head temperatures, abstain and decision thresholds on the dev split (through the
default inference path), evaluates dev, test and the evaluation files, and rewrites
config.json and the model card. With --baselines it also fits the baselines on the model's
training data and records their figures on the first evaluation file beside the model's.
It also (re)writes training_texts.safetensors, the hashes of the train and dev texts that
`commentnlp evaluate` recognises; --training-texts-only writes only that file, for a model saved
without it. Run from the repository root (recorded paths are relative).
"""

from pathlib import Path

import typer

from commentnlp.trainer import add_baselines, record_training_texts, refinalize

app = typer.Typer(add_completion=False)


@app.command()
def main(
    model_dir: Path = typer.Argument(..., exists=True, file_okay=False, help="Saved model directory."),
    baselines: bool = typer.Option(False, "--baselines", help="Also fit and record the baselines."),
    training_texts_only: bool = typer.Option(False, "--training-texts-only",
                                             help="Only write the hashes of the model's train and dev texts."),
) -> None:
    """Re-calibrate, re-evaluate and (with --baselines) re-baseline a saved model."""
    if training_texts_only:
        print(record_training_texts(model_dir))
        return
    refinalize(model_dir)
    if baselines:
        add_baselines(model_dir)


if __name__ == "__main__":
    app()
