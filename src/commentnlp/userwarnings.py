"""Warnings that name the user's line: the first caller outside commentnlp, however deep in the package
the warning is raised (``classify`` -> ``predict`` -> ... or ``evaluate`` -> ``read_labeled`` -> ...)."""

from __future__ import annotations

import os
import sys
import warnings

__all__ = ["warn"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep  # not a sibling named commentnlp_tools/


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn(message, category)`` at the first frame outside this package."""
    frame, level = sys._getframe(0), 1  # stacklevel 1 is this function's frame
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
