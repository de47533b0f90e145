"""commentnlp: label comments on brand posts (style, intent, sentiment, troll) and suggest what to do.

>>> from commentnlp import classify
>>> classify("Do you ship to Canada??").intent
'where_to_buy'
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

# ONNX Runtime (1.29 on) sends usage telemetry by default and, with a read-only home, warns on every run;
# commentnlp runs offline: off, unless the environment says otherwise (read when onnxruntime is imported)
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

__version__ = "0.1.0"

# a library logs to the "commentnlp" logger and leaves its handlers to the application
logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "__version__",
    "classify",
    "Classifier",
    "Prediction",
    "HEADS",
    "HEAD_NAMES",
    "Playbook",
    "normalize",
    "is_blank",
    "PREPROCESSING_VERSION",
]

# Heavy modules (torch, transformers) load on first use, so `import commentnlp` stays cheap.
_LAZY = {
    "classify": "classifier",
    "Classifier": "classifier",
    "Prediction": "classifier",
    "HEADS": "schema",
    "HEAD_NAMES": "schema",
    "Playbook": "playbook",
    "normalize": "preprocessing",
    "is_blank": "preprocessing",
    "PREPROCESSING_VERSION": "preprocessing",
}

if TYPE_CHECKING:  # pragma: no cover
    from .classifier import Classifier, Prediction, classify
    from .playbook import Playbook
    from .preprocessing import PREPROCESSING_VERSION, is_blank, normalize
    from .schema import HEAD_NAMES, HEADS


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'commentnlp' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names too, before their first use (``dir()``, completion in a shell or notebook)."""
    return sorted(set(globals()) | set(__all__))
