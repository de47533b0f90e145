"""The ``commentnlp`` command line: a thin typer layer over the Python API.

One module per command (``label``, ``classify``, ``train``, ``evaluate``, ``find-threshold``, ``report``, ``info``),
sharing the app in ``_util``.
"""

from __future__ import annotations

import errno
import io
import logging
import os
import signal
import sys
import threading
import warnings

import typer

from . import classify, evaluate, find_threshold, info, label, report, train  # noqa: F401  (register commands)
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
    if sys.stdout is None:  # started with stdout closed (>&-): what goes there must fail, not vanish
        sys.stdout = io.TextIOWrapper(_Closed(), encoding="utf-8")
    elif not sys.stdout.isatty() and hasattr(sys.stdout, "reconfigure"):
        # what goes to a file or a pipe is UTF-8 with the lines as written, as in the files label writes: on
        # Windows a redirected stdout was the ANSI code page (an emoji: UnicodeEncodeError) turning a CSV's
        # row ends into \r\r\n (a blank row after each in Excel)
        sys.stdout.reconfigure(encoding="utf-8", newline="")
    terminated = _on_sigterm_interrupt()
    try:
        try:
            app()
        except SystemExit:
            if terminated:  # said and cleaned up as an interrupt, exit as a terminated process does
                raise SystemExit(EXIT_TERMINATED) from None
            raise
        finally:
            sys.stdout.flush()  # here, not in Python's exit: a full disk is then one error line
    except MemoryError:  # a traceback, where every other failure is one line
        typer.echo("error: out of memory (an input line or record of many MB, as a gzip bomb holds, is read whole; "
                   "split the export, or give the process more memory)", err=True)
        sys.exit(1)
    except OSError as exc:  # writing stdout: a full disk (> /dev/full), stdout closed; other causes are told in place
        _let_stdout_go()
        if exc.errno == errno.EPIPE:
            sys.exit(EXIT_BROKEN_PIPE)
        typer.echo(f"error: cannot write to stdout: {exc.strerror or exc}", err=True)
        sys.exit(1)


def _let_stdout_go() -> None:
    """Drop what stdout still buffers: Python's exit flush must not fail again (a second traceback)."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # stdout was closed: it has no descriptor
        pass
    sys.stdout = io.StringIO()


#: The exit code of a run stopped by SIGTERM (128 + 15), as the shell reports a process it ended.
EXIT_TERMINATED = 143


def _on_sigterm_interrupt() -> list[bool]:
    """Make SIGTERM (``timeout``, ``kill``, cron, systemd) an interrupt, as Ctrl-C is: the run says so, leaves
    its part file resumable and cleans up (a fallback graph cache of ~110 MB was left in /tmp each time).
    Returns a list that holds True once it came."""
    came: list[bool] = []

    def interrupt(signum, frame) -> None:
        came.append(True)
        raise KeyboardInterrupt

    if hasattr(signal, "SIGTERM") and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)
    return came


class _Closed(io.RawIOBase):
    """Stdout when the process started with it closed: writing it is an OSError."""

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        raise OSError(errno.EBADF, "it is closed")



def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    """Warnings on the command line read as ``warning: ...``, without a source line."""
    return f"warning: {message}\n"
