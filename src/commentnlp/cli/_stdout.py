"""The command line's stdout: written as set (UTF-8 on Windows when redirected), its own write errors told
apart from any other OSError, and a closed one failing rather than losing what goes there."""

from __future__ import annotations

import errno
import io
import os
import sys


def stdout_telling_its_errors():
    """The stdout the commands write: the process's own, written through :class:`_Writes`, as it was set
    (reconfigured by :func:`utf8_stdout`); one that was closed (``>&-``) fails; a test's or a notebook's
    stays as it is."""
    if sys.stdout is None:  # started with stdout closed (>&-): what goes there must fail, not vanish
        return io.TextIOWrapper(_Closed(), encoding="utf-8")
    newline = "" if utf8_stdout(sys.stdout) or os.name != "nt" else None
    return _telling_its_errors(sys.stdout, newline)


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


def let_stdout_go() -> None:
    """Drop what stdout still buffers: Python's exit flush must not fail again (a second traceback)."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # stdout was closed: it has no descriptor
        pass
    sys.stdout = io.StringIO()


class _Closed(io.RawIOBase):
    """Stdout when the process started with it closed: writing it is a :class:`StdoutError`."""

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        raise StdoutError(errno.EBADF, "it is closed")
