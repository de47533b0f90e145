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
from typing import Any

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
    else:
        newline = "" if utf8_stdout(sys.stdout) or os.name != "nt" else None
        sys.stdout = _telling_its_errors(sys.stdout, newline)
    terminated, before = _on_sigterm_interrupt()
    try:
        try:
            app()
        except SystemExit:
            if terminated:  # said and cleaned up as an interrupt, exit as a terminated process does
                raise SystemExit(EXIT_TERMINATED) from None
            raise
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
            _let_stdout_go()
        if exc.errno == errno.EPIPE:
            sys.exit(EXIT_BROKEN_PIPE)
        typer.echo(f"error: cannot write to stdout: {exc.strerror or exc}" if on_stdout else f"error: {exc}", err=True)
        sys.exit(1)


class StdoutError(OSError):
    """Stdout cannot be written (a full disk, closed): told as such, where any other OSError is told as it is."""


class _Writes(io.RawIOBase):
    """Stdout's own writes, their errors told as :class:`StdoutError` (a broken pipe stays a BrokenPipeError)."""

    def __init__(self, raw):
        self.raw = raw

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        try:
            return self.raw.write(data)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise StdoutError(exc.errno, exc.strerror) from None

    def fileno(self) -> int:
        return self.raw.fileno()

    def isatty(self) -> bool:
        return self.raw.isatty()


def _telling_its_errors(stdout, newline: str | None):
    """``stdout`` (the process's own, a file, a pipe or a terminal) written through :class:`_Writes`, as it
    was set (``newline`` as it was); a test's or a notebook's stays as it is."""
    buffer = getattr(stdout, "buffer", None)
    unbuffered = isinstance(buffer, io.FileIO)  # PYTHONUNBUFFERED, python -u
    raw = buffer if unbuffered else getattr(buffer, "raw", None)
    if not isinstance(raw, io.FileIO) or stdout is not sys.__stdout__:
        return stdout
    writes = _Writes(raw)
    return io.TextIOWrapper(writes if unbuffered else io.BufferedWriter(writes), encoding=stdout.encoding,
                            errors=stdout.errors, newline=newline, line_buffering=stdout.line_buffering,
                            write_through=unbuffered)


def utf8_stdout(stdout) -> bool:
    """On Windows, a stdout sent to a file or a pipe is written as UTF-8 with the lines as written, as the
    files label writes are: it was the ANSI code page (an emoji: a UnicodeEncodeError), and a CSV's row
    ends became \r\r\n (a blank row after each in Excel). ``PYTHONIOENCODING`` keeps the last word."""
    if os.name == "nt" and "PYTHONIOENCODING" not in os.environ and hasattr(stdout, "reconfigure") \
            and not stdout.isatty():
        stdout.reconfigure(encoding="utf-8", errors=stdout.errors, newline="")
        return True
    return False




def _let_stdout_go() -> None:
    """Drop what stdout still buffers: Python's exit flush must not fail again (a second traceback)."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # stdout was closed: it has no descriptor
        pass
    sys.stdout = io.StringIO()


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


class _Closed(io.RawIOBase):
    """Stdout when the process started with it closed: writing it is a :class:`StdoutError`."""

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        raise StdoutError(errno.EBADF, "it is closed")



def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    """Warnings on the command line read as ``warning: ...``, without a source line."""
    return f"warning: {message}\n"
