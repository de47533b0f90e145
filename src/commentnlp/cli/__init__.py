"""The ``commentnlp`` command line: a thin typer layer over the Python API.

One module per command (``label``, ``classify``, ``train``, ``evaluate``, ``find-threshold``, ``report``, ``info``),
sharing the app in ``_util``.
"""

from __future__ import annotations

import logging
import sys
import warnings

import typer

from . import classify, evaluate, find_threshold, info, label, report, train  # noqa: F401  (register commands)
from ._util import app

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``commentnlp`` script."""
    warnings.formatwarning = _one_line_warning
    handler = logging.StreamHandler()  # the library's INFO lines (a one-time graph build) on stderr
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("commentnlp")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # once: a dependency may give the root logger a handler of its own
    try:
        app()
    except MemoryError:  # a traceback, where every other failure is one line
        typer.echo("error: out of memory (an input line or record of many MB, as a gzip bomb holds, is read whole; "
                   "split the export, or give the process more memory)", err=True)
        sys.exit(1)


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    """Warnings on the command line read as ``warning: ...``, without a source line."""
    return f"warning: {message}\n"
