"""What the cash ledger proves about a transfer of ours (no operator on the records)."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from reconciler.bss.cash import ADJUST, RETRIEVE, UNBIND, AdjustRecord
from reconciler.kinds.account_funds.evidence import (
    Slots,
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


@pytest.mark.parametrize(
    ("records", "committed", "absent", "record_id", "says"),
    [
        ([], False, True, None, "no transfer record of 200.00 between"),
        ([rec("t1")], True, False, "t1", "ledger record t1 at 2026-01-01T10:05:00Z"),
        ([rec("t1"), rec("t2")], None, False, None, "2 matching record(s) beside 0 other(s)"),
        ([rec("t1"), rec("t2", amount="5.00")], None, False, None, "names no operator"),
        ([rec("t2", amount="5.00")], False, True, None, "other records: t2 (transfer of 5.00"),
        ([rec("t2", kind=RETRIEVE)], False, True, None, "t2 (reclaim of 200.00"),
        ([rec("t2", kind=UNBIND), rec("t1")], None, False, None, "beside 1 other(s)"),
        ([rec("t1", at="09:59:59")], False, True, None, "no transfer record"),
        ([rec("t1", at="10:40:01")], False, True, None, "no transfer record"),
        ([rec("t1", who="c2")], False, True, None, "no transfer record"),
        ([rec("t0"), rec("t1")], True, False, "t1", "ledger record t1"),
    ],
    ids=["nothing", "exactly-one", "two-matching", "another-writer-beside", "other-amount",
         "other-type", "unbind-beside", "before-window", "after-horizon", "other-recipient",
         "attributed-elsewhere"],
)  # fmt: skip
def test_a_lost_answer_is_settled_only_on_unambiguous_evidence(
    records: list[AdjustRecord],
    committed: bool | None,
    absent: bool,
    record_id: str | None,
    says: str,
) -> None:
    window = window_records(records, "c1", BEGIN, END, taken={"t0"})
    found = finding(FUND, window, BEGIN, END)
    assert (found.committed, found.absent, found.record_id) == (committed, absent, record_id)
    assert says in found.detail


def test_an_answered_transfer_is_checked_against_its_record() -> None:
    assert answered(None, FUND, "t1") is None
    assert answered(rec("t1"), FUND, "t1") is None
    wrong = answered(rec("t1", kind=RETRIEVE, amount="2.00", who="c9"), FUND, "t1")
    assert wrong == (
        "ledger record t1 does not match the call: customer_id 'c9' (sent 'c1'), "
        "operation_type 'SOURCE_OPERATION_BERETRIEVE' (sent 'SOURCE_OPERATION_BEADJUST'), "
        "amount '2.00' (sent '200.00')"
    )


def test_another_writer_is_a_record_this_journal_cannot_account_for() -> None:
    records = [rec("t1", at="10:01:00"), rec("t2", at="10:02:00"), rec("t3", at="10:03:00")]
    slots = Slots([FUND])
    assert foreign(records, "c1", epoch("2026-01-01T10:00:00Z"), {"t1"}, slots) == records[2]
    assert foreign(records[:2], "c1", BEGIN, {"t1"}, Slots([FUND])) is None
    assert foreign(records, "c1", epoch("2026-01-01T10:02:30Z"), set(), Slots([])) == records[2]
    # a begin inside a second keeps that second's records (the API's times are whole seconds)
    assert foreign(records, "c1", epoch("2026-01-01T10:02:00Z") + 0.5, {"t1"},
                   Slots([])) == records[1]  # fmt: skip
    assert foreign(records, "c2", BEGIN, set(), Slots([])) is None
