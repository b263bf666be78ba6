"""What the apply journal answers (:class:`~reconciler.apply.journal.Journal` writes it): runs,
operations with their items, the changes of a run, the records already attributed to our calls,
and the operator the API records our calls under. Reads only, each from one query."""

from __future__ import annotations

import json
from typing import Any

from reconciler.apply.journal_model import OPEN_ITEM_STATES, OPEN_OP_STATES, Item, Operation
from reconciler.apply.store import Store


class JournalQueries:
    """The journal's reads, over its store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def run(self, run_id: str) -> dict[str, Any] | None:
        rows = self.store.records("SELECT * FROM runs WHERE run_id = ?", (run_id,))
        return rows[0] if rows else None

    def operation(self, op_id: str) -> Operation | None:
        rows = self.store.records("SELECT * FROM operations WHERE op_id = ?", (op_id,))
        return self._operation(rows[0]) if rows else None

    def operations(
        self,
        *,
        partner_id: str | None = None,
        run_id: str | None = None,
        open_only: bool = False,
        limit: int | None = None,
        target: str | None = None,
        sent_since: float | None = None,
    ) -> list[Operation]:
        """Operations in the order they were recorded (newest last)."""
        where: list[str] = ["1 = 1"]
        args: list[Any] = []
        for column, value in (("partner_id", partner_id), ("run_id", run_id), ("target", target)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if sent_since is not None:
            where.append("(sent_at >= ? OR last_sent_at >= ?)")
            args += [sent_since, sent_since]
        if open_only:
            where.append(
                "(state IN (?, ?, ?) OR op_id IN (SELECT op_id FROM items WHERE state IN (?, ?)))"
            )
            args += [*OPEN_OP_STATES, *OPEN_ITEM_STATES]
        sql = f"SELECT * FROM operations WHERE {' AND '.join(where)} ORDER BY seq"
        rows = self.store.records(sql, args)
        if limit is not None:
            rows = rows[-limit:]
        return [self._operation(row) for row in rows]

    def change_keys_written(self, run_id: str) -> set[str]:
        """Keys of the changes this run recorded at least one write intent for."""
        rows = self.store.rows(
            "SELECT DISTINCT i.change_key FROM items i JOIN operations o ON o.op_id = i.op_id"
            " WHERE o.run_id = ?",
            (run_id,),
        )
        return {r[0] for r in rows}

    def attributed_record_ids(
        self, partner_id: str, *, finished_before: float | None = None
    ) -> set[str]:
        """Quota-record ids already attributed to an item (each record proves one call); with
        ``finished_before``, only those of operations answered before that time."""
        sql = (
            "SELECT i.record_id FROM items i JOIN operations o ON o.op_id = i.op_id"
            " WHERE o.partner_id = ? AND i.record_id IS NOT NULL"
        )
        args: list[Any] = [partner_id]
        if finished_before is not None:
            sql += " AND o.finished_at < ?"
            args.append(finished_before)
        return {r[0] for r in self.store.rows(sql, args)}

    def _operation(self, data: dict[str, Any]) -> Operation:
        items = self.store.rows(
            "SELECT op_id, item_id, change_key, reseller_id, amount, state, quota_id, record_id,"
            " error_code, detail FROM items WHERE op_id = ? ORDER BY pos, item_id",
            (data["op_id"],),
        )
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
            last_sent_at=data.get("last_sent_at"),
            attempts=data.get("attempts") or 0,
            refused=data.get("refused") or 0,
        )

    def changes(self, run_id: str) -> list[dict[str, Any]]:
        rows = self.store.rows(
            "SELECT change_key, kind, action, subject, status, detail FROM changes"
            " WHERE run_id = ? ORDER BY pos, change_key",
            (run_id,),
        )
        keys = ("key", "kind", "action", "subject", "status", "detail")
        return [{**dict(zip(keys, r, strict=True)), "detail": json.loads(r[5])} for r in rows]

    def operator(self, partner_id: str) -> tuple[str, str] | None:
        """``(operator, how it was learned)`` of ``partner_id``'s calls, if known."""
        rows = self.store.rows(
            "SELECT operator, learned_from FROM operators WHERE partner_id = ?", (partner_id,)
        )
        return (str(rows[0][0]), str(rows[0][1])) if rows else None
