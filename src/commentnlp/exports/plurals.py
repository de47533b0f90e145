"""plural: a count and its noun (``"2 replies"``), as the messages of readers, writers and summaries say it."""

from __future__ import annotations


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """``"1 reply"``, ``"2 replies"``, ``"1,024 comments"``: a count and its noun, for messages."""
    return f"{n:,} {noun if n == 1 else nouns or noun + 's'}"
