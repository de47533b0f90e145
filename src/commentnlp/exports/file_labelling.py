"""Labelling an export file (or stdin) into an output file: :func:`label_file`, streamed and checkpointed."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from pathlib import Path
from typing import IO, Callable, Iterator

from ..userwarnings import warn
from .checkpoints import (_check_resumable, _no_link_at, _open_text_out, _read_checkpoint, _restore_part,
                          _run_identity, _write_checkpoint, output_lock)
from .csv_reading import _sniff_csv, read_csv
from .formats import (FORMATS, check_not_an_input, default_output_path, detect_format, is_device_or_pipe,
                      names_a_folder, names_a_format, names_tsv)
from .inputs import open_export, readable
from .items import Item
from .json_reading import json_documents, jsonl_lines, read_jsonl, read_text_lines
from . import labelling
from .labelling import LabelSummary, labelled_chunks
from .plurals import plural
from .text_encodings import check_encoding
from .writers import _csv_item, _CsvSink, _JsonlSink, formula_note


def _count_lines(path: Path, gz: bool) -> int | None:
    if gz:
        return None
    with path.open("rb") as f:
        return sum(buf.count(b"\n") for buf in iter(lambda: f.read(1 << 20), b""))


class _Counting:
    """A text sink that counts the characters written through it."""

    def __init__(self, out: IO[str], start: int = 0):
        self.out = out
        self.chars = start

    def write(self, s: str) -> int:
        self.chars += len(s)
        return self.out.write(s)


def _output_of(input_path: str | Path, output_path: str | Path | None, output_format: str | None, in_fmt: str,
               in_gz: bool) -> tuple[str | Path, str, bool]:
    """``(output path, format, gzipped)`` of a labelling run: the path given (``"-"``: stdout), the
    default name in the directory given (an existing one, or a name ending in ``/``, made when written),
    or the default beside the input; a ValueError when it cannot be written."""
    from_stdin = str(input_path) == "-"
    written_as = "jsonl" if in_fmt == "txt" else in_fmt  # plain text in, JSON lines out
    into = Path(output_path) if output_path is not None and names_a_folder(output_path) else None
    if output_path is None or into is not None:
        default_format = output_format or (written_as + (".gz" if in_gz else ""))
        output_path = ("-" if into is None else into / f"labeled.{default_format}") if from_stdin else \
            default_output_path(input_path if into is None else into / Path(input_path).name, default_format)
    to_stdout = str(output_path) == "-"
    on_stdout = "csv" if written_as == "xlsx" else written_as  # a workbook's rows, as CSV: stdout is a stream
    if output_format is None and (to_stdout or not names_a_format(output_path)):  # -o out, -o /dev/stdout
        output_format = on_stdout if to_stdout else written_as + (".gz" if str(output_path).lower().endswith(".gz") else "")
    out_fmt, out_gz = detect_format(None if to_stdout else output_path, output_format or "auto")
    if out_fmt not in FORMATS:
        raise ValueError(f"label writes JSONL, CSV or XLSX, not {out_fmt}: name the output .jsonl, .csv or .xlsx")
    if to_stdout and out_gz:
        raise ValueError("gzip output to stdout is not supported; pipe through gzip instead")
    if to_stdout and out_fmt == "xlsx":
        raise ValueError("an Excel workbook is not written to stdout: name the output file, e.g. -o labeled.xlsx")
    return output_path, out_fmt, out_gz


def _publish(part: Path, out: Path, then: str) -> None:
    """Rename the finished ``part`` file to ``out``, atomically: the final name only ever holds a complete
    file. On Windows, one it will not replace (open in Excel) is an OSError saying what to do ``then``."""
    try:
        os.replace(part, out)
    except PermissionError as exc:
        if os.name != "nt":
            raise
        raise OSError(f"cannot replace {out} ({exc.strerror}: open in another program, such as Excel?): "
                      f"close it, then {then}") from None


def label_file(
    input_path: str | Path,
    output_path: str | Path | None,
    classifier,
    *,
    text_field: str | None = None,
    batch_size: int | None = None,
    input_format: str = "auto",
    output_format: str | None = None,
    resume: bool = False,
    progress: Callable[[int, int | None], None] | None = None,
    workers: int | None = None,
    abstain: bool = False,
    encoding: str | None = None,
    sheet: str | None = None,
) -> LabelSummary:
    """Label an export (``"-"`` = stdin) into ``output_path`` (``"-"`` = stdout; a directory: the
    default name in it; default: beside the input, ``export.labeled.jsonl``).

    ``input_format``/``output_format`` are ``jsonl``, ``csv`` (``.gz`` for gzip) or ``xlsx``, or taken from
    the file names; the output keeps the input's format by default. With ``resume=True`` a
    run that was interrupted continues where its last checkpoint left off.
    ``progress(done, total)`` is called after each chunk.
    ``workers`` processes parse, normalise, tokenise and format while this one runs the model
    (:mod:`commentnlp.parallel`); 0 does everything here. The default, ``None``, is 0 on the
    CPU and up to 16 when the model runs on a GPU. The output is the same either way. Workers are
    spawned, so a script calling this with workers needs the usual ``if __name__ == "__main__":``.
    ``abstain``: a head whose top score is below the model's threshold is labelled ``"unsure"``.
    ``encoding``: the input's, when it is not UTF-8 (e.g. ``cp1252``, Excel's on Windows); by default
    UTF-8, or UTF-16 when the input starts with its byte-order mark. A CSV read in another encoding
    is written as UTF-8 with a byte-order mark (which Excel reads as UTF-8). An Excel workbook
    (``.xlsx``: its first sheet with a header, or the one ``sheet`` names) is labelled into a workbook
    by default; any input is, when the output is named ``.xlsx``.

    A missing input raises FileNotFoundError; an unreadable one (a directory, a corrupt or truncated
    gzip) :class:`InputError`, before any writing.
    """
    from ..backends import available_cores
    from ..parallel import auto_workers, label_chunks
    from ..spreadsheets import SheetWriter

    workers = auto_workers(classifier) if workers is None else workers
    if workers < 0:
        raise ValueError(f"workers must be >= 0, not {workers}")
    if workers > available_cores():
        warn(f"more workers ({workers}) than CPU cores ({available_cores()}): each worker is a process with "
             "its own tokenizer (tens of MB), and more of them than cores only add memory", RuntimeWarning)
    check_encoding(encoding)
    t0 = time.time()
    summary = LabelSummary()
    from_stdin = str(input_path) == "-"
    in_fmt, in_gz, raw, stream = open_export(input_path, input_format, summary.notes)
    try:
        from_xlsx = in_fmt == "xlsx"
        if sheet is not None and not from_xlsx:
            raise ValueError(f"--sheet names a sheet of an Excel workbook (.xlsx); this input is {in_fmt}")
        if encoding is not None and from_xlsx:
            raise ValueError("--encoding names a text file's encoding; a workbook (.xlsx) holds its text as Unicode")
        stream, read_as, notes, transcoded = readable(stream, in_fmt, "stdin" if from_stdin else str(input_path),
                                                      encoding=encoding, sheet=sheet, text_field=text_field,
                                                      find_table=input_format == "auto")
        summary.notes.extend(notes)
        output_path, out_fmt, out_gz = _output_of(input_path, output_path, output_format,
                                                  "xlsx" if from_xlsx else read_as, in_gz)
        check_not_an_input(output_path, [input_path], "the labelled export")
        direct = is_device_or_pipe(output_path)  # /dev/null, a FIFO: written into, no .part file
        if direct and resume:
            raise ValueError(f"--resume continues an output file; {output_path} is a device or a pipe")
        in_fmt = read_as
        if out_fmt == "xlsx" and resume:
            raise ValueError("--resume continues a JSONL or CSV output; an .xlsx is written whole at the end")
        sheet_out = SheetWriter() if out_fmt == "xlsx" else None
        to_stdout = str(output_path) == "-"
        summary.output = "-" if to_stdout else str(output_path)

        total = None if from_stdin or from_xlsx or progress is None else _count_lines(Path(input_path), in_gz)
        bom = excel_sep = False
        preamble: list[list[str]] = []  # rows of a CSV input above its header
        input_header: list[str] = []  # a CSV input's, written as the output's even when no row follows row
        if in_fmt == "txt":
            delimiter, reader = ",", read_text_lines  # type: ignore[assignment]
        elif in_fmt == "csv":
            csv_encoding, delimiter, bom, excel_sep = _sniff_csv(stream, text_field)  # a CSV output keeps them, as the input had them
            bom = bom or transcoded  # Excel reads a CSV as UTF-8 only with one

            def on_preamble(rows: list[list[str]]) -> None:  # a title above the header: kept in a CSV output
                preamble.extend(rows)
                first = next((" ".join(r) for r in rows if any(c.strip() for c in r)), "")
                are = "are" if len(rows) > 1 else "is"
                summary.notes.append(f"the header is row {len(rows) + 1}: the {plural(len(rows), 'row')} above it "
                                     f"({first[:40]!r}{', ...' if len(rows) > 1 else ''}) "
                                     + (f"{are} written back above it" if out_fmt in ("csv", "xlsx") else f"{are} not written"))

            def reader(stream: IO[bytes], on_blank: Callable[[int], None]) -> Iterator[Item]:
                return map(_csv_item, read_csv(stream, on_blank, dialect=(csv_encoding, delimiter),
                                               on_preamble=on_preamble, text_field=text_field,
                                               on_header=input_header.extend))
        else:  # with workers, JSONL lines are parsed there: this process only reads, runs the model and writes
            delimiter = ","
            reader = jsonl_lines if workers else read_jsonl  # type: ignore[assignment]
            documents, stream = json_documents(stream, text_field, encoding)  # an array, a pretty-printed record, API responses
            if documents is not None:
                items, notes = documents
                summary.notes.extend(notes)
                reader = lambda _stream, on_blank: iter(items)  # noqa: E731
                total = len(items) if progress else None  # records, not the lines the file has
        # the input's separator, or a tab for a .tsv output (a name the reader above must not see: it reads the input)
        out_delimiter = "\t" if (not to_stdout and str(output_path).lower().removesuffix(".gz").endswith(".tsv")) \
            or names_tsv(output_format) else delimiter

        def _count_blank(_line: int) -> None:
            summary.blank_lines += 1

        def run(text_out: IO[str], skip: int, columns: list[str] | None, on_chunk) -> None:
            counter = _Counting(text_out)
            sink = (_CsvSink(counter, columns, delimiter=out_delimiter, bom=bom, excel_sep=excel_sep, rows_above=preamble,
                             writer=sheet_out, input_columns=input_header) if out_fmt in ("csv", "xlsx")
                    else _JsonlSink(counter))
            items = reader(stream, on_blank=_count_blank)
            for _ in range(skip):
                if next(items, None) is None:
                    break
            done = skip
            if workers:
                chunks = label_chunks(items, classifier, workers, text_field=text_field, batch_size=batch_size,
                                      summary=summary, chunk=labelling.CHUNK, jsonl=out_fmt == "jsonl", abstain=abstain)
            else:
                chunks = ((len(records), records) for records in labelled_chunks(
                    items, classifier, text_field=text_field, batch_size=batch_size, summary=summary, chunk=labelling.CHUNK,
                    abstain=abstain))
            for n, output in chunks:
                if isinstance(output, str):
                    counter.write(output)
                else:
                    for record in output:
                        sink.write(record)
                done += n
                sink.flush()  # a checkpoint counts only what is written
                on_chunk(done, counter.chars, getattr(sink, "columns", None))
                if progress:
                    progress(done, total)
            sink.flush()
            on_chunk(done, counter.chars, getattr(sink, "columns", None))
            if progress:
                progress(done, total)
            if getattr(sink, "formulas", 0):
                summary.notes.append(formula_note(sink.formulas))

        if to_stdout:
            run(sys.stdout, 0, None, lambda *a: sys.stdout.flush())
            sys.stdout.flush()
        elif sheet_out is not None:  # a workbook is written whole, at the end: no checkpoints
            out = Path(output_path)
            out.parent.mkdir(parents=True, exist_ok=True)
            part = out.with_name(f".{out.name}.part")
            with contextlib.nullcontext() if direct else output_lock(out):
                try:
                    if not direct:
                        _no_link_at(part)
                    run(io.StringIO(), 0, None, lambda *a: None)
                except BaseException:
                    sheet_out.discard()
                    raise
                sheet_out.save(out if direct else part)
                if not direct:
                    _publish(part, out, f"the new workbook is {part}: rename it to {out.name}")
            summary.notes.extend(sheet_out.notes())
        elif direct:
            with _open_text_out(Path(output_path), out_gz, append=False) as text_out:
                run(text_out, 0, None, lambda *a: text_out.flush())
        else:
            out = Path(output_path)
            out.parent.mkdir(parents=True, exist_ok=True)
            part = out.with_name(f".{out.name}.part")
            with output_lock(out):  # before a resume reads the part file, or a fresh run truncates it
                _no_link_at(part)
                checkpoint = _read_checkpoint(part) if resume else None
                identity = _run_identity(input_path, classifier, text_field, abstain, encoding, sheet)
                skip, base_chars, columns = 0, 0, None
                if checkpoint:
                    _check_resumable(checkpoint, identity, part)
                    _restore_part(part, out_gz, checkpoint["chars"])
                    skip, base_chars, columns = checkpoint["records"], checkpoint["chars"], checkpoint.get("columns")
                    summary.resumed = skip
                    with contextlib.suppress(KeyError, TypeError, ValueError):  # a checkpoint of an earlier version has none
                        summary.restore(checkpoint["counts"])
                with _open_text_out(part, out_gz, append=bool(checkpoint), part=True) as text_out:
                    def on_chunk(done: int, chars: int, cols: list[str] | None) -> None:
                        text_out.flush()
                        _write_checkpoint(part, done, base_chars + chars, cols, identity, summary.counts())

                    run(text_out, skip, columns, on_chunk)
                _publish(part, out, f"run the same command with --resume to finish: the labels are in {part.name}")
                part.with_name(part.name + ".json").unlink(missing_ok=True)
        if encoding is None and any(reason.startswith("invalid UTF-8") for reason in summary.reasons):
            summary.notes.append("the input is not all UTF-8: if it was saved in another encoding, name it with "
                                 "--encoding (e.g. cp1252, Excel's on Windows, or latin-1), and these records are read")
    finally:
        raw.close()
    summary.total += summary.resumed
    summary.seconds = time.time() - t0
    return summary
