"""Part files, scratch files and the checkpoints that let an interrupted run resume (never written through a link)."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
from pathlib import Path
from typing import IO, Any, Iterator


def _open_text_out(path: Path, gz: bool, append: bool, part: bool = False) -> IO[str]:
    """A text stream writing ``path`` (gzipped); a ``part`` file is never opened through a link."""
    mode = "a" if append else "w"
    return _text_out(_open_scratch(path, append) if part else open(path, mode + "b"), gz, mode)


def _open_scratch(path: Path, append: bool = False) -> IO[bytes]:
    """A file of this run's own (a part file, a checkpoint) opened to write, never through a link: one
    planted at its name (a shared folder) was written through, into the file it names."""
    _no_link_at(path)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC) | getattr(os, "O_NOFOLLOW", 0)
    return os.fdopen(os.open(path, flags, 0o666), "ab" if append else "wb")


@contextlib.contextmanager
def output_lock(out: Path) -> Iterator[None]:
    """Hold ``.<name>.lock`` beside an output while a run writes it: a second run writing the same output
    at the same time (a job started twice) is refused with an OSError. It truncated the first run's part
    file, whose output then began with thousands of NUL bytes, and the first run exited 0."""
    _check_name_length(out)
    lock = out.with_name(f".{out.name}.lock")
    while True:
        _no_link_at(lock)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o666)
        if not _locked(fd):
            os.close(fd)
            raise OSError(f"another run is writing {out} now (it holds {lock}); wait for it to end, "
                          "or give another output")
        if _is_at(fd, lock):
            break
        os.close(fd)  # the lock of a run that ended and deleted it meanwhile: take the one there now
    deleted = False
    try:
        try:
            yield
        finally:
            with contextlib.suppress(PermissionError):  # Windows deletes no file its process holds open
                lock.unlink(missing_ok=True)  # while still held: a run that starts now makes a lock of its own
                deleted = True
    finally:
        os.close(fd)
        if not deleted:
            with contextlib.suppress(OSError):
                lock.unlink(missing_ok=True)


#: The longest name a run writes beside its output: the checkpoint's, while it is replaced.
_LONGEST_SCRATCH = ".{}.part.json.tmp"


def _check_name_length(out: Path) -> None:
    """A ValueError, before any labelling, when the files a run keeps beside ``out`` would have names
    too long for its folder (a legal 248-character output name failed after the first chunk)."""
    longest = _LONGEST_SCRATCH.format(out.name)
    try:
        limit, unit = os.pathconf(out.parent, "PC_NAME_MAX"), "bytes"
        length = len(longest.encode("utf-8", "surrogateescape"))
    except (AttributeError, OSError, ValueError):  # Windows: 255 UTF-16 units
        limit, unit, length = 255, "characters", len(longest.encode("utf-16-le", "surrogatepass")) // 2
    if length > limit:
        raise ValueError(f"the output name is too long ({len(out.name)} characters): label keeps files beside it "
                         f"while it writes whose names are {len(longest) - len(out.name)} longer, over the {limit} "
                         f"{unit} a name may have there; give a shorter -o")


def _is_at(fd: int, path: Path) -> bool:
    """Whether the file open as ``fd`` is the one at ``path`` (not one deleted since it was opened)."""
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except OSError:
        return False


def _locked(fd: int) -> bool:
    """Whether this process now holds an exclusive lock on ``fd`` (False: another one holds it)."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:  # a file system without locks (some network mounts): the run goes on unguarded
        return True
    return True


def _no_link_at(path: Path) -> None:
    """Refuse a file of this run's own that is a link."""
    if path.is_symlink():
        raise OSError(f"{path} is a link, not a file label writes: delete it and run again")


def _text_out(raw: IO[bytes], gz: bool, mode: str) -> IO[str]:
    if gz:  # no time or name in the gzip header (the name was the .part file's): the same labels give the same bytes
        compressed = gzip.GzipFile(filename="", mode=mode + "b", fileobj=raw, mtime=0)
        compressed.myfileobj = raw  # closed with it, as a file GzipFile opens itself
        return io.TextIOWrapper(compressed, encoding="utf-8", newline="")
    return io.TextIOWrapper(raw, encoding="utf-8", newline="")


def _read_checkpoint(part: Path) -> dict[str, Any] | None:
    ck = part.with_name(part.name + ".json")
    if not (part.is_file() and ck.is_file()):
        return None
    try:
        data = json.loads(ck.read_text(encoding="utf-8"))
        return data if isinstance(data.get("records"), int) and isinstance(data.get("chars"), int) else None
    except (OSError, ValueError):
        return None


def _write_checkpoint(part: Path, records: int, chars: int, columns: list[str] | None,
                      run: dict[str, Any] | None = None, counts: dict[str, Any] | None = None) -> None:
    ck = part.with_name(part.name + ".json")
    tmp = ck.with_name(ck.name + ".tmp")  # the longest name kept beside the output: _LONGEST_SCRATCH
    with _open_scratch(tmp) as f:
        f.write(json.dumps({"records": records, "chars": chars, "columns": columns, "run": run, "counts": counts}).encode())
    os.replace(tmp, ck)


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=list).encode()).hexdigest()[:20]


def _run_identity(input_path: str | Path, classifier, text_field: str | None, abstain: bool = False,
                  encoding: str | None = None, sheet: str | None = None) -> dict[str, Any]:
    """What an interrupted run must share with its ``--resume``, so that one output never mixes two
    kinds of answers: the input (its size and the hash of its first MiB; stdin cannot be checked),
    the model's weights, its decision settings (calibration, thresholds, thread offsets: config.json),
    the backend, the playbook, the text field, whether it abstains, the input's encoding and sheet."""
    from ..serialization import model_fingerprint

    model_dir = getattr(classifier, "model_dir", None)
    config, playbook = getattr(classifier, "config", None), getattr(classifier, "playbook", None)
    run: dict[str, Any] = {
        "model": model_fingerprint(model_dir) if model_dir else None, "text_field": text_field,
        "decisions": _digest(config.to_dict()) if config is not None else None,
        "backend": getattr(classifier, "backend_name", None),
        "playbook": _digest([[[r.id, r.when, r.action] for r in playbook.rules], playbook.links]) if playbook else None,
        "abstain": abstain, "encoding": encoding, "sheet": sheet,
    }
    if str(input_path) != "-":
        with open(input_path, "rb") as f:
            run["input"] = [os.fstat(f.fileno()).st_size, hashlib.sha256(f.read(1 << 20)).hexdigest()[:20]]
    return run


def _check_resumable(checkpoint: dict[str, Any], run: dict[str, Any], part: Path) -> None:
    """A ValueError unless ``checkpoint`` was written by a run like ``run`` (old checkpoints pass)."""
    was = checkpoint.get("run")
    if not isinstance(was, dict):
        return
    what = {"input": "another input file", "model": "another model", "text_field": "another --text-field",
            "decisions": "other decision settings of the model (config.json: thresholds, calibration)",
            "backend": "another --backend", "playbook": "another --playbook", "abstain": "another --abstain",
            "encoding": "another --encoding", "sheet": "another --sheet"}
    # a key an older checkpoint lacks is not checked
    changed = [why for key, why in what.items() if key in was and was[key] != run.get(key)]
    if changed:
        raise ValueError(f"cannot resume: the interrupted run ({part}) labelled with {' and '.join(changed)}; "
                         "run without --resume to start over")


def _restore_part(part: Path, gz: bool, chars: int) -> None:
    """Cut the partial output back to the last checkpoint (``chars`` characters of text)."""
    fresh = part.with_name(part.name + ".restore")
    opener = (lambda p, m: gzip.open(p, m + "b")) if gz else (lambda p, m: open(p, m + "b"))
    with io.TextIOWrapper(opener(part, "r"), encoding="utf-8", newline="") as src, \
            _open_text_out(fresh, gz, append=False, part=True) as dst:
        remaining = chars
        while remaining > 0:
            try:
                block = src.read(min(remaining, 1 << 20))
            except EOFError:  # a compressed stream cut mid-write: what was flushed is intact
                break
            if not block:
                break
            dst.write(block)
            remaining -= len(block)
    if remaining > 0:
        raise ValueError(f"cannot resume: {part} is shorter than its checkpoint says")
    os.replace(fresh, part)
