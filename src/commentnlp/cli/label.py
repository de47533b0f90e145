"""``commentnlp label``: label a comment export."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List, Optional

import typer

from ._util import (BACKEND_HELP, BATCH_SIZE_HELP, command, expand_patterns, fail, is_terminal, load_classifier,
                    quiet_broken_pipe, quiet_logging, shell_quote)


@command("label")
def label_cli(
    ctx: typer.Context,
    inputs: List[str] = typer.Argument(..., metavar="INPUT", help="Exports of comments: JSONL, CSV or an Excel workbook (.xlsx), optionally .gz ('-' for stdin); several are labelled one after the other."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Output file ('-' for stdout), or a directory to write <input>.labeled.<ext> in. Default: <input>.labeled.<ext> beside the input."),
    input_format: str = typer.Option("auto", "--format", "-f", help="Input format: auto (from the extension; stdin: from its first bytes), jsonl, csv, txt (one comment per line), xlsx, jsonl.gz, csv.gz, txt.gz."),
    output_format: Optional[str] = typer.Option(None, "--output-format", help="Output format: jsonl, csv, tsv, xlsx, jsonl.gz, csv.gz, tsv.gz (default: from the output's name, else the input's; JSON lines for txt)."),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted run from its last checkpoint."),
    abstain: bool = typer.Option(False, "--abstain", help="Label a head 'unsure' when its top score is below the model's threshold (to review by hand)."),
    engine: str = typer.Option("local", "--engine", help="local (one process, the default) or spark (Parquet/JSON files or directories; needs pyspark)."),
    master: str = typer.Option("local[*]", "--master", help="Spark master (with --engine spark)."),
    partitions: Optional[int] = typer.Option(None, "--partitions", min=1, help="Spark partitions (with --engine spark)."),
    text_field: Optional[str] = typer.Option(None, "--text-field", "-t", help="Field holding the comment text (a.b.c: a field of nested objects). Default: first of text, message, comment, body, content, comment_text, full_text, tweet_text, text_original, question (in any case: Message, commentText)."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model directory, or a bundled model's name (commentnlp-minilm-l3: faster). Default: the bundled commentnlp-minilm."),
    playbook: Optional[str] = typer.Option(None, "--playbook", help="TOML playbook with your own actions and links."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", "-b", min=1, help=BATCH_SIZE_HELP),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda[:N]."),
    backend: str = typer.Option("auto", "--backend", help=BACKEND_HELP),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", min=0, help="Processes that parse, tokenise and format while the model runs (default: 0 on the CPU; with a GPU all cores but two, up to 16)."),
    sheet: Optional[str] = typer.Option(None, "--sheet", help="The sheet of an Excel workbook (.xlsx) to label. Default: the first whose header names the text field (else the first)."),
    encoding: Optional[str] = typer.Option(None, "--encoding", "-e", help="The input's encoding when it is not UTF-8, e.g. cp1252 (Excel's on Windows) or latin-1. Default: UTF-8, or UTF-16 when the file starts with its byte-order mark."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
) -> None:
    """Add labels, scores and a suggested action to every record of an export.

    Every input record is written back in order. Records that cannot be labelled
    (bad JSON, invalid UTF-8, missing or empty text) carry an 'error' field with the
    line number and reason, and are counted in the summary. The output file appears
    only when complete; an interrupted run continues with --resume.

    Exit codes: 0 done, 1 fatal error, 2 usage, 130 interrupted (143 by SIGTERM), 141 stdout closed early (| head).
    """
    from ..exports import FORMATS, check_encoding, check_input_file

    if quiet:
        quiet_logging(ctx)
    inputs, output = _inputs_to_label(expand_patterns(inputs), output, engine)
    if text_field is not None and not text_field.strip():
        fail("--text-field is empty; name the field that holds the comment text, e.g. --text-field message", 2)
    if engine == "spark" and encoding is not None:
        fail("--encoding reads JSONL, CSV and text exports; Spark reads Parquet and JSON as UTF-8", 2)
    if engine == "spark":  # options of the local engine only: refused, not ignored (--abstain gave no "unsure")
        local_only = [name for name, given in (("--abstain", abstain), ("--resume", resume), ("--workers", workers is not None),
                                               ("--sheet", sheet is not None), ("--format", input_format != "auto"),
                                               ("--device", device != "auto")) if given]
        if local_only:
            fail(f"{', '.join(local_only)}: not with --engine spark (it reads Parquet or JSON, on the CPU)", 2)
        if output_format not in (None, "parquet", "json"):
            fail(f"--engine spark writes parquet or json, not {output_format!r}", 2)
        _label_with_spark(inputs[0], output, text_field, model, batch_size, output_format, master, partitions, quiet,
                          backend=backend, playbook=playbook)
        return
    if engine != "local":
        fail(f"--engine must be 'local' or 'spark', not {engine!r}", 2)
    spark_only = [name for name, given in (("--master", master != "local[*]"), ("--partitions", partitions is not None))
                  if given]
    if spark_only:  # refused, not ignored, as the local engine's options are with Spark
        fail(f"{', '.join(spark_only)}: only with --engine spark", 2)
    try:  # wrong values are wrong usage (exit code 2), told before the model loads (Spark reads other formats)
        if input_format != "auto" and _format_or_none(input_format) is None:
            raise ValueError(f"--format: label reads jsonl, csv (tsv), txt or xlsx (optionally .gz), not {input_format!r}")
        if output_format is not None and _format_or_none(output_format) not in FORMATS:  # txt is read, not written
            raise ValueError(f"--output-format: label writes jsonl, csv, tsv or xlsx (optionally .gz), not {output_format!r}")
        check_encoding(encoding)
    except ValueError as exc:
        fail(str(exc), 2)
    unreadable: dict[str, str] = {}  # told before the model loads; with several inputs, the others go on
    for input in inputs:
        try:
            check_input_file(input)
        except (OSError, ValueError) as exc:
            error = f"{exc}" + (" (--engine spark reads a directory of Parquet/JSON parts)" if Path(input).is_dir() else "")
            if len(inputs) == 1:
                fail(error)
            unreadable[input] = error
    if unreadable and len(unreadable) == len(inputs):
        for error in unreadable.values():
            typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1)
    clf = load_classifier(model, device, playbook, backend=backend)
    show = not quiet and is_terminal() and output != "-"
    options = dict(text_field=text_field, batch_size=batch_size, input_format=input_format,
                   output_format=output_format, resume=resume, workers=workers, abstain=abstain,
                   encoding=encoding, sheet=sheet)
    totals = [0, 0, 0]  # records, labeled, with errors
    failed: list[str] = []  # inputs that could not be labelled at all (several: the others go on)
    for input in inputs:
        summary, error = (None, unreadable[input]) if input in unreadable else _label_one(input, output, clf, options, show)
        if error is not None:
            if len(inputs) == 1:
                fail(error)
            typer.echo(f"error: {error}" if input in error else f"error: {input}: {error}", err=True)
            failed.append(input)
            continue
        totals = [t + n for t, n in zip(totals, (summary.total, summary.labeled, summary.errors))]
        if not quiet:
            _print_summary(summary, input)
    if len(inputs) > 1:
        if not quiet:
            typer.echo(f"{len(inputs) - len(failed)} files, {totals[0]} records: {totals[1]} labeled, "
                       f"{totals[2]} with errors" + (f"; {len(failed)} not labelled: {', '.join(failed)}" if failed else ""),
                       err=True)
        if failed:
            raise typer.Exit(1)


def _format_or_none(given: str) -> str | None:
    """The format ``given`` names (``tsv``: csv), or None for a name that is none."""
    from ..exports import detect_format

    try:
        return detect_format(None, given)[0]
    except ValueError:
        return None


def _inputs_to_label(inputs: list[str], output: str | None, engine: str) -> tuple[list[str], str | None]:
    """``(inputs, output)`` to label, or a usage error: several only as files (no stdin, no Spark)
    into their default names, beside them or in the directory ``-o`` names (made if need be); a glob's
    earlier outputs (``*.labeled.*``) are left out, with a note."""
    from ..exports import distinct_files, names_a_format

    if len(inputs) == 1:
        return inputs, output
    if "-" in inputs or engine != "local":
        fail("several inputs are labelled as files, one after the other: not with '-' (stdin) or --engine spark", 2)
    looks_a_file = names_a_format(output or "", readable=True) or str(output).lower().endswith(".gz")
    if output is not None and not Path(output).is_dir() and (Path(output).exists() or looks_a_file):
        fail(f"with several inputs, -o names a directory to write them in ({output} is a file's name)", 2)
    if output is not None and not output.endswith(("/", os.sep)):
        output += "/"  # a directory, made when written
    ours = [i for i in inputs if ".labeled." in Path(i).name]
    if ours and len(ours) < len(inputs):
        typer.echo(f"note: left out {len(ours)} labelled output(s) of an earlier run ({Path(ours[0]).name}"
                   f"{', ...' if len(ours) > 1 else ''}); name one alone to label it again", err=True)
        inputs = [i for i in inputs if i not in ours]
    inputs = distinct_files(inputs)  # a file named twice (a.csv, ./a.csv) is labelled once
    # Comments.jsonl, comments.jsonl: one file on the disks of Windows and macOS
    folded = os.name == "nt" or sys.platform == "darwin"
    names = [Path(i).name.casefold() if folded else Path(i).name for i in inputs]
    twice = next((Path(i).name for i, n in zip(inputs, names) if names.count(n) > 1), None)
    if output is not None and twice:
        fail(f"two inputs are named {twice}: their outputs in {output} would have the same name", 2)
    return inputs, output


def _label_one(input: str, output: str | None, clf, options: dict, show: bool):
    """``(summary, None)`` of ``label_file`` on one input, with a progress bar on a terminal, or
    ``(None, why it could not be labelled)``; an interrupt ends the command."""
    from ..exports import label_file
    from ..parallel import WorkerError

    try:
        with quiet_broken_pipe():
            if show:
                with _progress() as (bar, task):
                    return label_file(input, output, clf, **options,
                                      progress=lambda done, total: bar.update(task, completed=done, total=total)), None
            return label_file(input, output, clf, **options), None
    except KeyboardInterrupt:
        fail("interrupted; run the same command with --resume to continue (an .xlsx output starts over)", 130)
    except (ValueError, WorkerError) as exc:
        return None, str(exc)
    except OSError as exc:  # the input's read errors are InputErrors (ValueError): this is the output
        return None, f"cannot write output: {exc}"


def _print_summary(summary, input: str) -> None:
    """What a run did, to stderr: counts, actions, reasons for errors, notes and hints."""
    rate = (summary.total - summary.resumed) / summary.seconds if summary.seconds else 0.0  # of this run
    resumed = f" ({summary.resumed} from the interrupted run)" if summary.resumed else ""
    msg = (f"{summary.total} records{resumed} -> {summary.output}: {summary.labeled} labeled, "
           f"{summary.errors} with errors ({rate:.0f} records/s)")
    typer.echo(msg, err=True)
    if summary.actions:  # most frequent first
        typer.echo("  actions: " + ", ".join(f"{n} {action}" for action, n in summary.actions.most_common()), err=True)
    for reason, n in summary.reasons.most_common():
        typer.echo(f"  {n} x {reason}", err=True)
    if summary.blank_lines:
        typer.echo(f"  {summary.blank_lines} blank lines skipped (they hold no record)", err=True)
    for note in summary.notes:
        typer.echo(f"  {note}", err=True)
    if not summary.labeled and any(reason.startswith("no text field") for reason in summary.reasons):
        from ..exports import likely_text_fields

        fields, likely = likely_text_fields(input)
        example = f", e.g. --text-field {shell_quote(likely[0])}" if likely else ""
        listed = f" (its fields: {', '.join(fields[:12])}{', ...' if len(fields) > 12 else ''})" if fields else ""
        typer.echo(f"hint: name the field that holds the comment with --text-field{example}{listed}", err=True)
    elif not summary.labeled and any(reason.endswith("the header has 1") for reason in summary.reasons):
        typer.echo("hint: a CSV that opens with a title above its header is read from the header row when "
                   "it names the comment's column: name it with --text-field", err=True)


def _label_with_spark(input, output, text_field, model, batch_size, output_format, master, partitions, quiet,
                      backend="auto", playbook=None) -> None:
    """``--engine spark``: label Parquet/JSON (files, directories or URIs) with commentnlp.spark."""
    from ..spark import label_files  # pyspark itself is imported (and its absence reported) on use

    from ..serialization import ModelLoadError

    source = Path(input).resolve() if Path(input).name in ("", ".", "..") else Path(input)  # "." has no name
    target = output or str(source.with_name(source.name.split(".")[0] + ".labeled"))
    try:
        result = label_files(input, target, text_col=text_field, output_format=output_format or "parquet",
                             master=master, partitions=partitions, model=model, batch_size=batch_size,
                             backend=backend, playbook=playbook)
    except (ValueError, OSError, ImportError, ModelLoadError) as exc:  # OSError: input not found, output exists
        fail(str(exc))
    except Exception as exc:  # Spark's own (a file that is not Parquet: a Java stack trace of 300 lines)
        first = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        fail(f"Spark could not label {input}: {first[:300]}")
    if not quiet:
        typer.echo(f"{result.get('rows')} records -> {target}: {result.get('labeled')} labeled, "
                   f"{result.get('errors')} with errors ({result.get('seconds', 0):.0f}s)", err=True)


class _progress:
    """A rich progress bar with rate and ETA (only on a terminal)."""

    def __enter__(self):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        rate = TextColumn("{task.fields[rate]}")
        # on stderr, as its test (is_terminal) and the summary: on stdout it put a blank line into `-o -`'s output
        self.bar = Progress(TextColumn("labeling"), BarColumn(), MofNCompleteColumn(), rate,
                            TimeRemainingColumn(), transient=True, console=Console(stderr=True))
        self.bar.__enter__()
        task = self.bar.add_task("label", total=None, rate="")

        def update(task_id, completed, total):
            speed = self.bar.tasks[0].speed
            self.bar.update(task_id, completed=completed, total=total,
                            rate=f"{speed:,.0f} records/s" if speed else "")

        return _Bar(update), task

    def __exit__(self, *exc):
        return self.bar.__exit__(*exc)


class _Bar:
    def __init__(self, update):
        self.update = update
