"""Writing output records: the JSONL and CSV sinks, formula-injection checks, a labelled CSV's rows read back."""

from __future__ import annotations

import csv
import json
import re
from typing import IO, Any, Iterable

from ..schema import HEAD_NAMES, UNSURE
from .items import Item
from .plurals import plural


#: The fields ``label`` adds to a record.
OUTPUT_FIELDS = ("labels", "scores", "action", "error")


#: half a surrogate pair: valid in a JSON string (``"\\ud83d"``, an emoji an export cut in two), not in UTF-8
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _json_text(value: Any) -> str:
    """``value`` as JSON, UTF-8 text kept as is; a lone surrogate, which UTF-8 cannot hold, stays
    escaped as the input had it (``json.loads`` gives the same value back)."""
    text = json.dumps(value, ensure_ascii=False)
    if not text.isascii() and _LONE_SURROGATE.search(text):  # only inside strings: escape it there
        text = _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text


def jsonl_line(record: dict[str, Any]) -> str:
    """One output record as a JSON line (:func:`_json_text`)."""
    return _json_text(record) + "\n"


class _CsvSink:
    """Writes output records as CSV: input columns first, then flat labels and scores
    (:func:`record_of_csv_row` reads a row back)."""

    LABEL_COLUMNS = (*HEAD_NAMES, "action")
    SCORE_COLUMNS = tuple(f"{h}_score" for h in HEAD_NAMES)
    #: Output columns an input field cannot take: an input field of that name goes to ``extra``.
    RESERVED = frozenset((*HEAD_NAMES, *SCORE_COLUMNS, "extra"))

    def __init__(self, out: IO[str], columns: list[str] | None = None, delimiter: str = ",",
                 bom: bool = False, excel_sep: bool = False, rows_above: list[list[str]] | None = None,
                 writer: Any = None, input_columns: list[str] | None = None):
        #: what writes the rows: a CSV writer on ``out``, or a sheet's (:class:`~commentnlp.spreadsheets.SheetWriter`)
        self.writer = writer if writer is not None else csv.writer(out, delimiter=delimiter)
        self.columns = columns
        #: written before the header row, as the input had them: a byte-order mark, Excel's ``sep=;`` line
        self.preamble = ("\ufeff" if bom else "") + (f"sep={delimiter}\r\n" if excel_sep else "")
        #: rows the input had above its header (a title), written back there; filled as the input is read
        self.rows_above = rows_above if rows_above is not None else []
        self._out = out
        self._flat = set(columns or ()) - self.RESERVED  # record fields written to their own column
        #: the first chunk's records, held until its end: the header holds the fields of all of them
        self._first: list[dict[str, Any]] = []
        #: the input's header, filled as it is read: the output's when no record comes (a day without comments)
        self.input_columns = input_columns if input_columns is not None else []
        #: cells of a CSV (not a sheet's: text there) that Excel opens as a formula (:func:`opens_as_formula`)
        self.formulas = 0
        self._count_formulas = writer is None

    def header_for(self, first: dict[str, Any]) -> list[str]:
        inputs = [k for k in first if k not in OUTPUT_FIELDS and k not in self.RESERVED]
        return inputs + list(self.LABEL_COLUMNS) + list(self.SCORE_COLUMNS) + ["error", "extra"]

    def write(self, record: dict[str, Any]) -> None:
        if self.columns is None:
            self._first.append(record)
        else:
            self._row(record)

    def flush(self) -> None:
        """Write the first chunk's records under a header of all their fields, in the order they
        first appear (at a checkpoint, and at the end): a field that the first record lacks (a reply's
        ``parent_id``) gets its column, and a bad first line does not make the header ``raw``."""
        if self.columns is not None or not (self._first or self.input_columns):
            return
        readable = [r for r in self._first if not r.keys() <= {"raw", "error"}] or self._first or [self.input_columns]
        self.columns = self.header_for(dict.fromkeys(k for r in readable for k in r))
        self._flat = set(self.columns) - self.RESERVED
        self._out.write(self.preamble)
        self.writer.writerows([_cell(c) for c in row] for row in self.rows_above)
        self.writer.writerow([_cell(c) for c in self.columns])
        first, self._first = self._first, []
        for record in first:
            self._row(record)

    def _row(self, record: dict[str, Any]) -> None:
        flat: dict[str, Any] = {}
        extra = {}
        for k, v in record.items():
            if k in ("labels", "scores"):
                continue
            if k in self._flat:
                flat[k] = v
            else:
                extra[k] = v
        for head, label in (record.get("labels") or {}).items():
            flat[head] = "true" if label is True else "false" if label is False else label
            scores = (record.get("scores") or {}).get(head, {})  # unsure: the top score, below the head's threshold
            flat[f"{head}_score"] = scores.get(flat[head], "") if flat[head] != UNSURE else max(scores.values(), default="")
        if extra:
            flat["extra"] = _json_text(extra)
        row = [_cell(flat.get(c, "")) for c in self.columns]
        if self._count_formulas:
            self.formulas += sum(opens_as_formula(v) for v in row)
        self.writer.writerow(row)


#: A CSV cell that Excel reads as a formula starts so (OWASP's "CSV injection"); a number such as -5 does not
_FORMULA_START = re.compile(r"[=+\-@\t\r]")
_SIGNED_NUMBER = re.compile(r"[+-]?[0-9][0-9 .,]*%?")


def opens_as_formula(cell: Any) -> bool:
    """Whether Excel, opening a CSV, would run this cell as a formula: text starting with ``=``, ``+``,
    ``-``, ``@``, a tab or a CR (``=HYPERLINK("http://evil", "click")``, ``@john`` too), but not a signed number."""
    return isinstance(cell, str) and len(cell) > 1 and _FORMULA_START.match(cell) is not None \
        and _SIGNED_NUMBER.fullmatch(cell) is None


def formula_note(cells: int) -> str:
    """The summary's warning about cells that Excel runs as formulas."""
    return (f"{plural(cells, 'cell')} of the CSV start with =, +, -, @ or a tab, which Excel runs as a formula when it "
            "opens a CSV (a comment such as =HYPERLINK(...) can act in the spreadsheet, and '@name ...' shows as an "
            "error): open it in Excel with Data > From Text/CSV, or label into .xlsx, where every cell is text")


#: the columns a CSV that ``label`` wrote always has
_OUR_CSV_COLUMNS = frozenset((*_CsvSink.LABEL_COLUMNS, *_CsvSink.SCORE_COLUMNS, "error", "extra"))


def record_of_csv_row(row: dict[str, str]) -> dict[str, Any]:
    """A row of the CSV that ``label`` writes as the record its JSONL output holds: the input
    fields (``extra`` merged back), ``labels``, ``scores`` (the chosen label's), ``error``."""
    record: dict[str, Any] = {k: v for k, v in row.items() if k not in _CsvSink.RESERVED and k != "error"}
    if row.get("extra"):
        try:
            extra = json.loads(row["extra"])
        except json.JSONDecodeError:
            extra = None
        if isinstance(extra, dict):
            record.update(extra)
    if row.get("error"):
        record["error"] = row["error"]
    if not record.get("action"):  # a row in error has an empty action cell
        record.pop("action", None)
    labels = {h: row[h] for h in HEAD_NAMES if row.get(h)}
    if labels:
        record["labels"] = labels
        scores = {}
        for head, label in labels.items():
            try:
                # a comma for a decimal mark: Excel re-saved it where that is the custom ("0,9214")
                scores[head] = {label: float((row.get(f"{head}_score") or "nan").replace(",", "."))}
            except ValueError:
                pass
        record["scores"] = scores
    return record


def record_of_spark_row(record: dict[str, Any]) -> dict[str, Any]:
    """A JSON record as ``label`` writes it, as :func:`record_of_csv_row` makes a CSV row: one that ``label
    --engine spark`` wrote (its labels as top-level columns, its scores a JSON string, its error null) too; any
    other record as it is."""
    if "labels" in record or "action" not in record or not all(h in record for h in HEAD_NAMES):
        return record
    out = {k: v for k, v in record.items() if k not in HEAD_NAMES}
    if out.get("error") is None:
        out.pop("error", None)
        out["labels"] = {h: record[h] for h in HEAD_NAMES if record[h] is not None}
        if isinstance(out.get("scores"), str):
            try:
                out["scores"] = json.loads(out["scores"])
            except ValueError:
                del out["scores"]
    return out


def written_by_label(columns: Iterable[str]) -> bool:
    """Whether CSV columns are those ``label`` writes (labels, top scores, error and extra)."""
    return _OUR_CSV_COLUMNS <= set(columns)


def _csv_item(item: Item) -> Item:
    """A row of a CSV that ``label`` wrote, labelled again, as the record its JSONL output holds
    (input fields from ``extra`` back in place); other rows as they are."""
    if item.error is None and written_by_label(item.record):
        return Item(item.line, record_of_csv_row(item.record), None, item.where)
    return item


def _cell(value: Any) -> Any:
    """A CSV cell for a JSON value: objects and arrays as JSON, booleans as ``true``/``false``
    (as JSON and the ``troll`` column write them, not Python's ``True``), null as empty."""
    if isinstance(value, (dict, list)):
        return _json_text(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and not value.isascii():
        return _LONE_SURROGATE.sub("\ufffd", value)  # a CSV cell has no escapes: U+FFFD, as for bad bytes read
    return "" if value is None else value


class _JsonlSink:
    def __init__(self, out: IO[str]):
        self.out = out

    def write(self, record: dict[str, Any]) -> None:
        self.out.write(jsonl_line(record))

    def flush(self) -> None:
        pass
