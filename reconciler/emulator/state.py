"""Persistence of the emulator state: a snapshot plus a log of changes, shared between processes.

With a state file ``FILE`` there are three files:

* ``FILE``, the **snapshot**: ``{"format": 2, "id": ..., "state": ...}``, written atomically
  (temporary file, ``fsync``, ``rename``) when the state is created, replaced (reset, seed) or
  compacted;
* ``FILE.log``, the **change log**: a first line naming the snapshot it continues, then one JSON
  line per request that changed something (:mod:`reconciler.emulator.changes`: the objects it
  wrote, the keys it removed, the items it appended, the call-log entry), ``fsync``'d when it holds
  more than the call log and counters;
* ``FILE.lock``.

Every request runs inside :meth:`StateStore.transaction`: an exclusive ``flock`` on the lock file,
then catching up with what other processes wrote since (a new snapshot is loaded; new log lines
are applied), then the request, then its delta appended. A read costs a few small appends instead
of rewriting the world. When the log outgrows the snapshot (and is over 1 MB) the state is
written as a new snapshot and the log starts again. A log whose first line names another
snapshot is left over from a compaction that was interrupted, and ignored; a half-written last
line (a crash mid-append) is ignored and cut off by the next write. With no file the state
lives in memory only.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from reconciler.emulator import changes, codec
from reconciler.emulator.models import State

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
#: Snapshots this version reads (1: before the change log; same state layout).
READABLE_FORMATS = (1, 2)
#: The log is compacted into a new snapshot once it is larger than the snapshot and this.
COMPACT_MIN_BYTES = 1 << 20
_LOG_ONLY = frozenset({"calls", "counters", "calls_len"})
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)

Stat = tuple[int, int, int]


class StateFileError(ValueError):
    """The state file exists but cannot be read as emulator state."""


class StateStore:
    """Holds the current :class:`State`, backed by ``path`` when one is given."""

    def __init__(self, path: str | os.PathLike[str] | None, factory: Callable[[], State]) -> None:
        self.path = Path(path) if path is not None else None
        self._factory = factory
        self._seen: Stat | None = None  # the snapshot as last loaded or written
        self._snapshot_id: str | None = None
        self._log_offset = 0  # bytes of the log applied to self.state
        self._log_seen: Stat | None = None  # the log as last read or written
        self._log_current = False  # the log continues our snapshot
        self.state: State  # set by open()

    @property
    def log_path(self) -> Path:
        assert self.path is not None
        return self.path.with_name(self.path.name + ".log")

    def open(self) -> None:
        """Load the files, or create them from the factory if the snapshot is absent or empty."""
        if self.path is None:
            self.state = self._factory()
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._locked():
            self._load()
        changes.install()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[State]:
        """The current state, up to date with the files; its changes are saved afterwards (even
        after an error)."""
        if self.path is None:
            yield self.state
            return
        with self._locked():
            if _stat(self.path) != self._seen:
                self._load()
            else:
                self._catch_up()
            tracker = changes.Tracker(self.state)
            try:
                with changes.tracking(tracker):
                    yield self.state
            finally:
                delta = tracker.delta(self.state)
                if delta is None:
                    self._write_snapshot()
                elif delta:
                    self._append(delta)

    def replace(self, state: State) -> None:
        """Swap in a new state (reset/seed); call inside a transaction so it gets saved."""
        self.state = state

    # --- reading --------------------------------------------------------------------------------
    def _load(self) -> None:
        """The snapshot, then the log that continues it."""
        assert self.path is not None
        stat = _stat(self.path)
        if stat is None or stat[2] == 0:
            self.state = self._factory()
            self._write_snapshot()
            return
        try:
            data = json.loads(self.path.read_bytes())
            if data.get("format") not in READABLE_FORMATS:
                raise ValueError(f"unsupported format {data.get('format')!r}")
            state = codec.load_state(data["state"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise StateFileError(
                f"{self.path}: not a readable emulator state file ({exc})"
            ) from exc
        changes.adopt(state)
        self.state = state
        self._snapshot_id = data.get("id")
        self._seen = stat
        self._log_offset = 0
        self._log_seen = None
        self._log_current = False
        self._catch_up()
        log.debug("loaded emulator state from %s", self.path)

    def _catch_up(self) -> None:
        """Apply the log lines written since we last looked (by another process)."""
        path = self.log_path
        stat = _stat(path)
        if stat == self._log_seen:
            return
        if stat is None or stat[2] < self._log_offset:  # gone or cut back: start again
            self._seen = None
            self._load()
            return
        with os.fdopen(_open(path, os.O_RDONLY), "rb") as handle:
            handle.seek(self._log_offset)
            data = handle.read()
        self._log_seen = stat
        end = data.rfind(b"\n") + 1  # a last line without its newline is not finished
        lines = data[:end].splitlines()
        try:
            if not self._log_current:
                # A log left by a compaction that did not finish continues an older snapshot:
                # ignore it (the next write starts a new one).
                if not lines:
                    return  # nothing finished yet (a new log cut short)
                header = json.loads(lines[0])
                if not isinstance(header, dict) or "snapshot" not in header:
                    raise ValueError("its first line does not name a snapshot")
                if header["snapshot"] != self._snapshot_id:
                    return
                self._log_current = True
            else:
                lines.insert(0, b"")
            for line in lines[1:]:
                changes.apply(self.state, json.loads(line))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise StateFileError(f"{path}: not a readable emulator change log ({exc})") from exc
        self._log_offset += end

    # --- writing --------------------------------------------------------------------------------
    def _append(self, delta: dict[str, Any]) -> None:
        """One request's changes at the end of the log (a new log if it is not ours)."""
        data = (json.dumps(delta, ensure_ascii=False, separators=(",", ":"),
                           default=codec.json_default) + "\n").encode()  # fmt: skip
        if not self._log_current:
            self._new_log(data)
        else:
            if self._log_seen is not None and self._log_seen[2] != self._log_offset:
                os.truncate(self.log_path, self._log_offset)  # a torn last line from a crash
            fd = _open(self.log_path, os.O_WRONLY | os.O_APPEND)
            try:
                os.write(fd, data)
                if not _LOG_ONLY.issuperset(_touched(delta)):
                    os.fsync(fd)
            finally:
                os.close(fd)
            self._log_offset += len(data)
            self._log_seen = _stat(self.log_path)
        seen = self._seen[2] if self._seen is not None else 0
        if self._log_offset > max(COMPACT_MIN_BYTES, seen):
            self._write_snapshot()

    def _new_log(self, first: bytes = b"") -> None:
        header = json.dumps({"snapshot": self._snapshot_id}).encode() + b"\n"
        with os.fdopen(_open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), "wb") as handle:
            handle.write(header + first)
            handle.flush()
            os.fsync(handle.fileno())
        self._log_offset = len(header) + len(first)
        self._log_seen = _stat(self.log_path)
        self._log_current = True

    def _write_snapshot(self) -> None:
        """The whole state as a new snapshot, then an empty log that continues it."""
        assert self.path is not None
        snapshot_id = uuid.uuid4().hex
        payload = json.dumps(
            {"format": FORMAT_VERSION, "id": snapshot_id, "state": codec.dump_state(self.state)},
            ensure_ascii=False,
            separators=(",", ":"),
            default=codec.json_default,
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
        changes.adopt(self.state)
        self._snapshot_id = snapshot_id
        self._seen = _stat(self.path)
        self._new_log()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        assert self.path is not None
        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = _open(lock_path, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def _open(path: Path, flags: int) -> int:
    """Never through a link someone planted; private like the state (which holds keys)."""
    return os.open(path, flags | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o600)


def _stat(path: Path) -> Stat | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _touched(delta: dict[str, Any]) -> set[str]:
    """The state fields a delta writes."""
    names = {"calls_len"} if "calls_len" in delta else set()
    for key in ("set", "put", "del", "append"):
        names.update(delta.get(key, ()))
    return names
