"""The ``commentnlp`` command line: a thin typer layer over the Python API.

One module per command (``label``, ``classify``, ``train``, ``evaluate``, ``find-threshold``, ``report``, ``info``),
sharing the app in ``_util``.
"""

from __future__ import annotations

import errno
import logging
import signal
import sys
import threading
import warnings
from typing import Any

import typer

from . import classify, evaluate, find_threshold, info, label, report, train  # noqa: F401  (register commands)
from ._stdout import StdoutError, let_stdout_go, stdout_telling_its_errors
from ._util import EXIT_BROKEN_PIPE, app

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
    sys.stdout = stdout_telling_its_errors()
    terminated, before = _on_sigterm_interrupt()
    try:
        try:
            app()
        except SystemExit as done:
            if terminated:  # said and cleaned up as an interrupt, exit as a terminated process does
                done = SystemExit(EXIT_TERMINATED)
            if done.code not in (0, None):  # the command failed and said why: what stdout still holds may go
                try:
                    sys.stdout.flush()
                except OSError:  # the failure was stdout's: one error line, not a second
                    let_stdout_go()
            raise done from None
        finally:
            if before is not None:  # main() called in a process of its own (a notebook, a test): as it was
                signal.signal(signal.SIGTERM, before)
            sys.stdout.flush()  # here, not in Python's exit: a full disk is then one error line
    except MemoryError:  # a traceback, where every other failure is one line
        typer.echo("error: out of memory (an input line or record of many MB, as a gzip bomb holds, is read whole; "
                   "split the export, or give the process more memory)", err=True)
        sys.exit(1)
    except OSError as exc:  # uncaught where it happened: writing stdout (> /dev/full, >&-), or another
        on_stdout = isinstance(exc, (StdoutError, BrokenPipeError))
        if on_stdout:
            let_stdout_go()
        if exc.errno == errno.EPIPE:
            sys.exit(EXIT_BROKEN_PIPE)
        typer.echo(f"error: cannot write to stdout: {exc.strerror or exc}" if on_stdout else f"error: {exc}", err=True)
        sys.exit(1)


#: The exit code of a run stopped by SIGTERM (128 + 15), as the shell reports a process it ended.
EXIT_TERMINATED = 143


def _on_sigterm_interrupt() -> tuple[list[bool], Any]:
    """Make SIGTERM (``timeout``, ``kill``, cron, systemd) an interrupt, as Ctrl-C is: the run says so, leaves
    its part file resumable and cleans up (a fallback graph cache of ~110 MB was left in /tmp each time).
    Returns a list that holds True once it came, and the handler it replaced (None: none replaced)."""
    came: list[bool] = []

    def interrupt(signum, frame) -> None:
        came.append(True)
        raise KeyboardInterrupt

    if hasattr(signal, "SIGTERM") and threading.current_thread() is threading.main_thread():
        return came, signal.signal(signal.SIGTERM, interrupt)
    return came, None


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    """Warnings on the command line read as ``warning: ...``, without a source line."""
    return f"warning: {message}\n"
