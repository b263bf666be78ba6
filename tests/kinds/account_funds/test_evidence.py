"""What the cash ledger proves about a transfer of ours: the records name no operator, so a
record proves a call only by the ledger id its answer returned; a lost answer is proven absent,
never committed."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from reconciler.bss.cash import ADJUST, RETRIEVE, UNBIND, AdjustRecord
from reconciler.kinds.account_funds.evidence import (
    Transfer,
    answered,
    finding,
    foreign,
    transfer_of,
    window_records,
)

D = Decimal


def epoch(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


BEGIN, END = epoch("2026-01-01T10:00:00Z"), epoch("2026-01-01T10:40:00Z")
FUND = transfer_of(
    "update_customer_account_amount",
    {"customer_id": "c1", "amount": "200.00", "indirect_partner_id": "r1"},
)


def rec(trans_id: str, kind: str = ADJUST, amount: str = "200.00", at: str = "10:05:00",
        who: str = "c1") -> AdjustRecord:  # fmt: skip
    when = datetime.fromtimestamp(epoch(f"2026-01-01T{at}Z"), timezone.utc)
    return AdjustRecord(trans_id, who, None, kind, D(amount), "CNY", when, 1, None, None)


def test_a_journalled_request_names_its_transfer() -> None:
    assert Transfer("update_customer_account_amount", "c1", "r1", ADJUST, D("200.00")) == FUND
    assert FUND.describe() == "transfer of 200.00 to customer c1 (reseller r1's ledger)"
    back = transfer_of("reclaim_indirect_partner_account",
                       {"indirect_partner_id": "r9", "amount": "5.5"})  # fmt: skip
    assert (back.recipient, back.ledger, back.record_type, back.amount) == (
        "r9", None, RETRIEVE, D("5.50"))  # fmt: skip
    assert back.describe() == "reclaim of 5.50 from reseller r9"


UNKNOWN = "without an operator (the cash ledger names none)"


@pytest.mark.parametrize(
    ("records", "committed", "absent", "says"),
    [
        ([], False, True, "no transfer record of 200.00 between 2026-01-01T10:00:00Z and"),
        ([rec("t1")], None, False, "transfer record t1 of 200.00 between"),
        ([rec("t1"), rec("t2")], None, False, "transfer records t1, t2 of 200.00"),
        ([rec("t1"), rec("t2", amount="5.00")], None, False, "t2 (transfer of 5.00"),
        ([rec("t2", amount="5.00")], False, True, "other records: t2 (transfer of 5.00"),
        ([rec("t2", kind=RETRIEVE)], False, True, "t2 (reclaim of 200.00"),
        ([rec("t2", kind=UNBIND), rec("t1")], None, False, UNKNOWN),
        ([rec("t1", at="09:59:59")], False, True, "no transfer record"),
        ([rec("t1", at="10:40:01")], False, True, "no transfer record"),
        ([rec("t1", who="c2")], False, True, "no transfer record"),
        ([rec("t0")], False, True, "no transfer record"),
        ([rec("t0"), rec("t1")], None, False, "transfer record t1 of"),
    ],
    ids=["nothing", "exactly-one", "two-matching", "another-writer-beside", "other-amount",
         "other-type", "unbind-beside", "before-window", "after-horizon", "other-recipient",
         "linked-elsewhere", "linked-elsewhere-beside-one"],
)  # fmt: skip
def test_a_lost_answer_is_proven_absent_or_left_to_a_person(
    records: list[AdjustRecord], committed: bool | None, absent: bool, says: str
) -> None:
    """A record of the call's recipient, type and amount in its window has an unknown owner: it
    proves neither this call nor someone else's, however alone it is (never by amount and time
    alone); only no such record decides (absent)."""
    window = window_records(records, "c1", (BEGIN, END), taken={"t0"})
    found = finding(FUND, window, (BEGIN, END))
    assert (found.committed, found.absent) == (committed, absent)
    assert says in found.detail
    if committed is None:
        assert UNKNOWN in found.detail and "(unknown owner)" in found.detail


def test_an_answered_transfer_is_checked_against_its_record() -> None:
    assert answered(None, FUND, "t1") is None
    assert answered(rec("t1"), FUND, "t1") is None
    wrong = answered(rec("t1", kind=RETRIEVE, amount="2.00", who="c9"), FUND, "t1")
    assert wrong == (
        "ledger record t1 does not match the call: customer_id 'c9' (sent 'c1'), "
        "operation_type 'SOURCE_OPERATION_BERETRIEVE' (sent 'SOURCE_OPERATION_BEADJUST'), "
        "amount '2.00' (sent '200.00')"
    )


def test_another_writer_is_any_record_not_linked_to_an_item_of_this_journal() -> None:
    records = [rec("t1", at="10:01:00"), rec("t2", at="10:02:00"), rec("t3", at="10:03:00")]
    assert foreign(records, "c1", epoch("2026-01-01T10:00:00Z"), {"t1"}) == records[1]
    assert foreign(records, "c1", BEGIN, {"t1", "t2", "t3"}) is None
    assert foreign(records, "c1", epoch("2026-01-01T10:02:30Z"), set()) == records[2]
    # a begin inside a second keeps that second's records (the API's times are whole seconds)
    assert foreign(records, "c1", epoch("2026-01-01T10:02:00Z") + 0.5, {"t1"}) == records[1]
    assert foreign(records, "c2", BEGIN, set()) is None
