"""The journal's SQL schema and its rows as frozen data; see :mod:`reconciler.apply.journal`."""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = "3"
OPEN_OP_STATES = ("intent", "sent", "unknown")
OPEN_ITEM_STATES = ("pending", "unknown")
COMMITTED_ITEM_STATES = ("committed", "settled-committed")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    owner TEXT NOT NULL,
    lease_token INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    manifest_checksum TEXT,
    plan_checksum TEXT,
    status TEXT NOT NULL,
    summary TEXT
);
CREATE TABLE IF NOT EXISTS operations (
    op_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    run_id TEXT NOT NULL,
    partner_id TEXT NOT NULL,
    lease_token INTEGER NOT NULL,
    operation TEXT NOT NULL,
    target TEXT NOT NULL,
    request TEXT NOT NULL,
    pre_state TEXT NOT NULL,
    state TEXT NOT NULL,
    outcome TEXT,
    error_code TEXT,
    request_id TEXT,
    intent_at DOUBLE PRECISION NOT NULL,
    sent_at DOUBLE PRECISION,
    last_sent_at DOUBLE PRECISION,
    attempts INTEGER NOT NULL DEFAULT 0,
    refused INTEGER NOT NULL DEFAULT 0,
    finished_at DOUBLE PRECISION,
    settled_at DOUBLE PRECISION,
    settled_by TEXT
);
CREATE INDEX IF NOT EXISTS operations_open ON operations (partner_id, state);
CREATE TABLE IF NOT EXISTS items (
    op_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    change_key TEXT NOT NULL,
    reseller_id TEXT,
    amount TEXT,
    state TEXT NOT NULL,
    quota_id TEXT,
    record_id TEXT,
    error_code TEXT,
    detail TEXT,
    pos INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (op_id, item_id)
);
CREATE TABLE IF NOT EXISTS changes (
    run_id TEXT NOT NULL,
    change_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT NOT NULL,
    pos INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, change_key)
);
CREATE TABLE IF NOT EXISTS leases (
    partner_id TEXT PRIMARY KEY,
    token INTEGER NOT NULL,
    owner TEXT,
    host TEXT,
    pid INTEGER,
    run_id TEXT,
    acquired_at DOUBLE PRECISION,
    renewed_at DOUBLE PRECISION,
    expires_at DOUBLE PRECISION,
    ttl DOUBLE PRECISION,
    pidns TEXT,
    note TEXT
);
CREATE TABLE IF NOT EXISTS operators (
    partner_id TEXT PRIMARY KEY,
    operator TEXT NOT NULL,
    learned_from TEXT NOT NULL,
    learned_at DOUBLE PRECISION NOT NULL
);
"""

#: Columns added since schema version 1, added to an older journal when it is opened
#: (version 2: attempts and positions; version 3: the lease holder's PID namespace and how the
#: lease left its previous holder).
ADDED_COLUMNS = (
    ("operations", "last_sent_at", "DOUBLE PRECISION"),
    ("operations", "attempts", "INTEGER NOT NULL DEFAULT 0"),
    ("operations", "refused", "INTEGER NOT NULL DEFAULT 0"),
    ("items", "pos", "INTEGER NOT NULL DEFAULT 0"),
    ("changes", "pos", "INTEGER NOT NULL DEFAULT 0"),
    ("leases", "pidns", "TEXT"),
    ("leases", "note", "TEXT"),
)


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6)}"


@dataclass(frozen=True)
class ItemSpec:
    """One reseller (issue), quota (reclaim) or resource (auto-renew) of an operation."""

    item_id: str
    change_key: str
    reseller_id: str | None = None
    amount: str | None = None


@dataclass(frozen=True)
class OpSpec:
    """What is about to be sent, recorded before sending it."""

    operation: str
    target: str  # the parent quota id, or the customer id for auto-renew
    request: Mapping[str, Any]
    pre_state: Mapping[str, Any]
    items: Sequence[ItemSpec]


@dataclass(frozen=True)
class ItemOutcome:
    state: str  # committed | failed | unknown
    quota_id: str | None = None
    error_code: str | None = None
    detail: str | None = None
    retryable: bool = False  # a per-item failure inside HTTP 200
    #: the API record the answer itself names, for any kind whose answer names one (e.g. a cash
    #: transfer's ledger id): the item is linked to it with the outcome, in one transaction, so
    #: a crash cannot separate them (a record linked to an item is ours: ``record_id`` of
    #: :class:`Item`, :meth:`Journal.attributed_record_ids`)
    record_id: str | None = None


@dataclass(frozen=True)
class Item:
    op_id: str
    item_id: str
    change_key: str
    reseller_id: str | None
    amount: str | None
    state: str
    quota_id: str | None
    record_id: str | None
    error_code: str | None
    detail: str | None

    @property
    def open(self) -> bool:
        return self.state in OPEN_ITEM_STATES

    @property
    def committed(self) -> bool:
        return self.state in COMMITTED_ITEM_STATES


@dataclass(frozen=True)
class Operation:
    op_id: str
    seq: int
    run_id: str
    partner_id: str
    operation: str
    target: str
    request: Mapping[str, Any]
    pre_state: Mapping[str, Any]
    state: str
    outcome: Mapping[str, Any] | None
    error_code: str | None
    request_id: str | None
    intent_at: float
    sent_at: float | None
    finished_at: float | None
    settled_by: str | None
    items: tuple[Item, ...] = field(default=())
    last_sent_at: float | None = None
    attempts: int = 0
    refused: int = 0

    @property
    def open(self) -> bool:
        return self.state in OPEN_OP_STATES or any(i.open for i in self.items)

    @property
    def outstanding(self) -> bool:
        """Some send attempt may have reached the API: it was marked and no answer refused it."""
        return self.attempts > self.refused

    @property
    def last_attempt(self) -> float | None:
        return self.last_sent_at if self.last_sent_at is not None else self.sent_at

    def in_flight_until(self, horizon: float) -> float | None:
        """Until when a send attempt of this call may still land (its last mark + ``horizon``,
        on the clock that marked it); None when none can: never sent, or every attempt was
        refused unexecuted. The same rule as settlement's (docs/apply.md)."""
        if not self.outstanding:
            return None
        return (self.last_attempt or self.intent_at) + horizon

    def to_dict(self) -> dict[str, Any]:
        return {
            "op_id": self.op_id,
            "run_id": self.run_id,
            "operation": self.operation,
            "target": self.target,
            "state": self.state,
            "request_id": self.request_id,
            "error_code": self.error_code,
            "intent_at": iso(self.intent_at),
            "sent_at": iso(self.sent_at) if self.sent_at is not None else None,
            "attempts": self.attempts,
            "settled_by": self.settled_by,
            "items": [
                {
                    "id": i.item_id,
                    "change_key": i.change_key,
                    "state": i.state,
                    "amount": i.amount,
                    "quota_id": i.quota_id,
                    "record_id": i.record_id,
                    "error_code": i.error_code,
                    "detail": i.detail,
                }
                for i in self.items
            ],
        }


def fenced_message(
    partner_id: str, token: int, row: Sequence[Any] | None, op_id: str, attempt: int
) -> str:
    """Why a run holding lease ``token`` may not send: the lease row ``(token, owner, run_id,
    note)`` as it is now says who broke or took over the lease, and why (see the lease's
    ``note``)."""
    if row is None:
        cause = "the lease is no longer recorded in the journal"
    else:
        now_token, owner, run_id, note = row
        if now_token == token:
            cause = f"the lease was {note}" if note else "the lease was released"
        elif now_token == token + 1:
            holder = f"{owner} (run {run_id})" if owner else f"run {run_id} (ended since)"
            cause = f"{holder} {note}" if note else f"it is now held by {holder}"
        else:
            now = f"now by {owner} (run {run_id})" if owner else "by nobody now"
            cause = f"it changed hands {now_token - token} times since (held {now})"
    return (
        f"this run no longer holds the lease on partner account {partner_id}: {cause}; "
        f"stopping before the next write. Attempt {attempt} of operation {op_id} was not sent."
    )
