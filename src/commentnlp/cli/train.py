"""``commentnlp train``: train a model from a TOML config (same code path as training/train.py)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ._util import command, fail, parse_overrides


@command("train", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def train_cli(
    ctx: typer.Context,
    config: Path = typer.Argument(..., help="TOML config, e.g. training/configs/default.toml."),
    output: str = typer.Option(None, "--output", "-o", help="Model directory (overrides training.output_dir)."),
) -> None:
    """Train a model; override any setting with --section.key value (e.g. --training.epochs 3)."""
    from ..data import DataError
    from ..serialization import ModelLoadError
    from ..trainer import train
    from ..training_args import ConfigError, TrainingConfig

    if str(config).startswith("-"):  # an override or option where the config belongs: typer took it for one
        fail(f"the TOML config comes first, then the overrides: commentnlp train CONFIG [--section.key value ...], "
             f"e.g. commentnlp train training/configs/default.toml --training.epochs 3 (got {str(config)!r} first)", 2)
    overrides = parse_overrides(list(ctx.args))
    if output:
        overrides["training.output_dir"] = json.dumps(output)
    try:
        cfg = TrainingConfig.from_toml(config, overrides)
        result = train(cfg)
    except (ConfigError, DataError, ModelLoadError, FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    typer.echo(json.dumps({"output_dir": result["output_dir"], "best_epoch": result["best_epoch"],
                           "seconds": result["seconds"]}))
