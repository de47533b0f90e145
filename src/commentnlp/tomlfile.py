"""Reading the TOML files users write (training configs, playbooks), with errors that say what is wrong."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["read_toml", "tomllib"]


def read_toml(path: str | Path, what: str, error: type[Exception]) -> dict[str, Any]:
    """The TOML file at ``path`` as a dict, or ``error`` with one line naming the problem: missing,
    a directory, not UTF-8, not TOML. ``what`` names the file for the user ("config file")."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{what} not found: {path}") from None
    except IsADirectoryError:
        raise error(f"{what} is a directory, not a TOML file: {path}") from None
    except UnicodeDecodeError as exc:
        raise error(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start + 1})") from None
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path} is not valid TOML: {exc}") from None
    except RecursionError:  # tomllib recurses into nested arrays and tables
        raise error(f"{path} is not a {what} commentnlp reads: its values are nested too deep") from None
