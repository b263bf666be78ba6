"""What the cash ledger proves about one transfer of ours: pure functions, no I/O.

None of the four transfers has an idempotency key, and a ledger record
(``list_partner_adjust_records``, REFERENCE §7.20) names no operator. So:

* **An answer arrived**: it carries the transfer's ledger id (``transfer_id`` / ``trans_id``; a
  2xx without it is already an unknown outcome in the client). The record with that
  ``trans_id`` is ours; nothing else is needed.
* **The answer was lost**: a record is taken for ours only when it is the *only* record of the
  recipient in the window that this journal has not already attributed, and it matches the call
  exactly: the recipient (``customer_id``: the customer, or the reseller), the ledger (the
  partner's, or the reseller's for its customer), the type (``SOURCE_OPERATION_BEADJUST`` for a
  transfer to the recipient, ``SOURCE_OPERATION_BERETRIEVE`` for a reclaim), the amount, and an
  ``operation_time`` inside the window: from the first send attempt (on the API's clock) to the
  in-flight horizon after the last one, past which the call cannot land.

  - no matching record: *absent* (not committed once nothing can still land);
  - exactly one and no other record of the recipient in the window: committed;
  - two matching records, or a matching one beside any other unattributed record of the
    recipient: another writer moved cash for this recipient meanwhile, and with no operator on
    the records nothing proves which record is ours: undecided, the recipient stays frozen until
    a person settles it (``reconciler journal settle``).

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
    """``committed`` None: undecided; ``absent``: no evidence of a commit (see module doc)."""

    committed: bool | None
    detail: str
    record_id: str | None = None
    absent: bool = False


def at(when: datetime | float) -> str:
    """A record's time, or a time on the API's clock (seconds since the epoch), as the API
    writes times (``yyyy-MM-ddTHH:mm:ssZ``, UTC)."""
    if not isinstance(when, datetime):
        when = datetime.fromtimestamp(math.floor(when), timezone.utc)
    return when.strftime(TIME_FORMAT)


def in_window(record: AdjustRecord, begin: float, end: float) -> bool:
    """The record's time (parsed, whole seconds) is in ``[begin, end]`` (API-clock seconds,
    ``begin`` taken at its whole second)."""
    return math.floor(begin) <= record.operation_time.timestamp() <= end


def window_records(
    records: Iterable[AdjustRecord],
    recipient: str,
    begin: float,
    end: float,
    taken: Collection[str],
) -> list[AdjustRecord]:
    """The recipient's records in the window that this journal has not attributed."""
    return sorted(
        (
            r
            for r in records
            if r.customer_id == recipient and in_window(r, begin, end) and r.trans_id not in taken
        ),
        key=lambda r: (r.operation_time, r.trans_id),
    )


def matches(record: AdjustRecord, t: Transfer) -> bool:
    return record.operation_type == t.record_type and record.amount == t.amount


def finding(t: Transfer, window: Sequence[AdjustRecord], begin: float, end: float) -> Finding:
    """The verdict the ledger gives on ``t`` from the recipient's unattributed ``window``."""
    mine = [r for r in window if matches(r, t)]
    others = [r for r in window if not matches(r, t)]
    span = f"between {at(begin)} and {at(end)}"
    if not mine:
        text = f"no {_WHAT[t.record_type]} record of {fmt_money(t.amount)} {span}"
        if others:
            text += f" (other records: {describe_records(others)})"
        return Finding(False, text, absent=True)
    if len(mine) == 1 and not others:
        rec = mine[0]
        return Finding(
            True,
            f"ledger record {rec.trans_id} at {at(rec.operation_time)}",
            record_id=rec.trans_id,
        )
    return Finding(
        None,
        f"{len(mine)} matching record(s) beside {len(others)} other(s) {span}: "
        f"{describe_records(window)}. The ledger names no operator, so another writer's "
        "record cannot be told from this call's",
    )


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


class Slots:
    """Our transfers without a ledger id yet (sent, answer lost or not yet attributed), each
    able to account for one record of its recipient, type and amount (other writers check)."""

    def __init__(self, transfers: Iterable[Transfer]) -> None:
        self._free: dict[tuple[str, str, Decimal], int] = {}
        for t in transfers:
            key = (t.recipient, t.record_type, t.amount)
            self._free[key] = self._free.get(key, 0) + 1

    def take(self, record: AdjustRecord) -> bool:
        key = (record.customer_id, record.operation_type, record.amount)
        if self._free.get(key, 0) <= 0:
            return False
        self._free[key] -= 1
        return True


def foreign(
    records: Iterable[AdjustRecord],
    recipient: str,
    begin: float,
    ours: Collection[str],
    slots: Slots,
) -> AdjustRecord | None:
    """The first record of ``recipient`` since ``begin`` that this journal did not make: its
    ``trans_id`` is not attributed to one of our items (``ours``) and no transfer of ours
    without a ledger id accounts for it. Such a record means another writer."""
    for record in sorted(records, key=lambda r: (r.operation_time, r.trans_id)):
        if record.customer_id != recipient or record.operation_time.timestamp() < math.floor(begin):
            continue
        if record.trans_id in ours or slots.take(record):
            continue
        return record
    return None
