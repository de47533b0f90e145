"""Formats and paths: the format a file name says, the default output path, and checks on the paths given."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Iterable


#: Formats read and written (a ``.gz`` suffix adds gzip compression to JSONL and CSV); ``xlsx``, an
#: Excel workbook: one sheet read, as CSV is, and written as a sheet of the rows a CSV output holds.
FORMATS = ("jsonl", "csv", "xlsx")
#: Formats read but not written: ``txt``, plain text with one comment per line (labelled as JSONL).
INPUT_FORMATS = (*FORMATS, "txt")


#: File name endings read and written as CSV (a ``.tsv`` output is tab-separated).
_CSV_SUFFIXES = (".csv", ".tsv")
_JSON_SUFFIXES = (".jsonl", ".ndjson", ".json", ".jsonlines", ".ldjson")
#: File name endings of formats that are neither JSONL nor CSV, and what to do instead.
_OTHER_FORMATS = {".parquet": "--engine spark reads and writes Parquet",
                  ".xls": "an Excel 97-2003 workbook: save it as .xlsx or CSV", ".avro": "convert it to JSONL or Parquet",
                  ".orc": "convert it to JSONL or Parquet",
                  **dict.fromkeys((".zip", ".tar", ".7z", ".rar"), "an archive: unpack it and label the file inside "
                                  "(a JSONL or CSV output may end in .gz to be compressed)"),
                  **dict.fromkeys((".bz2", ".xz", ".zst"), "compressed otherwise than gzip: decompress it, or use .gz")}


#: Other names of the formats: tsv is CSV (tab-separated when written), json and ndjson are JSON lines
_FORMAT_ALIASES = {"tsv": "csv", "json": "jsonl", "ndjson": "jsonl"}


def names_tsv(output_format: str | None) -> bool:
    """Whether a format given by name is ``tsv`` (``.gz`` or not): CSV written with tabs."""
    return (output_format or "").strip().lower().removesuffix(".gz") == "tsv"


def detect_format(path: str | Path | None, given: str = "auto") -> tuple[str, bool]:
    """``(format, gzipped)`` from an explicit format or the file name (``x.csv.gz`` -> csv, gzip;
    ``.tsv`` is CSV, whose separator is read from the header; ``.txt`` is plain text, one comment per
    line, and ``.xlsx`` an Excel workbook, both read only; other names are JSONL, except those of
    formats that are none of these, e.g. ``.parquet`` or ``.xls``: a ValueError that says what to do)."""
    name = "" if path is None or str(path) == "-" else str(path).lower()
    gz = name.endswith(".gz")
    if given != "auto":
        given = given.strip().lower()  # --format CSV, --output-format tsv
        fmt = given[:-3] if given.endswith(".gz") else given
        fmt = _FORMAT_ALIASES.get(fmt, fmt)
        gz = gz or given.endswith(".gz")
    else:
        base = name[:-3] if gz else name
        other = next((hint for ext, hint in _OTHER_FORMATS.items() if base.endswith(ext)), None)
        if other is not None:  # writing JSON lines under that name would make a file nothing opens
            raise ValueError(f"{path}: not a format label reads or writes (JSONL or CSV, optionally .gz); {other}")
        fmt = ("csv" if base.endswith(_CSV_SUFFIXES) else "txt" if base.endswith(".txt") else
               "xlsx" if base.endswith(".xlsx") else "jsonl")
    if fmt not in INPUT_FORMATS:
        raise ValueError(f"unknown format {given!r}; use one of {', '.join(INPUT_FORMATS)} (optionally .gz)")
    if fmt == "xlsx" and gz:
        raise ValueError(f"{path or given}: an Excel workbook is compressed already (it is a zip archive): no .gz")
    return fmt, gz


def names_a_format(path: str | Path, readable: bool = False) -> bool:
    """Whether a file name's extension names a format (``.csv``, ``.jsonl``, ``.json``, ``.xlsx``, ...;
    ``.gz`` aside): one commentnlp reads, or (unless ``readable``) one it refuses with what to do
    (``.parquet``, ``.xls``)."""
    name = str(path).lower().removesuffix(".gz")
    return name.endswith((*_CSV_SUFFIXES, *_JSON_SUFFIXES, ".txt", ".xlsx", *(() if readable else _OTHER_FORMATS)))


def names_a_folder(output: str | Path) -> bool:
    """Whether an output names a folder to write into: one that is, or a name ending in a slash (``labeled/``,
    made when written)."""
    return str(output).endswith(("/", os.sep)) or Path(output).is_dir()


def default_output_path(input_path: str | Path, output_format: str | None = None) -> Path:
    """``export.jsonl`` -> ``export.labeled.jsonl``; ``a.csv.gz`` -> ``a.labeled.csv.gz`` (beside the input)."""
    p = Path(input_path)
    name = p.name
    gz = name.lower().endswith(".gz")
    stem = name[:-3] if gz else name
    base, dot, ext = stem.rpartition(".")
    if not dot:
        base, ext = stem, "jsonl"
    if output_format:
        fmt, gz = detect_format(None, output_format)
        if names_tsv(output_format):  # tab-separated: named so, and written so
            ext = "tsv"
        try:  # the input's own extension if it names that format (.tsv, .ndjson), not one it does not (.dat)
            same = names_a_format(f"x.{ext}", readable=True) and detect_format(f"x.{ext}")[0] == fmt
        except ValueError:
            same = False
        if not same:
            ext = fmt
    return p.with_name(f"{base}.labeled.{ext}" + (".gz" if gz else ""))


def distinct_files(paths: Iterable[str]) -> list[str]:
    """``paths`` without a file named again (``a.jsonl``, ``./a.jsonl``), in their order."""
    seen: dict[str, str] = {}
    for path in paths:
        seen.setdefault(path if path == "-" else os.path.realpath(path), path)
    return list(seen.values())


def is_device_or_pipe(path: str | Path) -> bool:
    """Whether ``path`` names a device or a named pipe (``/dev/null``, a FIFO): an output written
    straight into, never replaced by a finished file (which, run as root, replaced /dev/null)."""
    if str(path).startswith(("/dev/", "/proc/")) and os.path.islink(path):  # /dev/stdout: never replaced, whatever
        return True  # it points at (a regular file under /dev/shm is a file)
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def check_not_an_input(output: str | Path, inputs: Iterable[str | Path], writes: str) -> None:
    """A ValueError when the output file ``output`` is one of ``inputs`` (it would be replaced)."""
    if str(output) == "-" or not os.path.isfile(output):
        return
    for source in inputs:
        if str(source) != "-" and os.path.isfile(source) and os.path.samefile(source, output):
            raise ValueError(f"the output {output} is the input {source}: {writes} would replace it; name another output")
