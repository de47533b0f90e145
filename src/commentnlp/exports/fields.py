"""Text and reply fields: which field of a record holds the comment's text, and whether the record is a reply."""

from __future__ import annotations

import contextlib
import functools
import json
import re
from typing import Any, Iterable, Mapping

from ..preprocessing import blank_kind, is_blank
from ..schema import FALSE_WORDS, THREAD_POSITIONS, TRUE_WORDS
from ..validation import as_bool, is_missing, is_number


#: Field names tried, in order, when no text field is given: the usual ones, then those of
#: Facebook comment scrapes (``comment_text``), Twitter's API and tweet datasets (``full_text``,
#: ``tweet_text``), YouTube's API (``textOriginal``; not ``textDisplay``, which is HTML) and
#: product Q&A (``question``). A name matches in any case and spelling: ``Message``,
#: ``commentText`` and ``Comment Text`` match too.
TEXT_FIELDS = ("text", "message", "comment", "body", "content", "comment_text", "full_text", "tweet_text",
               "text_original", "question")

#: Dotted paths tried when a record has none of :data:`TEXT_FIELDS`: YouTube's Data API
#: ``commentThreads`` and ``comments`` resources.
NESTED_TEXT_FIELDS = ("snippet.topLevelComment.snippet.textOriginal", "snippet.textOriginal")

#: Fields that tell whether a record is a reply in a thread, tried in order (``reply_of``):
#: a flag, a kind (Facebook exports' ``comment_type``: "initial" or "reply"), or a parent's id
#: (Facebook ``parent_id``, YouTube ``parentId``, X/Twitter ``in_reply_to_status_id``), or the
#: parent itself (Facebook's Graph API: ``"parent": {"id": ...}`` on a reply, null on a top-level comment).
REPLY_FIELDS = ("is_reply", "comment_type", "parent_id", "parentId", "in_reply_to_status_id",
                "in_reply_to_status_id_str", "parent")
_REPLY_KINDS = {**THREAD_POSITIONS, "comment": False, "top-level": False, "top_level": False}
#: A parent id that says "no parent" as database exports write it (SQL's NULL, psql's \\N, "N/A").
_NO_PARENT = frozenset({"", "null", "none", "nil", "\\n", "n/a", "na", "nan", "-", "undefined"})


@functools.lru_cache(maxsize=4096)  # the same few field names, record after record
def _field_key(name: str) -> str:
    """``"Comment Text"``, ``"commentText"``, ``"comment_text"`` -> ``"commenttext"``."""
    return _NOT_ALNUM.sub("", name.lower())


_NOT_ALNUM = re.compile(r"[^0-9a-z]")


def first_field(names: Iterable[str], candidates: tuple[str, ...]) -> str | None:
    """The first of ``candidates`` among ``names``, spelt as listed; else the first name that matches
    one in any case and spelling (``Message``, ``commentText``), in the candidates' order."""
    found = next((f for f in candidates if f in names), None)
    if found is None:
        by_key: dict[str, str] = {}
        for name in names:
            if isinstance(name, str):
                by_key.setdefault(_field_key(name), name)
        found = next((by_key[k] for k in map(_field_key, candidates) if k in by_key), None)
    return found


@functools.lru_cache(maxsize=1024)  # the records of an export share their fields
def field_among(names: tuple[str, ...], candidates: tuple[str, ...]) -> str | None:
    """:func:`first_field`, remembered for the field names records share (a record's ``tuple(record)``)."""
    return first_field(names, candidates)


def text_field_in(names: Iterable[str]) -> str | None:
    """The first of :data:`TEXT_FIELDS` among ``names``, as :func:`first_field` finds it."""
    return first_field(names, TEXT_FIELDS)


def text_of(record: dict[str, Any], text_field: str | None = None) -> tuple[str | None, str | None]:
    """The comment text of an export record: ``(text, None)``, or ``(None, why it has none)``.

    ``text_field`` names the field, or a field of nested objects by its dotted path (YouTube's
    API: ``snippet.topLevelComment.snippet.textOriginal``); by default :func:`text_field_in` finds it.
    """
    if text_field is not None:
        name = text_field
        if text_field in record:
            value = record[text_field]
        else:
            value = _nested(record, text_field, cells=True)
            if value is _MISSING:
                return None, f"no {text_field!r} field"
    else:
        name = text_field_in(record)
        if name is not None:
            value = record[name]
        else:  # a resource of YouTube's Data API holds its text in nested objects
            name, value = next(((path, found) for path in NESTED_TEXT_FIELDS
                                if (found := _nested(record, path, cells=True)) is not _MISSING), (None, None))
            if name is None:
                return None, f"no text field (looked for {', '.join(TEXT_FIELDS)})"
    if not isinstance(value, str):
        return None, f"{name!r} is {'null' if _missing(value) else type(value).__name__}, not a string"
    if is_blank(value):
        return None, f"{name!r} is {blank_kind(value)}"
    return value, None


_MISSING = object()


def _missing(value: Any) -> bool:
    """Whether a value stands for a missing one: null, NaN (JSON's, or pandas'), pandas' NA."""
    return is_missing(value) or type(value).__name__ == "NAType"


def _nested(record: Mapping[str, Any], path: str, cells: bool = False) -> Any:
    """The value at a dotted path of nested objects (``a.b.c``), or ``_MISSING``; with ``cells``,
    an object on the way may be a CSV cell holding it as JSON, as ``label`` writes one (YouTube's
    ``snippet`` column)."""
    value: Any = record
    for key in path.split("."):
        if cells and isinstance(value, str) and value.startswith("{"):
            with contextlib.suppress(ValueError, RecursionError):
                value = json.loads(value)
        if not isinstance(value, Mapping) or key not in value:
            return _MISSING
        value = value[key]
    return value


def reply_of(record: Mapping[str, Any]) -> bool | None:
    """Whether a record is a reply to another comment (True), a top-level comment (False), or unknown (None).

    Read from the first of :data:`REPLY_FIELDS` present (:func:`reply_field_in`: also in any case and
    spelling, as a sheet names it: ``Is Reply``, ``Parent ID``): ``is_reply`` (a bool, 1/0, 1.0/0.0 as
    pandas writes a numeric column with nulls, or "true"/"false" in a CSV), ``comment_type``
    ("reply" or "initial"), or a parent id (empty, null, NaN, a number equal to 0, or the word
    NULL, ``\\N``, N/A or None: the usual "no parent" of database exports: top level). A value it cannot read gives None, so the text
    alone decides.
    """
    found = reply_field_in(record)
    return None if found is None else reply_value(found[1], record[found[0]])


#: the one of :data:`REPLY_FIELDS` a field name stands for, by its spelling-free key (``parentId``: ``parent_id``)
_REPLY_KINDS_BY_KEY = {_field_key(f): f for f in reversed(REPLY_FIELDS)}


def reply_field_in(names: Iterable[str]) -> tuple[str, str] | None:
    """``(field, kind)``: the first of :data:`REPLY_FIELDS` among ``names``, as :func:`first_field`
    finds it (``Is Reply``, ``Parent ID``), and the one of :data:`REPLY_FIELDS` it stands for."""
    found = field_among(tuple(names), REPLY_FIELDS)
    return None if found is None else (found, _REPLY_KINDS_BY_KEY[_field_key(found)])


def reply_value(name: str, value: Any) -> bool | None:
    """:func:`reply_of` for the value of one of :data:`REPLY_FIELDS`, ``name``."""
    if isinstance(value, str):  # a CSV's cells, most JSON: read first, with no other type to tell
        word = value.strip().lower()
        if name == "comment_type":
            return _REPLY_KINDS.get(word)
        if name == "is_reply":
            if word in TRUE_WORDS or word in FALSE_WORDS:
                return word in TRUE_WORDS
            number = _number_in(word)
            return None if number not in (0.0, 1.0) else number == 1.0  # NaN is in neither
        if name == "parent":
            return None
        number = _number_in(word)
        return word not in _NO_PARENT if number is None else not (number == 0 or number != number)
    flag = as_bool(value)
    if name == "comment_type":
        return None
    if name == "is_reply":
        return flag if flag is not None else (None if not is_number(value) or value not in (0, 1) else bool(value == 1))
    if name == "parent":  # Graph API's parent comment object; another kind of "parent" says nothing
        return bool(value) if isinstance(value, Mapping) else False if is_missing(value) else None
    if is_missing(value) or flag is not None:
        return None if flag is not None else False
    return bool(value != 0) if is_number(value) else True  # 0 or 0.0: no parent


def _number_in(word: str) -> float | None:
    """A numeric string as a number ("0.0" in a CSV written by pandas from a column with nulls), else None."""
    if not word or not (word[0].isdigit() or word[0] in "+-.in"):  # most ids are not numbers: no exception for them
        return None
    try:
        return float(word)
    except ValueError:
        return None
