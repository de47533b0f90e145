"""The shared typer app, error handling and small helpers of the command line."""

from __future__ import annotations

import functools
import inspect
import itertools
import json
import os
import re
import sys
from contextlib import contextmanager
from typing import Callable, Iterator, NoReturn, TypeVar

import typer

app = typer.Typer(
    name="commentnlp",
    help="Label comments on brand posts (style, intent, sentiment, troll) and suggest what to do.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

F = TypeVar("F", bound=Callable)


def _print_version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"commentnlp {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                        help="Print the version and exit.")) -> None:
    pass  # options of the command line as a whole; its help is the app's


def command(name: str, **kwargs) -> Callable[[F], F]:
    """``app.command(name)`` with the docstring as help, each paragraph on one line.

    Typer's rich help keeps a docstring's line breaks inside a paragraph and wraps the lines again
    at the terminal's width, which leaves ragged half-lines; unwrapped, the terminal wraps them once.
    """
    def register(func: F) -> F:
        paragraphs = inspect.cleandoc(func.__doc__ or "").split("\n\n")
        return app.command(name, help="\n\n".join(" ".join(p.split("\n")) for p in paragraphs), **kwargs)(func)
    return register


#: Exit codes (documented in README.md)
EXIT_OK = 0
EXIT_ERROR = 1  # fatal: missing input, unreadable model, unwritable output, bad config
EXIT_USAGE = 2  # wrong options (typer/click)
EXIT_BROKEN_PIPE = 141  # stdout's reader stopped early (| head): 128 + SIGPIPE, as a Unix tool ends

#: ``--backend``'s help, the same for every command that loads a model.
BACKEND_HELP = ("auto (onnx-cascade on CPU, torch on a GPU), exact (the model's own labels: onnx on CPU, torch on "
                "a GPU), onnx (fp32), onnx-int8 (fastest, a few labels differ), onnx-cascade (int8, close calls "
                "again in fp32) or torch.")
#: ``--batch-size``'s help; the figures are ``classifier.DEFAULT_BATCH_SIZE`` and ``GPU_BATCH_SIZE``
#: (not imported here: the command line starts without loading the inference code).
BATCH_SIZE_HELP = "Comments per batch (default: 32 on the CPU, 1024 on a GPU; larger is no faster on a CPU, only bigger)."


def quiet_logging(ctx: typer.Context) -> None:
    """``--quiet``: the library's INFO lines (a one-time graph build) are not printed either, until the command ends."""
    import logging

    logger = logging.getLogger("commentnlp")
    ctx.call_on_close(functools.partial(logger.setLevel, logger.level))
    logger.setLevel(logging.WARNING)


@contextmanager
def quiet_broken_pipe() -> Iterator[None]:
    """Output to a stdout whose reader stopped early (``| head``) ends quietly with 141, as a Unix
    tool does, instead of an error message."""
    try:
        yield
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's exit flush must not fail again
        raise typer.Exit(EXIT_BROKEN_PIPE) from None


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    """Print one clear error line to stderr (red on a terminal, unless ``NO_COLOR`` or ``TERM=dumb``) and exit."""
    plain = bool(os.environ.get("NO_COLOR")) or os.environ.get("TERM") == "dumb"  # no-color.org
    if plain:
        typer.echo(f"error: {message}", err=True)
    else:
        typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def load_classifier(model: str | None, device: str = "auto", playbook: str | None = None, backend: str = "auto"):
    """Load a model for a command, turning load problems into one clear error line."""
    from ..playbook import PlaybookError
    from ..serialization import ModelLoadError

    from ..classifier import BACKENDS, Classifier

    if not re.fullmatch(r"auto|cpu|cuda(:\d+)?", device):  # wrong usage: exit code 2
        fail(f"--device must be auto, cpu or cuda[:N], not {device!r}", 2)
    if backend not in BACKENDS:
        fail(f"--backend must be one of {', '.join(BACKENDS)}, not {backend!r}", 2)
    try:
        return Classifier.load(model, device=device, playbook=playbook, backend=backend)
    except (ModelLoadError, PlaybookError, ValueError) as exc:
        fail(str(exc))


def parse_overrides(args: list[str]) -> dict[str, str]:
    """``["--training.epochs", "3", "--data.train=x.jsonl"]`` -> ``{"training.epochs": "3", ...}``."""
    out: dict[str, str] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--") or "." not in arg:
            fail(f"unexpected argument {arg!r} (overrides look like --section.key value)", 2)
        key = arg[2:]
        if "=" in key:
            key, value = key.split("=", 1)
        elif i + 1 < len(args) and not args[i + 1].startswith("--"):
            i += 1
            value = args[i]
            more = list(itertools.takewhile(lambda a: not a.startswith("--"), args[i + 1:]))
            if more and key.startswith("data.") and all(os.path.exists(v) for v in (value, *more)):
                fail(_several_values(key, [value, *more]), 2)  # --data.train data/*.csv unquoted: the shell's files
        else:
            value = "true"
        key = key.replace("-", "_")
        if key in out:  # the last one won, silently: --data.train a.jsonl --data.train b.jsonl trained on b alone
            fail(f"--{key} is given twice ({out[key]!r}, then {value!r}); give it once (several values as a TOML "
                 f"list: --{key} '[\"a.jsonl\", \"b.jsonl\"]')", 2)
        out[key] = value
        i += 1
    return out


def _several_values(key: str, values: list[str]) -> str:
    """The error for several values after one ``--section.key``: what the shell makes of an unquoted glob."""
    shown = ", ".join(repr(v) for v in values[:3]) + (f" and {len(values) - 3} more" if len(values) > 3 else "")
    prefix = os.path.commonprefix(values)
    suffix = os.path.commonprefix([v[len(prefix):][::-1] for v in values])[::-1]
    folders = {os.path.dirname(v) for v in values}
    same_folder = len(folders) == 1 and prefix.startswith(next(iter(folders)))
    quote = f"quote the pattern (--{key} '{prefix}*{suffix}')" if same_folder else "quote a pattern that matches them"
    listed = "[" + ", ".join([json.dumps(v) for v in values[:4]] + ["..."] * (len(values) > 4)) + "]"
    return (f"--{key} is followed by {len(values)} values ({shown}): several files after one --section.key are what "
            f"the shell makes of an unquoted glob; {quote}, or give a TOML list (--{key} '{listed}')")


def expand_patterns(inputs: list[str]) -> list[str]:
    """Inputs as a Unix shell gives them: a name that is no file but a pattern (``exports/*.csv``, as
    cmd.exe and PowerShell pass it on) becomes the files it matches, sorted; one that matches none stays
    as it is (and is not found)."""
    from ..data import matches_of

    return [found for name in inputs for found in (matches_of(name) if name != "-" else []) or [name]]


def shell_quote(arg: str) -> str:
    """``arg`` quoted for the user's shell in a hint to paste: POSIX quotes (``'Hit Sentence'``), or on
    Windows double quotes (cmd.exe and PowerShell split ``'Hit Sentence'`` in two)."""
    if os.name == "nt":
        import subprocess

        return subprocess.list2cmdline([arg])
    import shlex

    return shlex.quote(arg)


def is_terminal() -> bool:
    return sys.stderr.isatty()
