"""The write-ahead journal of apply: every write call's intent before it is sent, its outcome after.

It lives in a :class:`~reconciler.apply.store.Store`: one SQLite file (WAL, ``synchronous=FULL``,
mode 0600) beside the reconciler's other state, ``$RECONCILER_STATE_DIR/journal.sqlite``, unless
``--journal`` / ``RECONCILER_JOURNAL_URL`` / ``RECONCILER_JOURNAL`` name another file or a shared
PostgreSQL database (``postgresql://...``). Same schema, same rules either way. It never holds a
secret: bodies are the API request bodies (ids and amounts as strings), snapshots are the live
objects read before the call.

::

    runs        one row per apply run: who, when, which manifests and plan, how it ended
    operations  one row per write call (a batch): request, pre-state snapshot, state, attempts
    items       one row per reseller / quota / resource inside an operation, with its own state
    changes     one row per plan change of a run: applied | failed | manual | unknown | ...
    leases      the lease lock of each partner account, with a fencing token that only grows
    operators   the account name the API records this reconciler's calls under, per partner

An operation moves ``intent -> sent -> committed | failed | unknown``, and an open one (intent,
sent or unknown) is ``settled`` later from the API's own records. Its items move
``pending -> committed | failed | unknown -> settled-committed | settled-not-committed``.
Every send attempt (the first and each retry) is marked in the transaction that re-checks the
lease's fencing token, so a run that lost its lease never sends another attempt.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from reconciler.apply.journal_model import (
    ADDED_COLUMNS,
    COMMITTED_ITEM_STATES,
    OPEN_ITEM_STATES,
    OPEN_OP_STATES,
    SCHEMA,
    SCHEMA_VERSION,
    Item,
    ItemOutcome,
    ItemSpec,
    Operation,
    OpSpec,
    fenced_message,
    iso,
    new_id,
)
from reconciler.apply.journal_queries import JournalQueries
from reconciler.apply.store import Store, Tx, journal_location, open_store
from reconciler.errors import LockHeldError

__all__ = [
    "COMMITTED_ITEM_STATES",
    "OPEN_ITEM_STATES",
    "OPEN_OP_STATES",
    "Item",
    "ItemOutcome",
    "ItemSpec",
    "Journal",
    "OpSpec",
    "Operation",
    "iso",
    "journal_location",
    "new_id",
]


class Journal(JournalQueries):
    """The journal, opened (and its schema created or brought up to date) on construction."""

    def __init__(self, store: Store, *, clock_time: Callable[[], float] = time.time) -> None:
        super().__init__(store)
        self.location = store.location
        self.clock_time = clock_time
        with self.transaction() as db:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?)"
                " ON CONFLICT (key) DO NOTHING",
                (SCHEMA_VERSION,),
            )
        self._migrate()

    @classmethod
    def open(
        cls, location: str | os.PathLike[str], *, clock_time: Callable[[], float] = time.time
    ) -> Journal:
        return cls(open_store(location), clock_time=clock_time)

    def _migrate(self) -> None:
        """Add the columns a journal made by an older version lacks."""
        missing = [a for a in ADDED_COLUMNS if a[1] not in self.store.columns(a[0])]
        if not missing:
            return
        with self.transaction() as db:
            for table, column, decl in missing:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")
            db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (SCHEMA_VERSION,))

    def reopen(self) -> Journal:
        """The same journal on a second connection (for another thread)."""
        return Journal(self.store.reopen(), clock_time=self.clock_time)

    def close(self) -> None:
        self.store.close()

    def now(self) -> float:
        return self.clock_time()

    def lease_clock(self, db: Tx) -> float:
        """The clock leases expire by, inside ``db``: the database server's for PostgreSQL (one
        clock for every machine that shares the journal, whatever theirs say), this process's
        for SQLite (whose journal only this machine's processes share)."""
        server = self.store.server_time(db)
        return self.now() if server is None else server

    def transaction(self) -> Any:
        """One exclusive write transaction, durable on return (see the store)."""
        return self.store.transaction()

    # -- runs --------------------------------------------------------------------------------

    def start_run(
        self, run_id: str, *, partner_id: str, endpoint: str, owner: str, token: int
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO runs (run_id, partner_id, endpoint, owner, lease_token, started_at,"
                " status) VALUES (?, ?, ?, ?, ?, ?, 'running')",
                (run_id, partner_id, endpoint, owner, token, iso(self.now())),
            )

    def update_run(self, run_id: str, **fields: Any) -> None:
        allowed = {"manifest_checksum", "plan_checksum", "status", "summary", "finished_at"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"unknown run fields {sorted(unknown)}")
        if not fields:
            return
        values = [json.dumps(v) if k == "summary" else v for k, v in fields.items()]
        assignments = ", ".join(f"{k} = ?" for k in fields)
        with self.transaction() as db:
            db.execute(f"UPDATE runs SET {assignments} WHERE run_id = ?", (*values, run_id))

    # -- operations --------------------------------------------------------------------------

    def record_intent(
        self, run_id: str, partner_id: str, token: int, spec: OpSpec, *, op_id: str | None = None
    ) -> str:
        """Write the intent (and its items) durably; returns the operation id."""
        op_id = op_id or new_id("op")
        with self.transaction() as db:
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM operations").fetchone()[0]
            db.execute(
                "INSERT INTO operations (op_id, seq, run_id, partner_id, lease_token, operation,"
                " target, request, pre_state, state, intent_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'intent', ?)",
                (
                    op_id, seq, run_id, partner_id, token, spec.operation, spec.target,
                    _dumps(spec.request), _dumps(spec.pre_state), self.now(),
                ),
            )  # fmt: skip
            for pos, i in enumerate(spec.items):
                db.execute(
                    "INSERT INTO items (op_id, item_id, change_key, reseller_id, amount, state,"
                    " pos) VALUES (?, ?, ?, ?, ?, 'pending', ?)",
                    (op_id, i.item_id, i.change_key, i.reseller_id, i.amount, pos),
                )
        return op_id

    def mark_attempt(self, op_id: str, partner_id: str, token: int, attempt: int) -> float:
        """Send attempt number ``attempt`` is about to go out: only while this run's lease token
        is current (fencing). Returns the mark's time.

        Marks the operation ``sent`` (first send time kept, last send time updated) and renews
        the lease in the same transaction: a lease that ran out while nobody took it over is
        still this run's; one that was taken over or broken has another token, and then nothing
        is marked and :class:`LockHeldError` says so.
        """
        with self.transaction() as db:
            row = db.execute(
                "SELECT token, owner, run_id, note, ttl FROM leases WHERE partner_id = ?",
                (partner_id,),
            ).fetchone()
            if row is None or row[0] != token or row[1] is None:
                held = None if row is None else tuple(row[:4])
                raise LockHeldError(fenced_message(partner_id, token, held, op_id, attempt))
            leased = self.lease_clock(db)
            db.execute(
                "UPDATE leases SET renewed_at = ?, expires_at = ? WHERE partner_id = ?",
                (leased, leased + (row[4] or 0.0), partner_id),
            )
            now = self.now()
            db.execute(
                "UPDATE operations SET state = 'sent', sent_at = COALESCE(sent_at, ?),"
                " last_sent_at = ?, attempts = CASE WHEN attempts > ? THEN attempts ELSE ? END"
                " WHERE op_id = ?",
                (now, now, attempt, attempt, op_id),
            )
        return now

    def note_refused(self, op_id: str) -> None:
        """A marked attempt was answered with a refusal that proves it was not executed."""
        with self.transaction() as db:
            db.execute("UPDATE operations SET refused = refused + 1 WHERE op_id = ?", (op_id,))

    def record_outcome(
        self,
        op_id: str,
        state: str,
        items: Mapping[str, ItemOutcome],
        *,
        error_code: str | None = None,
        request_id: str | None = None,
        detail: str | None = None,
    ) -> None:
        """The answer (or its absence): the operation's state and each item's."""
        with self.transaction() as db:
            db.execute(
                "UPDATE operations SET state = ?, error_code = ?, request_id = ?, outcome = ?,"
                " finished_at = ? WHERE op_id = ?",
                (
                    state, error_code, request_id, _dumps({"detail": detail}) if detail else None,
                    self.now(), op_id,
                ),
            )  # fmt: skip
            for item_id, out in items.items():
                db.execute(
                    "UPDATE items SET state = ?, quota_id = COALESCE(?, quota_id),"
                    " record_id = COALESCE(?, record_id), error_code = ?, detail = ?"
                    " WHERE op_id = ? AND item_id = ?",
                    (
                        out.state,
                        out.quota_id,
                        out.record_id,
                        out.error_code,
                        out.detail,
                        op_id,
                        item_id,
                    ),
                )

    def settle_item(
        self,
        op_id: str,
        item_id: str,
        *,
        committed: bool,
        by: str,
        detail: str,
        record_id: str | None = None,
        quota_id: str | None = None,
        amount: str | None = None,
    ) -> None:
        """Settle one open item; the operation becomes ``settled`` once none is open."""
        state = "settled-committed" if committed else "settled-not-committed"
        with self.transaction() as db:
            db.execute(
                "UPDATE items SET state = ?, detail = ?, record_id = COALESCE(?, record_id),"
                " quota_id = COALESCE(?, quota_id), amount = COALESCE(?, amount)"
                " WHERE op_id = ? AND item_id = ?",
                (state, detail, record_id, quota_id, amount, op_id, item_id),
            )
            self._close_if_settled(db, op_id, by)

    def update_item(self, op_id: str, item_id: str, **fields: str | None) -> None:
        """Refine an item after the fact (the reclaimed amount, its record id, a detail)."""
        allowed = {"amount", "record_id", "quota_id", "detail"}
        if set(fields) - allowed:
            raise ValueError(f"unknown item fields {sorted(set(fields) - allowed)}")
        assignments = ", ".join(f"{k} = ?" for k in fields)
        with self.transaction() as db:
            db.execute(
                f"UPDATE items SET {assignments} WHERE op_id = ? AND item_id = ?",
                (*fields.values(), op_id, item_id),
            )

    def _close_if_settled(self, db: Tx, op_id: str, by: str) -> None:
        open_items = db.execute(
            "SELECT COUNT(*) FROM items WHERE op_id = ? AND state IN (?, ?)",
            (op_id, *OPEN_ITEM_STATES),
        ).fetchone()[0]
        if open_items == 0:
            db.execute(
                "UPDATE operations SET state = CASE WHEN state IN (?, ?, ?) THEN 'settled'"
                " ELSE state END, settled_at = ?, settled_by = ? WHERE op_id = ?",
                (*OPEN_OP_STATES, self.now(), by, op_id),
            )

    # -- changes -----------------------------------------------------------------------------

    def record_change(
        self, run_id: str, key: str, *, kind: str, action: str, subject: str, status: str,
        detail: Sequence[str],
    ) -> None:  # fmt: skip
        with self.transaction() as db:
            pos = db.execute("SELECT COUNT(*) FROM changes WHERE run_id = ?", (run_id,)).fetchone()
            db.execute(
                "INSERT INTO changes (run_id, change_key, kind, action, subject, status, detail,"
                " pos) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, change_key)"
                " DO UPDATE SET status = excluded.status, detail = excluded.detail",
                (run_id, key, kind, action, subject, status, _dumps(list(detail)), pos[0]),
            )

    # -- who the API says we are ---------------------------------------------------------------

    def learn_operator(self, partner_id: str, operator: str, learned_from: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO operators (partner_id, operator, learned_from, learned_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (partner_id) DO UPDATE SET"
                " operator = excluded.operator, learned_from = excluded.learned_from,"
                " learned_at = excluded.learned_at",
                (partner_id, operator, learned_from, self.now()),
            )


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
