"""What the cash ledger proves about one transfer of ours: pure functions, no I/O.

None of the four transfers has an idempotency key, and a ledger record
(``list_partner_adjust_records``, REFERENCE §7.20) names no operator: its owner is unknown
(:attr:`~reconciler.apply.evidence.RecordFacts.unowned`). So:

* **An answer arrived**: it carries the transfer's ledger id (``transfer_id`` / ``trans_id``; a
  2xx without it is already an unknown outcome in the client). The record with that
  ``trans_id`` is ours (linked to the item with the outcome); nothing else is needed.
* **The answer was lost**: the ledger can prove that the call did *not* take effect, never that
  it did. The candidates are the recipient's records in the call's window
  (:meth:`~reconciler.apply.evidence.Evidence.window`: from the first send attempt to the
  in-flight horizon after the last, on the API's clock, widened by the records-clock allowance)
  that this journal has not linked to another item, of the call's type
  (``SOURCE_OPERATION_BEADJUST`` for a transfer to the recipient, ``SOURCE_OPERATION_BERETRIEVE``
  for a reclaim) and amount.

  - no candidate: *absent* (not committed once nothing can still land);
  - one or more: their owner is unknown, so they prove neither this call nor someone else's
    (:func:`~reconciler.apply.evidence.unknown_owner`, never by amount and time alone):
    undecided, the recipient stays frozen until a person settles it
    (``reconciler journal settle``).

Balances never decide on their own (customers spend, resellers fund their own customers); they
are shown beside the verdict for the person who settles by hand.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from reconciler.apply.evidence import RecordFacts, in_window, unknown_owner
from reconciler.bss.cash import ADJUST, RETRIEVE
from reconciler.bss.fields import TIME_FORMAT
from reconciler.bss.operations import (
    RECLAIM_INDIRECT_PARTNER_ACCOUNT,
    RECLAIM_TO_PARTNER_ACCOUNT,
    UPDATE_CUSTOMER_ACCOUNT_AMOUNT,
    UPDATE_INDIRECT_PARTNER_ACCOUNT,
)
from reconciler.plan.model import fmt_money, money

if TYPE_CHECKING:
    from reconciler.bss.cash import AdjustRecord

#: operation -> (the record type it writes, whether its recipient is a reseller)
TRANSFERS: Mapping[str, tuple[str, bool]] = {
    UPDATE_CUSTOMER_ACCOUNT_AMOUNT.name: (ADJUST, False),
    RECLAIM_TO_PARTNER_ACCOUNT.name: (RETRIEVE, False),
    UPDATE_INDIRECT_PARTNER_ACCOUNT.name: (ADJUST, True),
    RECLAIM_INDIRECT_PARTNER_ACCOUNT.name: (RETRIEVE, True),
}
_WHAT = {ADJUST: "transfer", RETRIEVE: "reclaim"}


@dataclass(frozen=True)
class Transfer:
    """One transfer as sent: who receives (or gives back), in whose ledger, what, how much."""

    operation: str
    recipient: str  # customer id, or reseller id
    ledger: str | None  # the reseller whose ledger records it (its customer's transfers)
    record_type: str  # ADJUST | RETRIEVE
    amount: Decimal

    @property
    def to_reseller(self) -> bool:
        return TRANSFERS[self.operation][1]

    def describe(self) -> str:
        what = _WHAT[self.record_type]
        who = f"reseller {self.recipient}" if self.to_reseller else f"customer {self.recipient}"
        where = f" (reseller {self.ledger}'s ledger)" if self.ledger else ""
        direction = "to" if self.record_type == ADJUST else "from"
        return f"{what} of {fmt_money(self.amount)} {direction} {who}{where}"


def transfer_of(operation: str, request: Mapping[str, Any]) -> Transfer:
    """The transfer a journalled request body describes (see :data:`TRANSFERS`)."""
    record_type, to_reseller = TRANSFERS[operation]
    if to_reseller:
        recipient, ledger = str(request["indirect_partner_id"]), None
    else:
        owner = request.get("indirect_partner_id")
        recipient, ledger = str(request["customer_id"]), str(owner) if owner else None
    return Transfer(operation, recipient, ledger, record_type, money(str(request["amount"])))


@dataclass(frozen=True)
class Finding:
    """``committed`` None: undecided; ``absent``: no evidence of a commit (see module doc). The
    ledger never proves a lost answer committed, so ``committed`` is never True."""

    committed: bool | None
    detail: str
    absent: bool = False


def at(when: datetime | float) -> str:
    """A record's time, or a time on the API's clock (seconds since the epoch), as the API
    writes times (``yyyy-MM-ddTHH:mm:ssZ``, UTC)."""
    if not isinstance(when, datetime):
        when = datetime.fromtimestamp(math.floor(when), timezone.utc)
    return when.strftime(TIME_FORMAT)


def facts(record: AdjustRecord) -> RecordFacts:
    """The record as every kind's records are read: no operator (the ledger names none, so its
    owner is unknown), a success (the ledger lists only moves that happened)."""
    return RecordFacts(
        id=record.trans_id,
        recipient=record.customer_id,
        amount=record.amount,
        result="0",
        time=record.operation_time,
        operator=None,
        remark=record.memo,
        delta=True,
        noun=_WHAT.get(record.operation_type, "ledger"),
    )


def window_records(
    records: Iterable[AdjustRecord],
    recipient: str,
    window: tuple[float, float],
    taken: Collection[str],
) -> list[AdjustRecord]:
    """The recipient's records in ``window`` (API-clock seconds) that this journal has not
    linked to an item."""
    return sorted(
        (
            r
            for r in records
            if r.customer_id == recipient
            and in_window(facts(r), *window)
            and r.trans_id not in taken
        ),
        key=lambda r: (r.operation_time, r.trans_id),
    )


def matches(record: AdjustRecord, t: Transfer) -> bool:
    return record.operation_type == t.record_type and record.amount == t.amount


def finding(t: Transfer, window: Sequence[AdjustRecord], span: tuple[float, float]) -> Finding:
    """The verdict the ledger gives on ``t`` from the recipient's unlinked records in the
    call's window (``span``)."""
    mine = [r for r in window if matches(r, t)]
    others = [r for r in window if not matches(r, t)]
    between = f"between {at(span[0])} and {at(span[1])}"
    unknown = unknown_owner(
        [facts(r) for r in mine],
        f"of {fmt_money(t.amount)} {between}",
        "an operator (the cash ledger names none)",
    )
    if unknown is None:
        text = f"no {_WHAT[t.record_type]} record of {fmt_money(t.amount)} {between}"
        if others:
            text += f" (other records: {describe_records(others)})"
        return Finding(False, text, absent=True)
    return Finding(None, f"{unknown.detail}: {describe_records(window)}")


def describe_records(records: Iterable[AdjustRecord]) -> str:
    return "; ".join(
        f"{r.trans_id} ({_WHAT.get(r.operation_type, r.operation_type)} of "
        f"{fmt_money(r.amount)} at {at(r.operation_time)})"
        for r in records
    )


def answered(record: AdjustRecord | None, t: Transfer, trans_id: str) -> str | None:
    """Checks the record of an answered transfer; what contradicts the answer, or None."""
    if record is None:
        return None  # not listed yet: the answer's ledger id stands
    wrong = [
        f"{name} {got!r} (sent {want!r})"
        for name, got, want in (
            ("customer_id", record.customer_id, t.recipient),
            ("operation_type", record.operation_type, t.record_type),
            ("amount", fmt_money(record.amount), fmt_money(t.amount)),
        )
        if got != want
    ]
    if not wrong:
        return None
    return f"ledger record {trans_id} does not match the call: " + ", ".join(wrong)


def foreign(
    records: Iterable[AdjustRecord], recipient: str, begin: float, ours: Collection[str]
) -> AdjustRecord | None:
    """The first record of ``recipient`` since ``begin`` that is not proven this journal's: its
    ``trans_id`` is linked to none of our items (``ours``). With no operator on the ledger,
    nothing else (an amount, a time, a transfer of ours whose answer was lost) can make a record
    ours, so such a record means another writer, or a call of ours that is frozen anyway."""
    for record in sorted(records, key=lambda r: (r.operation_time, r.trans_id)):
        if record.customer_id != recipient or not in_window(facts(record), begin):
            continue
        if record.trans_id not in ours:
            return record
    return None
