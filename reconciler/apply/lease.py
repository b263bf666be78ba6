"""The lease lock: at most one apply per partner account at a time.

The lease is a row of the journal's ``leases`` table: owner (``user@host pid N``), run id, start,
expiry. A running apply renews it from a heartbeat thread every third of its time to live. Each
acquisition increments the row's fencing token; the journal refuses to mark a send attempt
(the first or a retry) unless the token is still the current one, so a run that was paused past
its lease and then resumed stops before its next attempt instead of racing the run that took
over. With a PostgreSQL journal the lease and its token live in the shared database, so they
reach every machine that applies to the account.

Expiry and renewal are on the journal's lease clock (:meth:`Journal.lease_clock`): the database
server's for PostgreSQL, so a machine whose clock runs ahead cannot see a live holder's lease as
expired; this machine's for SQLite.

A lease is free when nobody holds it, when it has expired, or when its holder's process is
provably gone: it ran on this host, in this PID namespace of this running kernel (the boot id
and the ``/proc/self/ns/pid`` inode recorded with the holder match ours), and no process has its
PID. A PID means nothing outside its namespace (a container, ``unshare --pid``), so when the
namespace differs or is unknown the lease is left to expire. Anything else is broken only on
purpose: ``reconciler unlock --force``. The lease row's ``note`` says how the lease left its
previous holder (taken over after it expired, its process gone, broken by unlock), so a run that
finds itself fenced says why.
"""

from __future__ import annotations

import getpass
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from reconciler.apply.journal import Journal, iso
from reconciler.apply.store import Tx
from reconciler.errors import LockHeldError

log = logging.getLogger(__name__)

DEFAULT_TTL = 300.0
#: How the note of a lease broken by ``reconciler unlock`` begins.
BROKEN = "broken at"


BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def process_namespace() -> str | None:
    """Where this process's PID means something: ``<boot id>/pid:[<inode>]`` (the running
    kernel and its PID namespace), or ``None`` where that cannot be read (not Linux)."""
    try:
        boot = BOOT_ID.read_text(encoding="ascii").strip()
        namespace = str(Path("/proc/self/ns/pid").readlink())
    except (OSError, UnicodeDecodeError):
        return None
    return f"{boot}/{namespace}" if boot and namespace else None


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
    pidns: str | None = None  # see process_namespace()

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
            pidns=row.get("pidns"),
        )

    def describe(self) -> str:
        return (
            f"{self.owner} (run {self.run_id}), started {iso(self.acquired_at)}, "
            f"lease until {iso(self.expires_at)}"
        )

    def expired(self, now: float) -> bool:
        """``now``: the journal's lease clock (:meth:`Journal.lease_clock`)."""
        return self.expires_at <= now

    def free(self, now: float) -> str | None:
        """Why another run may take this lease now, or ``None`` while it is held."""
        if self.expired(now):
            return (
                f"its lease had expired at {iso(self.expires_at)} on the journal's clock (no "
                "heartbeat or send renewed it: that run was paused, stalled or cut off from the "
                "journal)"
            )
        if self.gone():
            return "its process is gone (it ran on this host, in this PID namespace)"
        return None

    def gone(self) -> bool:
        """True only when the holder ran on this host, in this PID namespace of this running
        kernel, and no process has its PID there. Unknown namespace: False (expiry decides)."""
        if self.host != socket.gethostname() or not self.pid or self.pid == os.getpid():
            return False
        here = process_namespace()
        if here is None or self.pidns != here:
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


def live_holder(journal: Journal, partner_id: str) -> Holder | None:
    """Who holds ``partner_id``'s lease now, unless it is free (expired, or its process gone)."""
    with journal.transaction() as db:
        row = lease_row(db, partner_id)
        now = journal.lease_clock(db)
    holder = Holder.from_row(row) if row and row["owner"] else None
    return holder if holder is not None and holder.free(now) is None else None


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
            now = journal.lease_clock(db)
            previous = Holder.from_row(row) if row and row["owner"] else None
            why = previous.free(now) if previous is not None else None
            if previous is not None and why is None:
                raise LockHeldError(held_message(previous))
            # How the lease left its previous holder, for that run's fencing message. A lease
            # that run released keeps no note; one broken by unlock keeps the note unlock wrote.
            kept = str(row.get("note") or "") if row and previous is None else ""
            note = kept if kept.startswith(BROKEN) else None
            if previous is not None:
                note = (
                    f"took over the lease at {iso(now)} from token {previous.token} "
                    f"({previous.owner}, run {previous.run_id}): {why}"
                )
            token = (row["token"] if row else 0) + 1
            db.execute(
                "INSERT INTO leases (partner_id, token, owner, host, pid, run_id, acquired_at,"
                " renewed_at, expires_at, ttl, pidns, note)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (partner_id) DO UPDATE SET token = excluded.token,"
                " owner = excluded.owner, host = excluded.host, pid = excluded.pid,"
                " run_id = excluded.run_id, acquired_at = excluded.acquired_at,"
                " renewed_at = excluded.renewed_at, expires_at = excluded.expires_at,"
                " ttl = excluded.ttl, pidns = excluded.pidns, note = excluded.note",
                (
                    partner_id, token, owner, host, pid, run_id, now, now, now + ttl, ttl,
                    process_namespace(), note,
                ),
            )  # fmt: skip
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
            now = journal.lease_clock(db)
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
            # The note stays: a run this one took the lease from may resume and read why.
            db.execute(
                "UPDATE leases SET owner = NULL, host = NULL, pid = NULL, expires_at = NULL,"
                " pidns = NULL WHERE partner_id = ? AND token = ?",
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
        now = journal.lease_clock(db)
        why = holder.free(now)
        if not force and why is None:
            raise LockHeldError(
                f"the lease on partner account {partner_id} is held by {holder.describe()} and "
                "has not expired. If that run is really gone, pass --force."
            )
        how = "reconciler unlock --force" if force else "reconciler unlock"
        note = f"{BROKEN} {iso(now)} by `{how}` ({identity()[0]})" + (f": {why}" if why else "")
        db.execute(
            "UPDATE leases SET owner = NULL, host = NULL, pid = NULL, expires_at = NULL,"
            " pidns = NULL, note = ? WHERE partner_id = ?",
            (note, partner_id),
        )
    return holder
