"""What the readers give: an :class:`Item` per input record, and :class:`InputError` for an unreadable input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping


@dataclass
class Item:
    """One input record: its line (or, in a JSON array, its position), the record to write back, and
    why it cannot be labelled (if so)."""

    line: int
    record: dict[str, Any]
    error: str | None = None
    where: str = "line"  # "item" in a JSON array: errors say "item 3: ..."


def _item(position: int, value: Any) -> Item:
    """A record given as a parsed value (an element of a JSON array, or of what a caller passes
    :func:`label_records`): errors name its position, ``item N``."""
    if isinstance(value, Item):
        return value
    if isinstance(value, Mapping):
        return Item(position, dict(value), where="item")
    return Item(position, {"raw": value}, f"not a JSON object (got {type(value).__name__})", where="item")


class InputError(ValueError):
    """The input export cannot be read (unreadable file, corrupt or truncated gzip)."""
