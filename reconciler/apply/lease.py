"""The lease lock: at most one apply per partner account at a time.

The lease is a row of the journal's ``leases`` table: owner (``user@host pid N``), run id, start,
expiry. A running apply renews it from a heartbeat thread every third of its time to live. Each
acquisition increments the row's fencing token; the journal refuses to mark a send attempt
(the first or a retry) unless the token is still the current one, so a run that was paused past
its lease and then resumed stops before its next attempt instead of racing the run that took
over. With a PostgreSQL journal the lease and its token live in the shared database, so they
reach every machine that applies to the account.

A lease is free when nobody holds it, when it has expired, or when its holder ran on this host
and its process is gone (a crash). Anything else is broken only on purpose:
``reconciler unlock --force``.
"""

from __future__ import annotations

import getpass
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from reconciler.apply.journal import Journal, iso
from reconciler.apply.store import Tx
from reconciler.errors import LockHeldError

log = logging.getLogger(__name__)

DEFAULT_TTL = 300.0


def identity() -> tuple[str, str, int]:
    """``(owner, host, pid)`` of this process; the owner reads ``user@host pid N``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    host = socket.gethostname()
    pid = os.getpid()
    return f"{user}@{host} pid {pid}", host, pid


@dataclass(frozen=True)
class Holder:
    """Who holds (or last held) a partner account's lease."""

    partner_id: str
    token: int
    owner: str
    host: str | None
    pid: int | None
    run_id: str | None
    acquired_at: float
    expires_at: float

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Holder:
        return cls(
            partner_id=row["partner_id"],
            token=row["token"],
            owner=row["owner"],
            host=row["host"],
            pid=row["pid"],
            run_id=row["run_id"],
            acquired_at=row["acquired_at"] or 0.0,
            expires_at=row["expires_at"] or 0.0,
        )

    def describe(self) -> str:
        return (
            f"{self.owner} (run {self.run_id}), started {iso(self.acquired_at)}, "
            f"lease until {iso(self.expires_at)}"
        )

    def expired(self, now: float) -> bool:
        return self.expires_at <= now

    def gone(self) -> bool:
        """True when the holder ran on this host and its process no longer exists."""
        if self.host != socket.gethostname() or not self.pid or self.pid == os.getpid():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False


def held_message(holder: Holder) -> str:
    return (
        f"partner account {holder.partner_id} is locked by another apply: {holder.describe()}. "
        "No write was made. Wait for that run to finish. If it is no longer running, "
        "`reconciler unlock` frees the lease once it has expired, and "
        "`reconciler unlock --force` frees it now (only when you are sure that run is gone: "
        "its open operations are then settled by the next apply)."
    )


def lease_row(db: Tx, partner_id: str) -> dict[str, Any] | None:
    cur = db.execute("SELECT * FROM leases WHERE partner_id = ?", (partner_id,))
    row = cur.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cur.description], row, strict=True))


def lease_rows(journal: Journal) -> list[dict[str, Any]]:
    return journal.store.records("SELECT * FROM leases ORDER BY partner_id")


def current_holder(journal: Journal, partner_id: str) -> Holder | None:
    with journal.transaction() as db:
        row = lease_row(db, partner_id)
    return Holder.from_row(row) if row and row["owner"] else None


class Lease:
    """A held lease; use as a context manager, or call :meth:`release`."""

    def __init__(
        self, journal: Journal, partner_id: str, token: int, run_id: str, ttl: float
    ) -> None:
        self.journal = journal
        self.partner_id = partner_id
        self.token = token
        self.run_id = run_id
        self.ttl = ttl
        self.lost = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def acquire(
        cls,
        journal: Journal,
        partner_id: str,
        run_id: str,
        *,
        ttl: float = DEFAULT_TTL,
        notify: Callable[[str], None] = lambda _msg: None,
    ) -> Lease:
        """Take the lease, or raise :class:`LockHeldError` naming the holder."""
        owner, host, pid = identity()
        with journal.transaction() as db:
            row = lease_row(db, partner_id)
            now = journal.now()
            previous = Holder.from_row(row) if row and row["owner"] else None
            why = None
            if previous is not None:
                if previous.expired(now):
                    why = "its lease had expired"
                elif previous.gone():
                    why = "its process is gone"
                else:
                    raise LockHeldError(held_message(previous))
            token = (row["token"] if row else 0) + 1
            db.execute(
                "INSERT INTO leases (partner_id, token, owner, host, pid, run_id, acquired_at,"
                " renewed_at, expires_at, ttl) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (partner_id) DO UPDATE SET token = excluded.token,"
                " owner = excluded.owner, host = excluded.host, pid = excluded.pid,"
                " run_id = excluded.run_id, acquired_at = excluded.acquired_at,"
                " renewed_at = excluded.renewed_at, expires_at = excluded.expires_at,"
                " ttl = excluded.ttl",
                (partner_id, token, owner, host, pid, run_id, now, now, now + ttl, ttl),
            )
        if previous is not None:
            notify(f"Took over the lease of {previous.describe()}: {why}.")
        lease = cls(journal, partner_id, token, run_id, ttl)
        lease._start_heartbeat()
        return lease

    def _start_heartbeat(self) -> None:
        self._thread = threading.Thread(
            target=self._beat, name=f"lease-heartbeat-{self.run_id}", daemon=True
        )
        self._thread.start()

    def _beat(self) -> None:
        beats = self.journal.reopen()
        try:
            while not self._stop.wait(self.ttl / 3):
                if not self._renew(beats):
                    self.lost = True
                    log.warning("lost the lease on partner account %s", self.partner_id)
                    return
        finally:
            beats.close()

    def _renew(self, journal: Journal) -> bool:
        with journal.transaction() as db:
            now = journal.now()
            cur = db.execute(
                "UPDATE leases SET renewed_at = ?, expires_at = ?"
                " WHERE partner_id = ? AND token = ? AND owner IS NOT NULL",
                (now, now + self.ttl, self.partner_id, self.token),
            )
            return bool(cur.rowcount == 1)

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self.journal.transaction() as db:
            db.execute(
                "UPDATE leases SET owner = NULL, host = NULL, pid = NULL, expires_at = NULL"
                " WHERE partner_id = ? AND token = ?",
                (self.partner_id, self.token),
            )

    def __enter__(self) -> Lease:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def break_lease(journal: Journal, partner_id: str, *, force: bool) -> Holder | None:
    """Free a partner account's lease; without ``force`` only an expired or orphaned one."""
    with journal.transaction() as db:
        row = lease_row(db, partner_id)
        holder = Holder.from_row(row) if row and row["owner"] else None
        if holder is None:
            return None
        if not force and not holder.expired(journal.now()) and not holder.gone():
            raise LockHeldError(
                f"the lease on partner account {partner_id} is held by {holder.describe()} and "
                "has not expired. If that run is really gone, pass --force."
            )
        db.execute(
            "UPDATE leases SET owner = NULL, host = NULL, pid = NULL, expires_at = NULL"
            " WHERE partner_id = ?",
            (partner_id,),
        )
    return holder
