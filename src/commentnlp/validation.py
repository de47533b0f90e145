"""What counts as a number in the values users give (options, settings, config files): one
definition for every check, so that a bool is never a number and a numpy integer is a whole one."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

__all__ = ["is_whole", "is_number"]


def is_whole(value: Any, minimum: int = 0) -> bool:
    """Whether ``value`` is a whole number (numpy's included, a bool not) of at least ``minimum``."""
    return isinstance(value, Integral) and not isinstance(value, bool) and value >= minimum


def is_number(value: Any) -> bool:
    """Whether ``value`` is a real number (a bool is not)."""
    return isinstance(value, Real) and not isinstance(value, bool)
