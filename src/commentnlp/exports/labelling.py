"""Labelling records chunk by chunk (:func:`label_records`), their output records, and a run's :class:`LabelSummary`."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from ..schema import HEAD_NAMES
from ..validation import is_whole
from .fields import reply_of, text_of
from .items import Item, _item
from .writers import OUTPUT_FIELDS


#: Records per chunk, with or without worker processes: the output is checkpointed after each one,
#: and the model's batches are formed within it (sorted by length), so a comment's batch-mates, and
#: with them its int8 scores, are the same either way.
CHUNK = 4096


@dataclass
class LabelSummary:
    """What a labelling run did: counts, the reasons for errors, where the output went."""

    total: int = 0
    resumed: int = 0
    labeled: int = 0
    errors: int = 0
    blank_lines: int = 0
    reasons: Counter = field(default_factory=Counter)
    #: records per suggested action (the playbook rule's id), of the records labelled (before an
    #: interruption too, when resumed)
    actions: Counter = field(default_factory=Counter)
    #: how the input was read, where it is not one record per line or row (API responses)
    notes: list[str] = field(default_factory=list)
    output: str = ""
    seconds: float = 0.0

    def add(self, other: "LabelSummary") -> None:
        """Add the counts of ``other`` (a part of the same run) to these."""
        self.total += other.total
        self.labeled += other.labeled
        self.errors += other.errors
        self.reasons.update(other.reasons)
        self.actions.update(other.actions)

    def counts(self) -> dict[str, Any]:
        """The counts a checkpoint keeps (a resumed run's summary covers the whole output), and a
        worker process sends with a chunk."""
        return {"labeled": self.labeled, "errors": self.errors, "reasons": dict(self.reasons),
                "actions": dict(self.actions)}

    def restore(self, counts: Mapping[str, Any]) -> None:
        """Take the counts of :meth:`counts` (an interrupted run's, as this run's start; a chunk's)."""
        labeled, errors = int(counts["labeled"]), int(counts["errors"])  # all read before any is taken
        reasons, actions = Counter(counts["reasons"]), Counter(counts["actions"])
        self.labeled, self.errors, self.reasons, self.actions = labeled, errors, reasons, actions

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "resumed": self.resumed, "labeled": self.labeled, "errors": self.errors, "blank_lines": self.blank_lines,
                "reasons": dict(self.reasons), "actions": dict(self.actions), "notes": self.notes, "output": self.output,
                "seconds": round(self.seconds, 2)}


def replies_to_label(items: Iterable[Item]) -> list[bool | None]:
    """:func:`reply_of` of each item that can be labelled (no ``error``), aligned with :func:`texts_to_label`."""
    return [reply_of(item.record) for item in items if item.error is None]


def label_records(
    items: Iterable[Item | Mapping[str, Any]],
    classifier,
    *,
    text_field: str | None = None,
    batch_size: int | None = None,
    summary: LabelSummary | None = None,
    chunk: int = CHUNK,
    abstain: bool = False,
) -> Iterator[dict[str, Any]]:
    """Yield one output record per input record, in order: a copy with ``labels``, ``scores`` and
    ``action`` added, or with an ``error`` (``"item 3: 'message' is null, not a string"``).

    Records are dicts as an export holds them (the text field found as ``label`` finds it, the
    thread position read from their reply fields), or :class:`Item` s, or a pandas (or polars)
    DataFrame's rows; they are read lazily, in
    chunks of ``chunk``. ``abstain``: a head below the model's threshold is labelled ``"unsure"``.
    ``classifier``: a :class:`~commentnlp.Classifier`, or a model as ``classify`` takes it (None: the
    default model, a bundled model's name or a directory), loaded once per process."""
    if not is_whole(chunk, 1):  # 0 gave no records at all, silently
        raise ValueError(f"chunk must be a whole number >= 1, not {chunk!r}")
    if classifier is None or isinstance(classifier, (str, Path)):
        from ..classifier import load_cached

        classifier = load_cached(classifier)
    items = rows_of(items)
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable):
        given = "one record: pass a list of them, [record]" if isinstance(items, Mapping) else type(items).__name__
        raise TypeError(f"records must be dicts (an iterable of them), got {given}"
                        + (" (texts are labelled with classify)" if isinstance(items, str) else ""))
    summary = summary if summary is not None else LabelSummary()
    numbered = (_item(i, v) for i, v in enumerate(items, 1))
    chunks = labelled_chunks(numbered, classifier, text_field=text_field, batch_size=batch_size, summary=summary,
                             chunk=chunk, abstain=abstain)
    return (record for records in chunks for record in records)


def labelled_chunks(items: Iterable[Item], classifier, *, text_field: str | None, batch_size: int | None,
                    summary: LabelSummary, chunk: int, abstain: bool = False) -> Iterator[list[dict[str, Any]]]:
    """The output records of each chunk of ``chunk`` items, in order, labelled in this process."""
    for block in chunked(items, chunk):
        texts = texts_to_label(block, text_field)
        predictions = classifier.predict(texts, batch_size=batch_size, abstain=abstain, is_reply=replies_to_label(block))
        yield output_records(block, predictions, summary)


def chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive lists of ``size`` items (the last one shorter)."""
    it = iter(items)
    while block := list(islice(it, size)):
        yield block


def rows_of(items: Any) -> Any:
    """A pandas or polars DataFrame as its rows (dicts), anything else as it is (iterated, a DataFrame gives its
    column names)."""
    if hasattr(items, "columns") and hasattr(items, "to_dicts"):  # polars
        return items.to_dicts()
    if hasattr(items, "columns") and hasattr(items, "to_dict"):  # pandas
        return items.to_dict("records")
    return items


def texts_to_label(items: Iterable[Item], text_field: str | None) -> list[str]:
    """The texts of the items that can be labelled, in order; any other item gets its ``error`` set."""
    texts = []
    for item in items:
        if item.error is None:
            text, reason = text_of(item.record, text_field)
            if reason:
                item.error = reason
            else:
                texts.append(text)
    return texts


def output_records(items: Iterable[Item], predictions: Iterable, summary: LabelSummary) -> list[dict[str, Any]]:
    """Each item's record plus its prediction (one per item without an ``error``, in order) or its error."""
    predicted = iter(predictions)
    records = []
    for item in items:
        summary.total += 1
        out = _without_earlier_output(item.record)
        if item.error is not None:
            summary.errors += 1
            summary.reasons[item.error.split(" (")[0]] += 1
            out["error"] = f"{item.where} {item.line}: {item.error}"
        else:
            p = next(predicted)
            summary.labeled += 1
            out["labels"] = p.labels
            out["scores"] = p.scores
            out["action"] = p.action
            summary.actions[p.action_id] += 1
        records.append(out)
    return records


_OUR_ERROR = re.compile(r"(line|item) \d+: ")
_HEAD_SET = frozenset(HEAD_NAMES)


def _without_earlier_output(record: dict[str, Any]) -> dict[str, Any]:
    """A copy of an input record ready for this run's fields: what an earlier ``label`` run wrote
    (labelling its output again) is dropped, so a record is never both labelled and in error; an
    input field of the same name that ``label`` did not write is kept as ``<name>.input``."""
    if not any(name in record for name in OUTPUT_FIELDS):  # nearly every record: nothing to sort out
        return dict(record)
    labels = record.get("labels")
    ours = isinstance(labels, dict) and bool(labels) and labels.keys() <= _HEAD_SET
    earlier = {
        "labels": ours,
        "scores": isinstance(record.get("scores"), dict) and record["scores"].keys() <= _HEAD_SET,
        "action": ours and isinstance(record.get("action"), str),
        "error": isinstance(record.get("error"), str) and _OUR_ERROR.match(record["error"]) is not None,
    }
    return {(f"{k}.input" if k in OUTPUT_FIELDS else k): v for k, v in record.items() if not earlier.get(k)}
