"""``commentnlp classify``: label texts given on the command line (or one per line on stdin)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Iterator, List, Optional

import typer

from ._util import BACKEND_HELP, command, fail, load_classifier, quiet_broken_pipe, shell_quote


def _stdin_lines() -> Iterator[str]:
    """The non-blank lines of stdin as UTF-8 text (UTF-16 with its byte-order mark, as PowerShell writes,
    and lines ending in a CR alone are read as label reads them), as they come; a line that is not
    UTF-8 is an error naming it."""
    from ..exports import readable
    from ..exports.text_encodings import _peekable
    from ..preprocessing import is_blank

    try:  # as label reads a .txt
        stream = readable(_peekable(typer.get_binary_stream("stdin")), "txt", "stdin", find_table=False)[0]
    except ValueError as exc:  # UTF-16 without its mark
        fail(str(exc))
    for number, raw in enumerate(stream, 1):
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            fail(f"stdin line {number} is not UTF-8 text (byte {exc.start}: {raw[exc.start:exc.start + 1]!r}); "
                 "save the file as UTF-8 first (e.g. iconv -f latin1 -t utf-8, or Save As in an editor), "
                 "or label it with `commentnlp label FILE --encoding latin-1`")
        if not is_blank(line):  # as label reads a text: spaces or invisible characters only are empty
            yield line.removeprefix("\ufeff") if number == 1 else line


def _is_utf8(text: str) -> bool:
    """Whether an argument was UTF-8 (Python gives a byte that was not as a lone surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _stdin_piped() -> bool:
    return not sys.stdin.isatty()


@command("classify")
def classify_cli(
    texts: Optional[List[str]] = typer.Argument(None, help="One or more comment texts; '-', or none with stdin piped, reads one per line from stdin (blank lines skipped)."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model directory, or a bundled model's name (commentnlp-minilm-l3: faster). Default: the bundled commentnlp-minilm."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per text."),
    abstain: bool = typer.Option(False, "--abstain", help="Label a head 'unsure' when its top score is below the model's threshold."),
    stream: bool = typer.Option(False, "--stream", help="Answer each line of stdin as it comes (tail -f comments.txt | commentnlp classify --stream), each labelled alone as a single text is; by default stdin is read whole and labelled in batches."),
    playbook: Optional[str] = typer.Option(None, "--playbook", help="TOML playbook with your own actions and links (as for label)."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda[:N]."),
    backend: str = typer.Option("auto", "--backend", help=BACKEND_HELP),
) -> None:
    """Print the labels, top scores and suggested action of each text."""
    if not texts and not _stdin_piped():
        fail("give one or more texts, e.g. commentnlp classify \"where can I buy it?\", or pipe them in "
             "one per line", 2)
    if texts and "-" in texts and len(texts) > 1:  # "-" was labelled as a comment, stdin never read
        fail("'-' reads the texts from stdin, one per line: give it alone, or the texts as arguments", 2)
    bad = next((i for i, t in enumerate(texts or [], 1) if not t.isascii() and not _is_utf8(t)), None)
    if bad is not None:  # --json wrote the raw byte: not UTF-8 JSON
        fail(f"text {bad} is not UTF-8 (the terminal's encoding?); give it as UTF-8 text", 2)
    from_stdin = not texts or texts == ["-"]
    if stream and not from_stdin:
        fail("--stream answers the lines of stdin as they come: pipe them in (or give '-')", 2)
    from ..preprocessing import is_blank

    # stdin's blank lines are skipped: only arguments can be empty
    empty = None if from_stdin else next((i for i, t in enumerate(texts, 1) if is_blank(t)), None)
    if empty is not None:  # as label reports an empty text: there is nothing to label
        fail(f"text {empty} is empty (an unset shell variable?); give the comment's text" if not texts[empty - 1].strip()
             else f"text {empty} holds only invisible characters; give the comment's text", 2)
    for text in [] if from_stdin else texts:  # a file's name labelled as if it were a comment
        if len(text) < 256 and "\n" not in text and Path(text).is_file():
            piped = f"Get-Content {shell_quote(text)} | commentnlp classify -" if os.name == "nt" else \
                f"commentnlp classify - < {shell_quote(text)}"  # PowerShell has no `<`
            typer.echo(f"warning: {text!r} is a file: this labels its name; label the file with "
                       f"`commentnlp label {shell_quote(text)}`, or its lines with `{piped}`", err=True)
    clf = load_classifier(model, device, playbook, backend=backend)
    with quiet_broken_pipe():
        if from_stdin and stream:  # each line alone, as classify("text") labels it: the same answers, however fed
            for line in _stdin_lines():
                _print(clf.predict([line], abstain=abstain), as_json)
                sys.stdout.flush()
        else:  # in batches, as label labels a file's: int8 scores depend a little on a text's batch-mates
            _print(clf.predict(list(_stdin_lines()) if from_stdin else texts, abstain=abstain), as_json)


def _print(predictions, as_json: bool) -> None:
    """Each prediction as a JSON line, or as its text, one line per head and the action."""
    for p in predictions:
        if as_json:
            typer.echo(json.dumps({"text": p.text, **p.to_dict()}, ensure_ascii=False))
            continue
        typer.echo(p.text)
        for head, label in p.labels.items():
            key = str(label).lower() if isinstance(label, bool) else label
            score = p.scores[head].get(key)
            typer.echo(f"  {head:<10} {str(label):<17}" + (f" {score:.2f}" if score is not None else ""))
        typer.echo(f"  action     {p.action}")
