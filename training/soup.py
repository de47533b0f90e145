"""Average saved LoRA models of the same recipe into one model (a "model soup").

    python training/soup.py models/soup models/commentnlp-minilm /tmp/runs/other [...]

The soup's encoder change is the mean of the models' LoRA updates, stored exactly as one
LoRA adapter of rank sum(r) (the models' A matrices stacked, their B matrices side by side,
each scaled by 1/n), and its heads are the mean of theirs. It costs one model's inference,
not n. The models must share base encoder, depth, LoRA targets and heads. The soup is then
re-calibrated and evaluated like a trained model (``trainer.refinalize``, as
``training/finalize.py`` does) on the data splits recorded by the first model. Run from the repository root.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import typer

from commentnlp.serialization import (ADAPTER_NAME, HEADS_NAME, TOKENIZER_FILE, ModelConfig, read_config,
                                      share_tensor_files, write_config)

app = typer.Typer(add_completion=False)


def _recipe(config: ModelConfig) -> tuple:
    """What models must share to be averaged."""
    return (config.finetuning, config.base_model, config.num_layers, config.heads,
            (config.lora or {}).get("target_modules"), config.preprocessing_version)


def soup(output: Path, models: list[Path]) -> None:
    """Write the average of ``models`` (saved LoRA models) to ``output``, uncalibrated."""
    from safetensors.numpy import load_file, save_file

    configs = [read_config(m) for m in models]
    first = configs[0]
    for m, c in zip(models, configs):
        if c.finetuning != "lora" or _recipe(c) != _recipe(first):
            raise typer.BadParameter(f"{m} is not a LoRA model of the same base, depth, targets and heads as {models[0]}")
    n = len(models)
    rank = sum(c.lora["r"] for c in configs)
    scale = first.lora["alpha"] / first.lora["r"]  # the soup's alpha / r
    adapters = [load_file(str(m / ADAPTER_NAME)) for m in models]
    merged = {}
    for key in adapters[0]:
        if ".lora_A." in key:
            merged[key] = np.concatenate([a[key] for a in adapters], axis=0)
        elif ".lora_B." in key:
            merged[key] = np.concatenate([a[key] * (c.lora["alpha"] / c.lora["r"]) / (n * scale)
                                          for a, c in zip(adapters, configs)], axis=1)
        else:
            raise typer.BadParameter(f"unexpected adapter tensor {key}")
    heads = [load_file(str(m / HEADS_NAME)) for m in models]
    output.mkdir(parents=True, exist_ok=True)
    save_file({k: v.astype(np.float32) for k, v in merged.items()}, str(output / ADAPTER_NAME))
    save_file({k: np.mean([h[k] for h in heads], axis=0).astype(np.float32) for k in heads[0]}, str(output / HEADS_NAME))
    share_tensor_files(output)
    for name in (TOKENIZER_FILE, "tokenizer_config.json"):
        shutil.copy(models[0] / name, output / name)
    first.lora = {**first.lora, "r": rank, "alpha": scale * rank}
    first.training = {**first.training, "soup_of": [str(m) for m in models]}
    first.temperatures, first.thresholds, first.decision_thresholds, first.metrics = {}, {}, {}, {}
    write_config(output, first)


@app.command()
def main(output: Path = typer.Argument(..., help="Directory of the soup."),
         models: list[Path] = typer.Argument(..., help="Saved LoRA models to average (two or more).")) -> None:
    """Average saved LoRA models, then re-calibrate and evaluate the soup."""
    from commentnlp.trainer import refinalize

    if len(models) < 2:
        raise typer.BadParameter("give two or more models")
    soup(output, models)
    refinalize(output)


if __name__ == "__main__":
    app()
