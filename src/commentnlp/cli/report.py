"""``commentnlp report``: a self-contained HTML report of a labeled export."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ._util import command, expand_patterns, fail


@command("report")
def report_cli(
    inputs: List[str] = typer.Argument(..., metavar="INPUT", help="Labeled export: what 'commentnlp label' writes (JSONL or CSV, optionally .gz; '-' for stdin); several make one report."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="HTML file to write ('-' for stdout), or a directory (DIR/) to write it in. Default: <input> with .html (with several inputs, name it)."),
    title: Optional[str] = typer.Option(None, "--title", help="Report title. Default: 'Comment report'."),
    max_queue: int = typer.Option(200, "--max-queue", min=0, help="Rows kept per work queue (most confident first)."),
    text_field: Optional[str] = typer.Option(None, "--text-field", "-t",
                                             help="Field holding the comment text, as given to 'label'."),
    encoding: Optional[str] = typer.Option(None, "--encoding", help="The export's encoding when it is not UTF-8, as for label (e.g. cp1252: a labeled CSV re-saved by Excel on Windows)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No summary line."),
) -> None:
    """Write one HTML report of a labeled export (or several): the label mix, trends and work queues.

    One file, no network, no scripts: totals, the intent, style, sentiment and troll mix, trends
    over time when records carry a timestamp, and work queues: where-to-buy questions, support
    cases and negative comments worth engaging.

    Unreadable lines and records with an 'error' are counted in the report, not fatal.
    """
    from ..exports import check_input_file, distinct_files, names_a_folder
    from ..report import build_report, default_report_path

    inputs = distinct_files(expand_patterns(inputs))  # a file named twice (a.jsonl, ./a.jsonl) is counted once
    if inputs == ["-"] and not output:
        fail("reading the export from stdin: name the report file with -o", 2)
    if len(inputs) > 1 and "-" in inputs:
        fail("several exports make one report from files: not with '-' (stdin)", 2)
    if len(inputs) > 1 and not output:
        fail(f"{len(inputs)} exports make one report: name its file with -o, e.g. -o report.html", 2)
    input = inputs[0]
    try:
        for name in inputs:
            check_input_file(name)
        out = Path(output) if output else default_report_path(input)
        if output and output != "-" and names_a_folder(output):  # as label -o DIR/
            out = out / (default_report_path(input).name if len(inputs) == 1 and input != "-" else "report.html")
        summary = build_report(inputs, out, title=title, max_queue=max_queue, text_field=text_field,
                               encoding=encoding)
    except (FileNotFoundError, IsADirectoryError, ValueError) as exc:  # missing, a directory, unreadable
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write the report: {exc}")
    if not quiet:
        typer.echo(f"{summary['records']} records -> {summary['output']}: {summary['labeled']} labeled, "
                   f"{summary['errors']} with errors, {summary['bad_lines']} unreadable lines"
                   + (f" (line{'s' * (summary['bad_lines'] > 1)} {', '.join(summary['bad_line_numbers'])}{', ...' * (summary['bad_lines'] > 5)})"
                      if summary["bad_lines"] else ""), err=True)
    if encoding is None and any(reason.startswith("unreadable line: invalid UTF-8") for reason in summary["reasons"]):
        typer.echo("hint: the export is not all UTF-8: if it was saved in another encoding, name it with --encoding "
                   "(e.g. cp1252, Excel's on Windows, or latin-1), and those lines are read", err=True)
    if summary["labeled"] == 0 and summary["records"] > summary["errors"]:
        typer.echo(f"hint: no record carries labels; report on what 'commentnlp label {input}' writes", err=True)
    elif summary["untexted"]:
        where = f"no {text_field!r} field" if text_field else "no text field"
        typer.echo(f"hint: {summary['untexted']} of {summary['labeled']} labeled records have {where}, so their "
                   "comments are blank in the work queues; pass the --text-field given to 'label'", err=True)
