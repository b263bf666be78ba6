"""Persistence of the emulator state to one JSON file, shared safely between processes.

Every request runs inside :meth:`StateStore.transaction`: an exclusive ``flock`` on
``<state file>.lock``, a reload if another process changed the file since we last saw it, then an
atomic save (temporary file, ``fsync``, ``rename``). With no file the state lives in memory only.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from reconciler.emulator.models import State

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


class StateFileError(ValueError):
    """The state file exists but cannot be read as emulator state."""


class StateStore:
    """Holds the current :class:`State`, backed by ``path`` when one is given."""

    def __init__(self, path: str | os.PathLike[str] | None, factory: Callable[[], State]) -> None:
        self.path = Path(path) if path is not None else None
        self._factory = factory
        self._seen: tuple[int, int, int] | None = None
        self.state: State  # set by open()

    def open(self) -> None:
        """Load the file, or create it from the factory if it is absent or empty."""
        if self.path is None:
            self.state = self._factory()
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._locked():
            if self._file_is_empty():
                self.state = self._factory()
                self._save()
            else:
                self._load()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[State]:
        """The current state, fresh from disk, saved afterwards (even after an error)."""
        if self.path is None:
            yield self.state
            return
        with self._locked():
            if self._stat() != self._seen:
                self._load()
            try:
                yield self.state
            finally:
                self._save()

    def replace(self, state: State) -> None:
        """Swap in a new state (reset/seed); call inside a transaction so it gets saved."""
        self.state = state

    # --- internals ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        assert self.path is not None
        lock_path = self.path.with_name(self.path.name + ".lock")
        # never through a link someone planted; private like the state (which holds keys)
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(lock_path, flags, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _stat(self) -> tuple[int, int, int] | None:
        assert self.path is not None
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _file_is_empty(self) -> bool:
        stat = self._stat()
        return stat is None or stat[2] == 0

    def _load(self) -> None:
        assert self.path is not None
        if self._file_is_empty():
            self.state = self._factory()
            self._save()
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT_VERSION:
                raise ValueError(f"unsupported format {data.get('format')!r}")
            self.state = State.from_plain(data["state"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StateFileError(
                f"{self.path}: not a readable emulator state file ({exc})"
            ) from exc
        self._seen = self._stat()
        log.debug("loaded emulator state from %s", self.path)

    def _save(self) -> None:
        assert self.path is not None
        payload = json.dumps(
            {"format": FORMAT_VERSION, "state": self.state.to_plain()},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        fd, tmp = tempfile.mkstemp(prefix=self.path.name + ".", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            Path(tmp).replace(self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                Path(tmp).unlink()
            raise
        self._seen = self._stat()
