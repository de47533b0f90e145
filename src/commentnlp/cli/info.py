"""``commentnlp info``: this installation, or a saved model (as ``spacy info``)."""

from __future__ import annotations

import json
from typing import Optional

import typer

from ._util import command, fail


@command("info")
def info_cli(
    model_arg: Optional[str] = typer.Argument(None, metavar="MODEL", help="A model directory or a bundled model's name: describe that model instead (as --model)."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="A model directory or a bundled model's name, as the other commands take it: describe that model instead."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Print versions, bundled models and the graph cache, or a model's labels, settings and figures.

    Reads package metadata and the model's config.json only: no weights are loaded.
    """
    from ..info import format_model_info, format_system_info, model_info, system_info
    from ..serialization import ModelLoadError

    if model_arg is not None and model is not None and model_arg != model:
        fail(f"two models: {model_arg} and --model {model}; give one", 2)
    model = model_arg if model_arg is not None else model
    try:
        info = model_info(model) if model is not None else system_info()
    except ModelLoadError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(info, indent=2, ensure_ascii=False))
    else:
        typer.echo(format_model_info(info) if model is not None else format_system_info(info))
