"""Writing files safely: the one way the reconciler writes a file it was asked to write.

``plan --out``, ``drift --out``, ``apply --report`` / ``--manual-steps`` and ``export`` hold names
of customers (and a plan is what an apply acts on), so every write:

* creates a new temporary file in the target's own directory with ``O_CREAT | O_EXCL |
  O_NOFOLLOW`` and mode 0600 from the start: a file or link someone planted under any name is
  never opened, followed or chmod-ed;
* writes and flushes it to disk, then renames it over the target, atomically: a reader sees the
  old file or the new one, never half of it; a link at the target itself is replaced, not
  followed;
* removes the temporary file if anything fails.

:func:`write_files` writes several files so that none is renamed into place unless all of them
were written and ``check`` accepted them.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from reconciler.errors import ConfigError

MODE = 0o600
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
_FLAGS |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


class WriteError(ConfigError):
    """A file could not be written; the message names it and the reason (exit 1)."""


def _temp_name(target: Path) -> Path:
    return target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")


def _write_new(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path``, which must not exist (not even as a dangling link)."""
    fd = os.open(path, _FLAGS, MODE)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _fail(target: Path, err: OSError) -> WriteError:
    reason = err.strerror or str(err)
    return WriteError(f"cannot write {target}: {reason}")


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8), atomically, readable by the owner only."""
    if path.is_dir():
        raise WriteError(f"cannot write {path}: it is a directory")
    tmp = _temp_name(path)
    try:
        _write_new(tmp, text.encode("utf-8"))
        tmp.replace(path)
    except OSError as err:
        _discard(tmp)
        raise _fail(path, err) from err


def _discard(path: Path) -> None:
    path.unlink(missing_ok=True)


def write_files(
    directory: Path,
    files: Mapping[str, str],
    *,
    check: Callable[[dict[str, Path]], None] | None = None,
) -> None:
    """Write ``files`` (name -> text) into ``directory`` all or nothing.

    They are first written into a private staging directory inside ``directory``; ``check`` (if
    given) is called with the staged paths and may raise to refuse them. Only then is each file
    renamed into place. On any failure the staging directory is removed and ``directory`` holds
    what it held before.
    """
    directory.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".staging.", dir=directory))
    try:
        staged = {}
        for name, text in files.items():
            if Path(name).name != name or name in ("", ".", ".."):
                raise WriteError(f"cannot write {name!r}: not a plain file name")
            staged[name] = stage / name
            _write_new(staged[name], text.encode("utf-8"))
        if check is not None:
            check(staged)
        for name, path in staged.items():
            if (directory / name).is_dir():
                raise WriteError(f"cannot write {directory / name}: it is a directory")
            path.replace(directory / name)
    except OSError as err:
        raise _fail(directory, err) from err
    finally:
        shutil.rmtree(stage, ignore_errors=True)
