"""The write-ahead journal of apply: every write call's intent before it is sent, its outcome after.

One SQLite file (WAL, ``synchronous=FULL``, mode 0600) beside the reconciler's other state:
``$RECONCILER_STATE_DIR/journal.sqlite`` unless ``--journal FILE`` / ``RECONCILER_JOURNAL`` says
otherwise. It never holds a secret: bodies are the API request bodies (ids and amounts as
strings), snapshots are the live objects read before the call.

::

    runs        one row per apply run: who, when, which manifests and plan, how it ended
    operations  one row per write call (a batch): request, pre-state snapshot, state, outcome
    items       one row per reseller / quota / resource inside an operation, with its own state
    changes     one row per plan change of a run: applied | failed | manual | unknown | skipped
    leases      the lease lock of each partner account, with a fencing token that only grows

An operation moves ``intent -> sent -> committed | failed | unknown``, and an open one (intent,
sent or unknown) is ``settled`` later from the API's own records. Its items move
``pending -> committed | failed | unknown -> settled-committed | settled-not-committed``.
The move to ``sent`` re-checks the lease in the same transaction, so a run that lost its lease
never sends another write.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from reconciler.apply.journal_model import (
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
    iso,
    new_id,
)
from reconciler.connect import state_dir
from reconciler.errors import ConfigError, LockHeldError

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
    "journal_path",
    "new_id",
]

JOURNAL_FILE = "journal.sqlite"


def journal_path(option: str | os.PathLike[str] | None = None) -> Path:
    """``--journal FILE``, else ``RECONCILER_JOURNAL``, else the state dir's journal.sqlite."""
    chosen = option or os.environ.get("RECONCILER_JOURNAL") or None
    return Path(chosen) if chosen else state_dir() / JOURNAL_FILE


class Journal:
    """The journal file, opened (and created, mode 0600) on construction."""

    def __init__(self, path: Path, *, clock_time: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock_time = clock_time
        _create_private(path)
        try:
            self._db = sqlite3.connect(str(path), isolation_level=None, timeout=10.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=10000")
            with self.transaction() as db:
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                    (SCHEMA_VERSION,),
                )
        except sqlite3.DatabaseError as err:
            raise ConfigError(f"{path}: not a usable apply journal ({err})") from err

    def close(self) -> None:
        self._db.close()

    def now(self) -> float:
        return self.clock_time()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``: one writer at a time, durable on return."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

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

    def run(self, run_id: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return _row_dict(self._db, row, "runs") if row else None

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
            db.executemany(
                "INSERT INTO items (op_id, item_id, change_key, reseller_id, amount, state)"
                " VALUES (?, ?, ?, ?, ?, 'pending')",
                [(op_id, i.item_id, i.change_key, i.reseller_id, i.amount) for i in spec.items],
            )
        return op_id

    def mark_sent(self, op_id: str, partner_id: str, token: int) -> None:
        """``intent -> sent``, only while this run's lease token is current (fencing).

        The lease is renewed in the same transaction: a lease that ran out while nobody took it
        over is still this run's, and one that was taken over or broken has another token.
        """
        with self.transaction() as db:
            row = db.execute(
                "SELECT token, owner, ttl FROM leases WHERE partner_id = ?", (partner_id,)
            ).fetchone()
            if row is None or row[0] != token or row[1] is None:
                raise LockHeldError(
                    f"this run no longer holds the lease on partner account {partner_id} "
                    "(it was broken or taken over while the run was paused); stopping before "
                    f"the next write. Operation {op_id} was not sent."
                )
            now = self.now()
            db.execute(
                "UPDATE leases SET renewed_at = ?, expires_at = ? WHERE partner_id = ?",
                (now, now + (row[2] or 0.0), partner_id),
            )
            db.execute(
                "UPDATE operations SET state = 'sent', sent_at = ? WHERE op_id = ?",
                (now, op_id),
            )

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
                    " error_code = ?, detail = ? WHERE op_id = ? AND item_id = ?",
                    (out.state, out.quota_id, out.error_code, out.detail, op_id, item_id),
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
        """Refine a committed item after the fact (the reclaimed amount, its record id)."""
        allowed = {"amount", "record_id", "quota_id", "detail"}
        if set(fields) - allowed:
            raise ValueError(f"unknown item fields {sorted(set(fields) - allowed)}")
        assignments = ", ".join(f"{k} = ?" for k in fields)
        with self.transaction() as db:
            db.execute(
                f"UPDATE items SET {assignments} WHERE op_id = ? AND item_id = ?",
                (*fields.values(), op_id, item_id),
            )

    def _close_if_settled(self, db: sqlite3.Connection, op_id: str, by: str) -> None:
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

    def operation(self, op_id: str) -> Operation | None:
        row = self._db.execute("SELECT * FROM operations WHERE op_id = ?", (op_id,)).fetchone()
        return self._operation(row) if row else None

    def operations(
        self,
        *,
        partner_id: str | None = None,
        run_id: str | None = None,
        open_only: bool = False,
        limit: int | None = None,
    ) -> list[Operation]:
        """Operations in the order they were recorded (newest last)."""
        where, args = ["1 = 1"], []
        if partner_id is not None:
            where.append("partner_id = ?")
            args.append(partner_id)
        if run_id is not None:
            where.append("run_id = ?")
            args.append(run_id)
        if open_only:
            where.append(
                "(state IN (?, ?, ?) OR op_id IN (SELECT op_id FROM items WHERE state IN (?, ?)))"
            )
            args += [*OPEN_OP_STATES, *OPEN_ITEM_STATES]
        sql = f"SELECT * FROM operations WHERE {' AND '.join(where)} ORDER BY seq"
        rows = self._db.execute(sql, args).fetchall()
        if limit is not None:
            rows = rows[-limit:]
        return [self._operation(row) for row in rows]

    def change_keys_written(self, run_id: str) -> set[str]:
        """Keys of the changes this run recorded at least one write intent for."""
        rows = self._db.execute(
            "SELECT DISTINCT i.change_key FROM items i JOIN operations o ON o.op_id = i.op_id"
            " WHERE o.run_id = ?",
            (run_id,),
        ).fetchall()
        return {r[0] for r in rows}

    def attributed_record_ids(self, partner_id: str) -> set[str]:
        """Quota-record ids already attributed to an item (each record proves one call)."""
        rows = self._db.execute(
            "SELECT i.record_id FROM items i JOIN operations o ON o.op_id = i.op_id"
            " WHERE o.partner_id = ? AND i.record_id IS NOT NULL",
            (partner_id,),
        ).fetchall()
        return {r[0] for r in rows}

    def _operation(self, row: sqlite3.Row | tuple[Any, ...]) -> Operation:
        data = _row_dict(self._db, row, "operations")
        items = self._db.execute(
            "SELECT op_id, item_id, change_key, reseller_id, amount, state, quota_id, record_id,"
            " error_code, detail FROM items WHERE op_id = ? ORDER BY rowid",
            (data["op_id"],),
        ).fetchall()
        return Operation(
            op_id=data["op_id"],
            seq=data["seq"],
            run_id=data["run_id"],
            partner_id=data["partner_id"],
            operation=data["operation"],
            target=data["target"],
            request=json.loads(data["request"]),
            pre_state=json.loads(data["pre_state"]),
            state=data["state"],
            outcome=json.loads(data["outcome"]) if data["outcome"] else None,
            error_code=data["error_code"],
            request_id=data["request_id"],
            intent_at=data["intent_at"],
            sent_at=data["sent_at"],
            finished_at=data["finished_at"],
            settled_by=data["settled_by"],
            items=tuple(Item(*r) for r in items),
        )

    # -- changes -----------------------------------------------------------------------------

    def record_change(
        self, run_id: str, key: str, *, kind: str, action: str, subject: str, status: str,
        detail: Sequence[str],
    ) -> None:  # fmt: skip
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO changes (run_id, change_key, kind, action, subject,"
                " status, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (run_id, key, kind, action, subject, status, _dumps(list(detail))),
            )

    def changes(self, run_id: str) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT change_key, kind, action, subject, status, detail FROM changes"
            " WHERE run_id = ? ORDER BY rowid",
            (run_id,),
        ).fetchall()
        keys = ("key", "kind", "action", "subject", "status", "detail")
        return [{**dict(zip(keys, r, strict=True)), "detail": json.loads(r[5])} for r in rows]

    # -- leases (see reconciler.apply.lease) ----------------------------------------------------

    def lease_row(self, db: sqlite3.Connection, partner_id: str) -> dict[str, Any] | None:
        row = db.execute("SELECT * FROM leases WHERE partner_id = ?", (partner_id,)).fetchone()
        return _row_dict(db, row, "leases") if row else None

    def lease_rows(self) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT * FROM leases ORDER BY partner_id").fetchall()
        return [_row_dict(self._db, row, "leases") for row in rows]


_COLUMNS: dict[str, list[str]] = {}


def _row_dict(db: sqlite3.Connection, row: Any, table: str) -> dict[str, Any]:
    names = _COLUMNS.get(table)
    if names is None:
        names = _COLUMNS[table] = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
    return dict(zip(names, row, strict=True))


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _create_private(path: Path) -> None:
    """Create the file (and its folder) readable by the owner only, before SQLite opens it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
