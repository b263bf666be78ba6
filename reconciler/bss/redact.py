"""Keep secrets out of logs.

Every :class:`~reconciler.bss.credentials.Secret` registers its value here while it is alive, and
:class:`~reconciler.bss.credentials.Credentials` registers its access key with a masked form. The
:class:`SecretFilter` rewrites each log record it sees: registered values are replaced, and the
values of ``Authorization``, ``X-Security-Token`` and ``X-Auth-Token`` headers are blanked
wherever they appear in the message, the formatted traceback or the stack info.

A filter attached to a logger only sees records logged *on that logger*, not those propagated from
children. :func:`install_secret_filter` therefore attaches it to ``reconciler``, to every existing
``reconciler.*`` logger and to the handlers of ``reconciler`` and the root logger; modules of this
package get their logger from :func:`get_logger`, which attaches it too. Code that adds handlers
later (the CLI) should call ``install_secret_filter(handler)``.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from typing import NamedTuple

MASK = "***"
_MANY = 32  # above this many secrets, scan by window instead of one str.replace each

_HEADER_RE = re.compile(
    r"(?i)\b(authorization|x-security-token|x-auth-token)(['\"]?\s*[:=]\s*['\"]?)([^'\"\r\n]+)"
)
#: The start of a :data:`_HEADER_RE` match that more text could complete: the name, then at most
#: its separator, then the end of the text. :func:`scrub_blocks` does not cut a block after it.
_HEADER_OPEN = re.compile(
    r"(?i)\b(?:authorization|x-security-token|x-auth-token)['\"]?\s*(?:[:=]\s*['\"]?)?\Z"
)
#: Characters :func:`scrub_blocks` gathers before it masks and yields a block.
BLOCK = 1 << 16


class _Registry:
    """Live secret values, reference counted, each with the text that replaces it.

    Removals come from ``weakref.finalize`` callbacks, which the garbage collector may run at any
    allocation, even while this thread holds the lock. They therefore only queue the value; the
    queue is applied under the lock by the next :meth:`add` or :meth:`scrub`.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._masks: dict[str, str] = {}
        self._by_length: dict[int, set[str]] = {}
        self._removed: deque[str] = deque()
        self._snapshot: _Snapshot | None = None  # rebuilt after any change

    def add(self, value: str, mask: str = MASK) -> None:
        if len(value) < 4:  # too short to scrub without mangling ordinary text
            return
        with self._lock:
            self._drain()
            self._counts[value] += 1
            self._masks[value] = mask
            self._by_length.setdefault(len(value), set()).add(value)
            self._snapshot = None

    def discard(self, value: str) -> None:
        """Queue one removal of ``value`` (safe to call from a finalizer)."""
        if len(value) >= 4:
            self._removed.append(value)

    def _drain(self) -> None:
        while self._removed:
            self._snapshot = None
            value = self._removed.popleft()
            if self._counts[value] > 1:
                self._counts[value] -= 1
                continue
            self._counts.pop(value, None)
            self._masks.pop(value, None)
            bucket = self._by_length.get(len(value))
            if bucket is not None:
                bucket.discard(value)
                if not bucket:
                    del self._by_length[len(value)]

    def __len__(self) -> int:
        return len(self._masks)

    def snapshot(self) -> _Snapshot:
        """The values registered now, for several :meth:`scrub` calls that must agree."""
        return self._current()

    def _current(self) -> _Snapshot:
        with self._lock:
            self._drain()
            if self._snapshot is None:
                lengths = tuple(sorted(self._by_length, reverse=True))
                buckets = {n: frozenset(self._by_length[n]) for n in lengths}
                ordered = tuple(sorted(self._masks, key=len, reverse=True))
                self._snapshot = _Snapshot(dict(self._masks), ordered, lengths, buckets)
            return self._snapshot

    def scrub(self, text: str, snap: _Snapshot | None = None) -> str:
        """``text`` with the registered values masked (as registered now, or in ``snap``)."""
        if snap is None:
            snap = self._current()
        if not snap.masks:
            return text
        if len(snap.masks) <= _MANY:
            for value in snap.ordered:
                if value in text:
                    text = text.replace(value, snap.masks[value])
            return text
        for n in snap.lengths:
            text = _scan_replace(text, n, snap.buckets[n], snap.masks)
        return text


class _Snapshot(NamedTuple):
    masks: dict[str, str]
    ordered: tuple[str, ...]  # longest first, so a secret containing another is masked whole
    lengths: tuple[int, ...]
    buckets: dict[int, frozenset[str]]


def _scan_replace(text: str, n: int, values: frozenset[str], masks: dict[str, str]) -> str:
    out: list[str] = []
    i = start = 0
    while i + n <= len(text):
        if text[i : i + n] in values:
            out.append(text[start:i])
            out.append(masks[text[i : i + n]])
            i += n
            start = i
        else:
            i += 1
    if not out:
        return text
    out.append(text[start:])
    return "".join(out)


REGISTRY = _Registry()


def register_secret(value: str, mask: str = MASK) -> None:
    """Scrub ``value`` from log records until it is unregistered as often as registered."""
    REGISTRY.add(value, mask)


def unregister_secret(value: str) -> None:
    REGISTRY.discard(value)


def scrub(text: str) -> str:
    """``text`` with registered secrets and sensitive header values masked."""
    return _mask_headers(REGISTRY.scrub(text))


def _mask_headers(text: str) -> str:
    return _HEADER_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)


def scrub_blocks(pieces: Iterable[str], size: int = BLOCK) -> Iterator[str]:
    """:func:`scrub` of ``"".join(pieces)``, the same characters, a block at a time: a plan of
    100,000 customers is printed without its whole text in memory.

    A block is at least ``size`` characters and ends a line (only the last may not), and it is
    cut only where no masking could span the cut: every block is masked with the secrets
    registered when the first is (one snapshot), a cut is never made while a registered value
    holds a line break, nor after a header name still waiting for its value.
    """
    snap = REGISTRY.snapshot()
    whole = any("\n" in value for value in snap.masks)  # a secret may span any cut
    pending: list[str] = []
    count = 0
    for piece in pieces:
        pending.append(piece)
        count += len(piece)
        if whole or count < size or not piece.endswith("\n"):
            continue
        masked = REGISTRY.scrub("".join(pending), snap)
        if _HEADER_OPEN.search(masked) is not None:
            count = 0  # try again a block later (the text so far is masked again then)
            continue
        yield _mask_headers(masked)
        pending, count = [], 0
    if pending:
        yield _mask_headers(REGISTRY.scrub("".join(pending), snap))


class SecretFilter(logging.Filter):
    """Rewrites records so that no registered secret or auth header value reaches a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the raw template
            message = str(record.msg)
        record.msg = scrub(message)
        record.args = None
        if record.exc_info and record.exc_info[0] is not None:
            text = record.exc_text or logging.Formatter().formatException(record.exc_info)
            record.exc_text = scrub(text)
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


_FILTER = SecretFilter()


def _attach(target: logging.Logger | logging.Handler) -> None:
    if _FILTER not in target.filters:
        target.addFilter(_FILTER)


def install_secret_filter(*targets: logging.Logger | logging.Handler) -> SecretFilter:
    """Attach the filter to ``targets``, or by default to the ``reconciler`` logger tree."""
    if targets:
        for target in targets:
            _attach(target)
        return _FILTER
    root = logging.getLogger("reconciler")
    _attach(root)
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if name.startswith("reconciler.") and isinstance(logger, logging.Logger):
            _attach(logger)
    for handler in [*root.handlers, *logging.getLogger().handlers]:
        _attach(handler)
    return _FILTER


#: The name the CLI uses.
install_log_filter = install_secret_filter


def get_logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)`` with the secret filter attached."""
    logger = logging.getLogger(name)
    _attach(logger)
    return logger
