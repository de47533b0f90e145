"""Checks of the values users give (options, settings, config files): what counts as a number, one
definition for every check, so that a bool is never a number and a numpy integer is a whole one;
and the name a misspelt one was meant to be."""

from __future__ import annotations

import difflib
from numbers import Integral, Real
from typing import Any, Iterable

__all__ = ["is_whole", "is_number", "is_missing", "as_bool", "did_you_mean"]


def is_whole(value: Any, minimum: int = 0) -> bool:
    """Whether ``value`` is a whole number (numpy's included, a bool not) of at least ``minimum``."""
    return isinstance(value, Integral) and not isinstance(value, bool) and value >= minimum


def is_number(value: Any) -> bool:
    """Whether ``value`` is a real number (a bool is not)."""
    return isinstance(value, Real) and not isinstance(value, bool)


def is_missing(value: Any) -> bool:
    """Whether a value stands for none: null, NaN (a dataframe's empty cell, JSON's NaN), or
    pandas' ``NA``/``NaT`` (the empty cell of a nullable column)."""
    return value is None or (is_number(value) and value != value) or type(value).__name__ in ("NAType", "NaTType")


def as_bool(value: Any) -> bool | None:
    """A boolean value as a bool (numpy's too), else None (an array of them too)."""
    numpy_bool = getattr(getattr(value, "dtype", None), "kind", "") == "b" and getattr(value, "ndim", 0) == 0
    return bool(value) if isinstance(value, bool) or numpy_bool else None


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'epochs'?)`` for the choice closest to a misspelt ``name`` (any case), or ``""``."""
    choices = list(choices)
    close = difflib.get_close_matches(name.lower(), [c.lower() for c in choices], n=1)
    return f" (did you mean {next(c for c in choices if c.lower() == close[0])!r}?)" if close else ""
