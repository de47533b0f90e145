"""Which processes run, and the folders that processes gone (killed) left behind: the chunk files of
``label --workers`` and half-built graphs in the cache are named by the process that writes them."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Iterable


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (another user's counts)."""
    if os.name == "nt":  # signal 0 is CTRL_C_EVENT there: an error for a process gone, a Ctrl-C for a live one
        import _winapi

        try:
            handle = _winapi.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        except OSError as exc:
            return getattr(exc, "winerror", None) == 5  # access denied: it runs, as another user's
        try:
            return _winapi.GetExitCodeProcess(handle) == 259  # STILL_ACTIVE
        finally:
            _winapi.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's
        return True
    return True


def sweep_left_behind(folders: Iterable[str | Path], prefix: str, older_than: float) -> None:
    """Remove the ``folders`` named ``<prefix><pid>-...`` whose process is gone (or that name none) and
    that were untouched for ``older_than`` seconds: a folder shared with other machines' processes
    (containers) holds theirs too."""
    for folder in folders:
        pid = Path(folder).name[len(prefix):].split("-", 1)[0]
        try:
            if (not pid.isdigit() or not alive(int(pid))) and time.time() - os.path.getmtime(folder) > older_than:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:  # swept by another process meanwhile
            pass
