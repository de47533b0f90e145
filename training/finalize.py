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
from typing import Optional

import typer

from commentnlp.data import read_labeled
from commentnlp.serialization import ModelLoadError, read_config
from commentnlp.trainer import add_baselines, baselines_data, record_training_texts, refinalize

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.command()
def main(
    model_dir: Path = typer.Argument(..., exists=True, file_okay=False, help="Saved model directory."),
    baselines: bool = typer.Option(False, "--baselines", help="Also fit and record the baselines."),
    baselines_file: Optional[str] = typer.Option(None, "--baselines-data", help="Labelled records to evaluate the "
                                                 "baselines on (default: the model's first [data] evaluate file)."),
    training_texts_only: bool = typer.Option(False, "--training-texts-only",
                                             help="Only write the hashes of the model's train and dev texts."),
) -> None:
    """Re-calibrate, re-evaluate and (with --baselines) re-baseline a saved model."""
    try:
        if training_texts_only:
            print(record_training_texts(model_dir))
            return
        if baselines:  # before the model is finalised again: a missing file is told at once
            baselines_file = baselines_file or baselines_data(read_config(model_dir), model_dir)
            read_labeled(baselines_file)
        refinalize(model_dir)
        if baselines:
            add_baselines(model_dir, baselines_file)
    except (ValueError, ModelLoadError, OSError) as exc:  # DataError and ConfigError are ValueErrors
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
