"""The label schema of commentnlp: the one place that defines heads and their values.

Everything else (training targets, model heads, CLI output, evaluation, the
playbook) derives from :data:`HEADS`. See ``LABELING.md`` for what each value means.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from .validation import as_bool, is_missing, is_number

__all__ = [
    "Head",
    "HEADS",
    "HEAD_NAMES",
    "INTENT_PRIORITY",
    "THREAD_POSITIONS",
    "UNSURE",
    "LabelError",
    "parse_label",
    "labels_of",
]


@dataclass(frozen=True)
class Head:
    """One label family: its name and its ordered values (the model's class order)."""

    name: str
    values: tuple[str, ...]
    description: str

    def index(self, value: str) -> int:
        """Class index of ``value`` (raises :class:`LabelError` if unknown)."""
        try:
            return self.values.index(value)
        except ValueError:
            raise LabelError(
                f"{value!r} is not a valid {self.name!r} label; expected one of {', '.join(self.values)}"
            ) from None

    @property
    def is_binary(self) -> bool:
        return self.name == "troll"


HEADS: tuple[Head, ...] = (
    Head("style", ("audience", "community"), "audience = interested, community = invested"),
    Head(
        "intent",
        (
            "where_to_buy",
            "product_question",
            "support_request",
            "feedback",
            "suggestion",
            "social",
            "spam",
        ),
        "what the comment asks of the community manager",
    ),
    Head("sentiment", ("negative", "neutral", "positive"), "the writer's attitude"),
    # troll is boolean in records; its classes are the strings "false"/"true".
    Head("troll", ("false", "true"), "bad-faith comment written to provoke (don't feed it)"),
)

HEAD_NAMES: tuple[str, ...] = tuple(h.name for h in HEADS)
HEADS_BY_NAME: dict[str, Head] = {h.name: h for h in HEADS}

#: When a comment has several intents, the one needing the most specific action wins.
INTENT_PRIORITY: tuple[str, ...] = (
    "support_request",
    "where_to_buy",
    "product_question",
    "suggestion",
    "spam",
    "feedback",
    "social",
)

#: The label of a head whose top score is below its threshold, when a caller asks to abstain.
UNSURE = "unsure"

#: Where a comment sits in its thread, as a model's style offsets are keyed
#: (``config.position_offsets``), and the ``is_reply`` value each stands for.
THREAD_POSITIONS: dict[str, bool] = {"reply": True, "initial": False}


class LabelError(ValueError):
    """A record carries a label value that the schema does not know."""


#: how a spreadsheet or a dataframe writes a boolean ``troll`` label (read case-insensitively)
#: Words read as true and false (any case): ``t``/``f`` as PostgreSQL exports its booleans.
TRUE_WORDS = frozenset({"true", "1", "1.0", "yes", "y", "t"})
FALSE_WORDS = frozenset({"false", "0", "0.0", "no", "n", "f"})


def parse_label(head: str, value: Any) -> str | None:
    """Normalise one record value for ``head`` to a schema string, or ``None`` if unlabeled.

    Labels are read regardless of case, spaces around them, and a space or hyphen for ``_``
    (``"Where to buy"`` is ``where_to_buy``). ``troll`` accepts booleans, 1/0 and the strings
    true/false, 1/0, yes/no. Missing, ``null``, NaN (a dataframe's empty cell) and blank values mean
    "this record does not label that head".
    """
    if is_missing(value) or (isinstance(value, str) and not value.strip()):
        return None
    spec = HEADS_BY_NAME[head]
    if spec.is_binary:
        if as_bool(value) is not None:  # numpy's bool too
            return "true" if value else "false"
        if is_number(value) and value in (0, 1):  # numpy's numbers too
            return "true" if value else "false"
        key = value.strip().lower() if isinstance(value, str) else None
        if key in TRUE_WORDS or key in FALSE_WORDS:
            return "true" if key in TRUE_WORDS else "false"
        raise LabelError(f"{value!r} is not a valid 'troll' label; expected true or false")
    if not isinstance(value, str):
        raise LabelError(f"{value!r} is not a valid {head!r} label; expected a string")
    label = re.sub(r"[\s-]+", "_", value.strip().lower())
    if label not in spec.values:
        spec.index(value)  # raises, naming the labels
    return label


def labels_of(record: Mapping[str, Any]) -> dict[str, str | None]:
    """Validated labels of a LABELING.md record, one entry per head (``None`` = unlabeled)."""
    return {name: parse_label(name, record.get(name)) for name in HEAD_NAMES}


def to_record_value(head: str, value: str) -> Any:
    """Turn a class string back into the record form (``troll`` becomes a bool)."""
    return value == "true" if HEADS_BY_NAME[head].is_binary else value
