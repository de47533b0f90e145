"""Labeled data: read LABELING.md records, gather training data, and encode it for the model."""

from __future__ import annotations

import glob
import json
import os
import random
import re
import unicodedata
from collections import Counter
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping

from .exports import (TOO_DEEP, InputError, Item, detect_format, json_documents, open_input, open_stdin, read_csv,
                      read_text_lines, readable, text_field_in, written_by_label)
from .preprocessing import is_blank
from .schema import HEAD_NAMES, HEADS_BY_NAME, LabelError, labels_of
from .userwarnings import warn
from .validation import is_missing

if TYPE_CHECKING:
    import numpy as np

    from .training_args import TrainingConfig

__all__ = ["DataError", "read_labeled", "labeled_records", "gold_labels", "gather", "encode_labels", "dedupe_key",
           "recorded_key_version", "dedupe_key_version", "text_hashes", "split_data", "data_digests", "EvaluationTexts"]


class DataError(ValueError):
    """A labeled data file is unreadable or holds an invalid record (the message names file and line)."""


def read_labeled(path: str | Path, text_field: str | None = None) -> list[dict[str, Any]]:
    """Read labeled records (LABELING.md): JSONL (or one JSON array of records), or CSV with a
    ``text`` column and a column per labelled head (an empty cell: not labelled); ``.gz`` for
    gzipped; ``"-"``: stdin, its format found from its first bytes. Labels are validated and
    normalised (troll -> "true"/"false"). Records whose text is empty or blank are left out with a
    warning naming their lines (training, evaluate and find-threshold all read data here).
    ``text_field`` names the field holding the comment, as ``label --text-field`` does (default:
    ``text``, else the first export field ``label`` finds, e.g. ``message``)."""
    return [record for _, record in _labeled_where(path, text_field)]


def _labeled_where(path: str | Path, text_field: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    """:func:`read_labeled`'s records, each with where it is (``file:line``)."""
    empty: list[str] = []
    keep = _unless_blank(empty, text_field)
    found = [(where, r) for where, r in _read_records(path, lambda where, row: (where, keep(where, row))) if r is not None]
    _warn_blank(empty)
    _check_some_head_labelled([r for _, r in found], str(path))
    return found


def labeled_records(rows: Iterable[Mapping[str, Any]], text_field: str | None = None) -> list[dict[str, Any]]:
    """Labeled records given in memory (dicts, as a file's lines parse), validated and normalised
    as :func:`read_labeled` reads a file's: the text from an export's field where ``text`` is
    missing (``message``, ...), labels read as LABELING.md says (troll ``"yes"`` -> ``"true"``,
    ``"Where to buy"`` -> ``where_to_buy``), records with an empty or blank text left out with a
    warning. A :class:`DataError` names the record by its index, ``records[N]``."""
    empty: list[str] = []
    keep = _unless_blank(empty, text_field)
    records = [r for n, row in enumerate(rows)
               if (r := keep(f"records[{n}]", dict(row) if isinstance(row, Mapping) else row)) is not None]
    _warn_blank(empty)
    _check_some_head_labelled(records, "the records")
    return records


def gold_labels(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` with their labels validated and normalised as :func:`read_labeled` reads a file's,
    none left out and no text needed (predictions aligned with them stay aligned); a
    :class:`DataError` names the record by its index, ``records[N]``."""
    out = []
    for n, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise DataError(f"records[{n}]: a record is a mapping of its fields, not {type(row).__name__}")
        out.append(_with_labels(f"records[{n}]", row))
    return out


def _unless_blank(empty: list[str], text_field: str | None = None) -> Callable[[str, Any], dict[str, Any] | None]:
    """:func:`_labeled` of a row, or None for one whose text is empty or blank (its ``where`` added to ``empty``)."""
    def labeled(where: str, row: Any) -> dict[str, Any] | None:
        record = _labeled(where, row, text_field)
        if not is_blank(record["text"]):  # as label reads it: spaces or invisible characters only are empty
            return record
        empty.append(where)  # nothing to learn or score: `label` refuses an empty text too
        return None
    return labeled


def _warn_blank(empty: list[str]) -> None:
    """Warn (at the user's line) that the records at ``empty`` were left out for an empty text."""
    if empty:
        warn(f"{len(empty)} record{'s' * (len(empty) > 1)} with an empty text left out "
             f"({', '.join(empty[:3])}{', ...' if len(empty) > 3 else ''}): there is nothing to learn "
             "or score in an empty comment")


def _check_some_head_labelled(records: list[dict[str, Any]], what: str) -> None:
    """A DataError when no record labels any head: figures and training on them would be empty."""
    if records and not any(r[h] is not None for r in records for h in HEAD_NAMES):
        nested = any(isinstance(r.get("labels"), dict) for r in records)
        raise DataError(f"{what}: no record labels any head: give {', '.join(HEAD_NAMES)} as top-level fields, "
                        "as LABELING.md does" + (" (a 'labels' object, as `commentnlp label` writes, holds "
                                                 "predictions, not gold labels)" if nested else ""))


def _read_records(path: str | Path, record: Callable[[str, Any], Any]) -> list[Any]:
    """``record(where, row)`` of each row of a data file, read as :func:`read_labeled` says."""
    from_stdin = str(path) == "-"
    path = Path("<stdin>" if from_stdin else path)
    if not from_stdin and not path.is_file():
        raise DataError(f"data file is a directory: {path}" if path.is_dir() else
                        f"data file {path} is a pipe or a device, not a file: give it on stdin as '-' (e.g. --data -)"
                        if path.exists() else f"data file not found: {path}")
    records: list[Any] = []
    lineno, raw = 0, None
    try:
        if from_stdin:
            fmt, _, raw, f = open_stdin()
        else:
            fmt, gz = detect_format(path)
            raw, f = open_input(path, gz, fmt)  # its read errors, gzip's included, are InputErrors
        with raw:  # stdin's stays open
            f, fmt, _, _ = readable(f, fmt, str(path))  # a workbook's sheet, UTF-16, a tab-separated .txt: as label reads them
            rows = {"csv": _csv_rows, "txt": _txt_rows}.get(fmt, _json_rows)
            for lineno, where, row in rows(path, f):
                records.append(record(where, row))
    except InputError as exc:
        if raw is None:  # not opened at all
            raise DataError(str(exc)) from None
        raise DataError(f"{path}: cannot read it after line {lineno}: {exc.__cause__ or exc}") from None
    except ValueError as exc:  # an unknown extension
        raise DataError(str(exc)) from None
    return records


def _json_rows(path: Path, f: IO[bytes]) -> Iterator[tuple[int, str, Any]]:
    """``(line number, where, parsed JSON)`` of each record of JSON lines (each non-blank line) or
    of a JSON document (an array of records, as Label Studio's JSON-MIN export writes, or a
    pretty-printed record: :func:`~commentnlp.exports.read_json_documents`), or a DataError naming
    the line or item."""
    documents, f = json_documents(f)
    if documents is not None:
        for item in documents[0]:
            if item.error is not None:
                raise DataError(f"{path}, item {item.line}: {item.error}")
            yield item.line, f"{path}, item {item.line}", item.record
        return
    for lineno, raw in enumerate(f, 1):
        try:
            line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(f"{path}:{lineno}: not UTF-8 ({exc.reason} at byte {exc.start + 1} of the line); "
                            f"{SAVE_AS_UTF8}") from None
        if not line.strip():
            continue
        try:
            yield lineno, f"{path}:{lineno}", json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from None
        except RecursionError:
            raise DataError(f"{path}:{lineno}: {TOO_DEEP}") from None


def _csv_rows(path: Path, f: IO[bytes]) -> Iterator[tuple[int, str, Any]]:
    """``(line number, where, row)`` of each CSV row, an empty head cell as not labelled (None)."""
    for n, item in enumerate(read_csv(f)):
        if item.error is not None:
            raise _bad_item(path, item)
        if n == 0 and written_by_label(item.record):
            warn(f"{path} holds the columns `commentnlp label` writes: its labels are a model's "
                 "predictions unless corrected by hand, and figures on them measure agreement with "
                 "that model, not how right it is")
        yield item.line, f"{path}:{item.line}", {k: None if k in HEAD_NAMES and v.strip() == "" else v
                                                  for k, v in item.record.items()}


def _txt_rows(path: Path, f: IO[bytes]) -> Iterator[tuple[int, str, Any]]:
    """``(line number, where, {"text": line})`` of each non-blank line of plain text (labels none)."""
    for item in read_text_lines(f):
        if item.error is not None:
            raise _bad_item(path, item)
        yield item.line, f"{path}:{item.line}", item.record


#: What to do with a data file that is not UTF-8
SAVE_AS_UTF8 = "save the file as UTF-8"


def _bad_item(path: Path, item: Item) -> DataError:
    """The DataError for a row that cannot be read, naming its line (and for one that is not UTF-8, what to do)."""
    fix = f'; {SAVE_AS_UTF8} (in Excel: "CSV UTF-8")' if item.error.startswith("invalid UTF-8") else ""  # type: ignore[union-attr]
    return DataError(f"{path}:{item.line}: {item.error}{fix}")


def _labeled(where: str, row: Any, text_field: str | None = None) -> dict[str, Any]:
    """A labeled record with validated labels, or a DataError naming ``where`` it is (file and line)."""
    return _with_labels(where, _with_text(where, row, text_field))


def _with_labels(where: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """A record with its labels validated and normalised, or a DataError naming ``where`` it is."""
    for head in HEAD_NAMES:  # an annotation sheet's 'Intent', 'SENTIMENT' or 'Troll?' column
        if head not in row:
            column = head_column(row, head)
            if column is not None:
                row = {**row, head: row[column]}
    try:
        labels = labels_of(row)
    except LabelError as exc:
        raise DataError(f"{where}: {exc}") from None
    return {**row, **labels}


def head_column(fields: Iterable[Any], head: str) -> str | None:
    """The field that labels ``head`` under a sheet's spelling: ``Intent``, ``SENTIMENT ``, then a yes/no
    question's ``Troll?`` (not ``Sentiment %``, a figure)."""
    names = [k for k in fields if isinstance(k, str)]
    return next((k for k in names if k.strip().lower() == head), None) or \
        next((k for k in names if k.strip().lower().rstrip("?:").rstrip() == head), None)


def _with_text(where: str, row: Any, text_field: str | None = None) -> dict[str, Any]:
    """A record with its comment as ``text`` (read from ``text_field`` when given), or a DataError
    naming ``where`` it is (file and line). A dataframe's empty cell (NaN, NA) is an empty text, as a CSV's is."""
    name = None
    if isinstance(row, dict):  # the field the text is in: given, `text`, or an export's name for it, as `label` reads it
        name = text_field if text_field is not None else "text" if "text" in row else text_field_in(row)
        if name is not None and row.get(name) is not None and is_missing(row[name]):
            row = {**row, name: ""}
    if text_field is not None and text_field != "text":
        if not isinstance(row, dict) or not isinstance(row.get(text_field), str):
            raise DataError(f"{where}: no string {text_field!r} field"
                            + (f"; its fields: {', '.join(map(str, row))}" if isinstance(row, dict) else ""))
        return {**row, "text": row[text_field]}
    if isinstance(row, dict) and "text" not in row and name is not None and isinstance(row[name], str):
        row = {**row, "text": row[name]}
    if not isinstance(row, dict) or not isinstance(row.get("text"), str):
        got = f", not {_json_type(row['text'])}" if isinstance(row, dict) and "text" in row else (
            "" if isinstance(row, dict) else f": this line is {_json_type(row)}, not an object")
        raise DataError(f"{where}: a record needs a string 'text' (or an export's 'message', "
                        f"'comment', ... as `label` finds it){got}")
    return row


def _json_type(value: Any) -> str:
    """What a JSON value is, for a message: ``null``, ``a number``, ``an array``..."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    return {str: "a string", dict: "an object", list: "an array"}.get(type(value), "a number")


def is_pattern(path: str | Path) -> bool:
    """Whether ``path`` is a glob pattern (one that may match no file) rather than a plain path."""
    return any(ch in str(path) for ch in "*?[")


def missing_files(patterns: Iterable[str | Path]) -> list[str]:
    """The plain paths among ``patterns`` that name nothing (what :func:`expand` refuses)."""
    return [str(p) for p in patterns if not is_pattern(p) and not os.path.lexists(p)]


def matches_of(pattern: str | Path) -> list[str]:
    """What a name stands for, as a shell reads it: the file of that name (whose name may hold ``[`` or
    ``*``), else the files the pattern matches, sorted (none: ``[]``)."""
    return [str(pattern)] if os.path.lexists(pattern) else sorted(glob.glob(str(pattern)))


def expand(patterns: Iterable[str | Path]) -> list[Path]:
    """Expand glob patterns into existing files (a plain path that does not exist is an error)."""
    out: list[Path] = []
    for pattern in patterns:
        matches = matches_of(pattern)
        if not matches and not is_pattern(pattern):
            raise DataError(f"data file not found: {pattern}")
        out.extend(Path(m) for m in matches)
    return out


def data_digests(patterns: Iterable[str | Path]) -> dict[str, str]:
    """``{file: first 16 hex digits of its SHA-256}`` for the files the patterns expand to."""
    import hashlib

    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()[:16] for p in expand(patterns)}


_NON_WORD = re.compile(r"\W+")


def _symbols_of(run: "re.Match[str]") -> str:
    """A run of non-word characters as its symbols (emoji, $, +), spaced, or one space."""
    kept = [c for c in run.group() if unicodedata.category(c)[0] == "S"]
    return f" {' '.join(kept)} " if kept else " "


def dedupe_key(text: str) -> str:
    """Key used to find the same comment twice: case, punctuation and spacing ignored, emoji and
    other symbols kept ("this is 🔥" and "this is 💩" are two comments: LABELING.md, emoji carry
    sentiment; an emoji's variation selector aside, "❤️" and "❤" are one).

    Inside ``with dedupe_key_version(1)``, the key of earlier versions, which dropped emoji: how
    the data of a model saved then splits as it was trained on."""
    return _DEDUPE_KEYS[_KEY_VERSION.get()](text)


def _dedupe_key_v2(text: str) -> str:
    key = " ".join(_NON_WORD.sub(_symbols_of, text.lower()).split())
    return key or text.strip()


def _dedupe_key_v1(text: str) -> str:
    """The key of commentnlp before emoji were kept: what the hashes of models saved then were made of."""
    key = _NON_WORD.sub(" ", text.lower()).strip()
    return key or text.strip()


#: The version of :func:`dedupe_key` (recorded with a model's training settings and text hashes).
DEDUPE_KEY_VERSION = 2
_DEDUPE_KEYS = {1: _dedupe_key_v1, 2: _dedupe_key_v2}
_KEY_VERSION: ContextVar[int] = ContextVar("dedupe_key_version", default=DEDUPE_KEY_VERSION)


@contextmanager
def dedupe_key_version(version: int) -> Iterator[None]:
    """Make :func:`dedupe_key` the key of that version (1: before emoji were kept) inside the block."""
    token = _KEY_VERSION.set(int(version))
    try:
        yield
    finally:
        _KEY_VERSION.reset(token)


def recorded_key_version(training: Mapping[str, Any]) -> int:
    """The :func:`dedupe_key` version a saved model's data were split with, from its config's ``training``
    (1: saved before the version was recorded)."""
    return int(training.get("dedupe_key", 1))


def text_hashes(texts: Iterable[str], key_version: int = DEDUPE_KEY_VERSION) -> "np.ndarray":
    """64-bit hashes of the :func:`dedupe_key` of ``texts`` (uint64): what a saved model keeps of
    its training texts, to recognise them in an evaluation set without holding them
    (``key_version``: the key a model saved before emoji were kept hashed, 1)."""
    import hashlib

    import numpy as np

    key = _DEDUPE_KEYS[key_version]
    return np.array([int.from_bytes(hashlib.blake2b(key(t).encode("utf-8", "surrogatepass"),
                                                     digest_size=8).digest(), "little") for t in texts],
                    dtype=np.uint64)


#: An evaluation text whose key is at least this long also bans every text that contains it.
MIN_CONTAINED_KEY = 12


class EvaluationTexts:
    """The texts of evaluation files (as :func:`dedupe_key` keys), to keep out of training data."""

    def __init__(self, paths: Iterable[str | Path]):
        self.keys = {dedupe_key(r["text"]) for path in expand(paths) for r in _read_texts(path)}
        self._long = [k for k in self.keys if len(k) >= MIN_CONTAINED_KEY]

    def why_banned(self, key: str) -> str | None:
        """Why the text with this key must not be trained on, or None."""
        if key in self.keys:
            return "in evaluation set"
        if any(k in key for k in self._long):
            return "contains an evaluation text"
        return None


def gather(
    files: Iterable[str | Path],
    *,
    datasets_dir: str | Path | None = None,
    corpus_labels: Iterable[str | Path] = (),
    corpus_native: dict[str, int] | None = None,
    corpus_unlabeled: dict[str, int] | None = None,
    ignore_heads: Mapping[str, Iterable[str]] | None = None,
    exclude: Iterable[str | Path] = (),
    seed: int = 0,
    log: Callable[[str], None] = lambda _: None,
    what: str = "data",
) -> list[dict[str, Any]]:
    """Collect labeled records from project files and (optionally) the shared corpora.

    * ``files``: LABELING.md JSONL files written by this project.
    * ``corpus_labels``: project labels for corpus rows (joined to corpus texts by key).
    * ``corpus_native``: ``{corpus: max_rows}`` of corpora whose own labels map onto ours.
    * ``corpus_unlabeled``: ``{corpus: max_rows}`` of corpus texts taken with no label at all
      (a transfer set for distillation: only a teacher's soft labels train on them).
    * ``ignore_heads``: ``{label-file glob: heads}`` whose labels in those files (of ``files`` or
      ``corpus_labels``) are dropped.
    * ``exclude``: evaluation files whose texts must never be trained on; any record with
      the same text is dropped.

    Records are de-duplicated by text (:func:`dedupe_key`); the first occurrence wins, and ``log``
    says how many were left out as ``what`` (and how many of those labelled a head otherwise than
    the record kept), and how many for being evaluation texts.
    """
    records: list[dict[str, Any]] = []
    wheres: dict[int, str] = {}  # id(record): its file and line
    project = expand(files)
    ignored_here = heads_by_file(ignore_heads, project) if ignore_heads else {}
    for path in project:
        found = _labeled_where(path)
        rows = [r for _, r in found]
        wheres.update((id(r), where) for where, r in found)
        for head in ignored_here.get(str(path), ()):
            for r in rows:
                r[head] = None
        records.extend(rows)
    if datasets_dir:
        from . import corpora

        label_files = expand(corpus_labels)
        if label_files:
            ignored = heads_by_file(ignore_heads, label_files)
            records.extend(corpora.join_corpus_labels(datasets_dir, label_files, ignored))
        rng = random.Random(seed)
        for corpus, cap in (corpus_native or {}).items():
            rows = [r for r in corpora.iter_corpus(datasets_dir, corpus) if any(r[h] is not None for h in HEAD_NAMES)]
            rng.shuffle(rows)
            for r in rows[:cap]:
                r.update(labels_of(r))
                r["source"] = f"corpus:{corpus}:native"
                records.append(r)
        for corpus, cap in (corpus_unlabeled or {}).items():
            rows = [{"text": r["text"], **dict.fromkeys(HEAD_NAMES), "source": f"corpus:{corpus}:unlabeled"}
                    for r in corpora.iter_corpus(datasets_dir, corpus)]
            rng.shuffle(rows)
            records.extend(rows[:cap])
    banned = EvaluationTexts(exclude).keys
    kept: dict[str, dict[str, Any]] = {}
    duplicates = conflicting = evaluation = 0
    shown: list[str] = []  # the first few conflicts, where annotators can find them
    for r in records:
        key = dedupe_key(r["text"])
        if key in banned:
            evaluation += 1
        elif key in kept:
            duplicates += 1
            first = kept[key]
            differ = [h for h in HEAD_NAMES if r.get(h) is not None and first.get(h) is not None and r[h] != first[h]]
            conflicting += bool(differ)
            if differ and len(shown) < 3:
                at = [wheres.get(id(x)) or f"{x.get('source', 'corpus')} key {x.get('key')}" for x in (r, first)]
                shown.append(f"{at[0]} " + ", ".join(f"{h}={r[h]}" for h in differ)
                             + f" vs {at[1]} " + ", ".join(f"{h}={first[h]}" for h in differ))
        else:
            kept[key] = r
    if duplicates:
        log(f"{what}: left out {duplicates} duplicate text{'s' * (duplicates > 1)} (case, punctuation and spacing "
            f"aside), {conflicting} of them labelled otherwise than the first, which is kept"
            + (f" ({'; '.join(shown)}{'; ...' if conflicting > len(shown) else ''})" if shown else ""))
    if evaluation:
        log(f"{what}: left out {evaluation} text{'s' * (evaluation > 1)} of the evaluation files")
    return list(kept.values())


def heads_by_file(patterns: Mapping[str, Iterable[str]] | None, label_files: list[Path],
                   option: str = "ignore_heads") -> dict[str, set[str]]:
    """``{label file (as in label_files): heads}`` from ``{glob: heads}`` (the ``option`` of
    ``[data]``), checking the head names."""
    by_path = {p.resolve(): str(p) for p in label_files}
    out: dict[str, set[str]] = {}
    for pattern, heads in (patterns or {}).items():
        unknown = sorted(set(heads) - set(HEAD_NAMES))
        if unknown:
            raise ValueError(f"{option}[{pattern!r}]: unknown heads {unknown} (heads: {', '.join(HEAD_NAMES)})")
        for path in expand([pattern]):
            if path.resolve() in by_path:
                out.setdefault(by_path[path.resolve()], set()).update(heads)
    return out


def _read_texts(path: Path) -> list[dict]:
    """The records of a file of comments, labelled or not (JSONL, CSV, ... as :func:`read_labeled` reads them)."""
    return _read_records(path, _with_text)


def encode_labels(record: dict[str, Any], ignore_index: int = -100) -> dict[str, int]:
    """Class index per head (``ignore_index`` where the record does not label that head)."""
    out = {}
    for name in HEAD_NAMES:
        value = record.get(name)
        if isinstance(value, bool):
            value = "true" if value else "false"
        out[name] = ignore_index if value is None else HEADS_BY_NAME[name].index(value)
    return out


def threshold_records(config: "TrainingConfig", held: Iterable[Mapping[str, Any]],
                      log: Callable[[str], None] = lambda _: None) -> list[dict[str, Any]]:
    """The held-out real comments the decision thresholds are fitted on (``[data] threshold_labels``).

    Each label file keeps only the labels of the heads it is listed for. Files that are also
    trained on (``corpus_labels``) are left out, and so are texts that occur in ``held`` (the
    train, dev and test records) or in an evaluation file. Empty when the config names none.
    """
    d = config.data
    if not d.threshold_labels:
        return []
    if not d.datasets_dir:
        raise ValueError("[data] threshold_labels needs datasets_dir (the corpora its rows point into)")
    heads = heads_by_file(d.threshold_labels, expand(d.threshold_labels), "threshold_labels")
    trained = {p.resolve() for p in expand(d.corpus_labels)}
    used = [f for f in heads if Path(f).resolve() not in trained]
    if len(used) < len(heads):
        log(f"threshold_labels: {len(heads) - len(used)} of {len(heads)} files are also trained on and left out")
    if not used:
        return []
    unused = {f: sorted(set(HEAD_NAMES) - heads[f]) for f in used}
    records = gather([], datasets_dir=d.datasets_dir, corpus_labels=used, ignore_heads=unused,
                     exclude=[*d.exclude, *d.evaluate])
    known = {dedupe_key(r["text"]) for r in held}
    kept = [r for r in records if dedupe_key(r["text"]) not in known]
    log(f"threshold set: {len(kept)} real comments from {len(used)} files "
        f"({len(records) - len(kept)} also in train/dev/test left out)")
    return kept


def _hold_out_dev(records: list[dict], fraction: float, seed: int, log: Callable[[str], None] = lambda _: None,
                  ) -> tuple[list[dict], list[dict]]:
    """``(train, dev)``: a seeded ``fraction`` of ``records`` as dev, stratified by intent where
    every intent has two or more records (scikit-learn's ``train_test_split``); else a plain random
    split, and the log says so. (Saved models' splits are rebuilt with this: it must not change.)"""
    from sklearn.model_selection import train_test_split

    n_dev = int(len(records) * fraction)
    if n_dev < 1 or n_dev == len(records):
        raise DataError(f"{len(records)} training records cannot spare a dev split of {fraction:g}: "
                        f"give [data] dev files (early stopping and calibration need one)")
    strata = [str(r.get("intent")) for r in records]
    try:
        return train_test_split(records, test_size=n_dev, random_state=seed, stratify=strata)
    except ValueError:  # an intent with a single record, or fewer dev rows than intents
        single = sorted(s for s, n in Counter(strata).items() if n < 2 and s != "None")
        why = f"intent {', '.join(single)} has a single record" if single else f"{n_dev} dev records are fewer than the intents"
        log(f"dev: a plain random split, not stratified by intent ({why}): [data] dev = [...] for a split of your own")
        return train_test_split(records, test_size=n_dev, random_state=seed)


def split_data(config: "TrainingConfig", log: Callable[[str], None] = lambda _: None,
               ) -> tuple[list[dict], list[dict], list[dict]]:
    """The train/dev/test records a training config describes, as training sees them.

    With no ``dev`` files, a seeded ``dev_fraction`` of the ``train`` files' records is dev.
    Project-labelled corpus rows are shuffled with the training seed and a
    ``corpus_dev_fraction`` of them joins dev; training records that also occur in
    dev/test, and every evaluation text, are left out. Baselines call this too, so they
    are fitted on exactly the model's training data.
    """
    d = config.data
    exclude = list(d.exclude) + list(d.evaluate)
    train = gather(d.train, exclude=exclude, ignore_heads=d.ignore_heads, log=log, what="train")
    if d.dev or not train:  # with no training records (corpora may bring them), nothing to hold out
        dev = gather(d.dev, exclude=exclude, ignore_heads=d.ignore_heads, log=log, what="dev")
    else:
        train, dev = _hold_out_dev(train, d.dev_fraction, config.training.seed, log)
        log(f"dev: {len(dev)} records ({d.dev_fraction:.0%} of the train files') held out; "
            f"[data] dev = [...] for a fixed split")
    test = gather(d.test, log=log, what="test") if d.test else []
    if d.datasets_dir:
        corpus = gather([], datasets_dir=d.datasets_dir, corpus_labels=d.corpus_labels,
                        corpus_native=d.corpus_native, ignore_heads=d.ignore_heads, exclude=exclude,
                        seed=config.training.seed, log=log, what="corpora")
        rng = random.Random(config.training.seed)
        rng.shuffle(corpus)
        # project-labelled corpus rows give the dev split its real-comment share
        labelled = [r for r in corpus if not r.get("source", "").endswith(":native")]
        n_dev = int(len(labelled) * d.corpus_dev_fraction)
        dev_keys = {id(r) for r in labelled[:n_dev]}
        dev += [r for r in corpus if id(r) in dev_keys]
        train += [r for r in corpus if id(r) not in dev_keys]
        log(f"corpora: {len(corpus)} records ({n_dev} to dev)")
        if d.corpus_unlabeled:
            known = {dedupe_key(r["text"]) for r in train}
            unlabeled = [r for r in gather([], datasets_dir=d.datasets_dir, corpus_unlabeled=d.corpus_unlabeled,
                                           exclude=exclude, seed=config.training.seed)
                         if dedupe_key(r["text"]) not in known]
            train += unlabeled
            log(f"unlabeled corpus texts (teacher's soft labels only): {len(unlabeled)}")
    held = {dedupe_key(r["text"]) for r in dev + test}
    before = len(train)
    train = [r for r in train if dedupe_key(r["text"]) not in held]
    if before != len(train):
        log(f"dropped {before - len(train)} training records that also occur in dev/test")
    if not train:
        raise ValueError("no training records: check [data] train files")
    if not dev:
        raise ValueError(f"no dev records in {', '.join(map(str, d.dev))} (none there, or each left out: an empty "
                         "text, an evaluation text, as said above), and early stopping needs some" if d.dev else
                         "no dev records: early stopping needs [data] dev files")
    return train, dev, test
