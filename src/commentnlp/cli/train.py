"""``commentnlp train``: train a model from a TOML config (same code path as training/train.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from ._util import command, fail, parse_overrides


@command("train", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def train_cli(
    ctx: typer.Context,
    config: Optional[Path] = typer.Argument(None, help="TOML config, e.g. training/configs/default.toml. Without one: the shipped model's settings, on the labelled data --data.train names."),
    output: str = typer.Option(None, "--output", "-o", help="Model directory (overrides training.output_dir)."),
) -> None:
    """Train a model; override any setting with --section.key value (e.g. --training.epochs 3).

    On your own labelled data, with the shipped model's settings:
    commentnlp train --data.train my_labels.csv -o models/mine
    """
    from ..data import DataError
    from ..exports import names_a_format
    from ..serialization import ModelLoadError
    from ..trainer import train
    from ..training_args import ConfigError, TrainingConfig

    args = list(ctx.args)
    if config is not None and str(config).startswith("-"):  # an override where the config belongs: typer took it for one
        args.insert(0, str(config))
        config = None
        if any(arg.lower().endswith(".toml") for arg in args):
            fail(f"the TOML config comes first, then the overrides: commentnlp train CONFIG [--section.key value ...], "
                 f"e.g. commentnlp train training/configs/default.toml --training.epochs 3 (got {args[0]!r} first)", 2)
    if config is not None and names_a_format(config, readable=True):  # was: "train.csv is not valid TOML"
        fail(f"{config} is labelled data, not a TOML config: commentnlp train --data.train {config} -o models/mine", 2)
    overrides = parse_overrides(args)
    if config is None and "data.train" not in overrides:
        fail("give a TOML config, or the labelled data to train on: e.g. commentnlp train --data.train "
             "my_labels.csv -o models/mine", 2)
    if output:
        if "training.output_dir" in overrides:
            fail(f"two output directories: -o {output} and --training.output_dir "
                 f"{overrides['training.output_dir']}; give one", 2)
        overrides["training.output_dir"] = json.dumps(output)
    try:
        cfg = TrainingConfig.from_toml(config, overrides)
        result = train(cfg)
    except (ConfigError, DataError, ModelLoadError, FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    except OSError as exc:  # a data file that is a directory (the file it names); a disk that filled up while saving
        fail(f"{exc.filename}: {exc.strerror or exc}" if exc.filename else
             f"cannot save the model to {cfg.training.output_dir}: {exc.strerror or exc}")
    typer.echo(json.dumps({"output_dir": result["output_dir"], "best_epoch": result["best_epoch"],
                           "seconds": result["seconds"]}))
