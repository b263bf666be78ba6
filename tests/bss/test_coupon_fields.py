"""The coupon list and the coupon records are read strictly: a field a plan or a settlement rests
on that is missing or mistyped stops the read, naming the operation, the object and the field."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from reconciler.bss import CouponLimit, CouponQuota, CouponRecord, PartnerCoupon, QuotaLimit
from reconciler.errors import IncompleteAnswerError

from .fakes import reply
from .test_client_requests import run

D = Decimal
COUPONS = "/v2/promotions/benefits/partner-coupons"
RECORDS = f"{COUPONS}/records/query"
OMIT = object()

COUPON = {
    "coupon_id": "CP1",
    "status": 2,
    "customer_id": "c-1",
    "coupon_type": 1,
    "measure_id": 1,
    "face_value": 500.00,
    "effective_time": "2026-01-01T00:00:00Z",
    "expire_time": "2027-01-01T00:00:00Z",
    "create_time": "2026-01-01T00:00:00Z",
    "balance": 320.50,
    "use_limits": [{"limit_key": "cloud_service_types", "value1": "hws.service.type.ec2"}],
}
RECORD = {
    "id": "r-1",
    "operation_type": "1",
    "quota_id": "q-1",
    "quota_type": 0,
    "coupon_id": "CP1",
    "customer_id": "c-1",
    "operation_amount": 500.00,
    "operation_time": "2026-01-01T00:00:00Z",
    "result": "0",
}


def _coupons(item: dict[str, Any]) -> Any:
    return run(
        lambda c: c.list_issued_partner_coupons(),
        {("GET", COUPONS): [reply(200, {"user_coupons": [item], "total_count": 1})]},
    )[0]


def _records(item: dict[str, Any]) -> Any:
    return run(
        lambda c: c.list_partner_coupons_record(),
        {("GET", RECORDS): [reply(200, {"records": [item], "total_count": 1})]},
    )[0]


def _with(item: dict[str, Any], field: str, value: Any) -> dict[str, Any]:
    out = dict(item)
    if value is OMIT:
        out.pop(field)
    else:
        out[field] = value
    return out


def test_a_complete_coupon_and_record_parse() -> None:
    (coupon,) = _coupons(COUPON).items
    assert coupon == PartnerCoupon(
        "CP1", "c-1", 2, 1, D("500.00"), D("320.50"), "2026-01-01T00:00:00Z",
        "2027-01-01T00:00:00Z", "2026-01-01T00:00:00Z", None, 1,
        (CouponLimit("cloud_service_types", "hws.service.type.ec2", None),),
    )  # fmt: skip
    (record,) = _records(RECORD).items
    assert record == CouponRecord(
        "r-1", "1", "q-1", 0, "CP1", "c-1", D("500.00"), datetime(2026, 1, 1, tzinfo=timezone.utc),
        "0", None,
    )  # fmt: skip


def test_a_failed_issue_record_may_name_no_coupon() -> None:
    (record,) = _records(_with(RECORD, "coupon_id", "")).items
    assert record.coupon_id is None
    (record,) = _records(_with(RECORD, "coupon_id", OMIT)).items
    assert record.coupon_id is None


COUPON_CASES = [
    ("coupon_id", OMIT, "coupon_id is missing"),
    ("coupon_id", "C" * 65, "coupon_id has 65 characters, more than the 64 the API accepts"),
    ("customer_id", OMIT, "customer_id is missing"),
    ("status", OMIT, "status is missing"),
    ("status", "usable", "status is 'usable', not an integer"),
    ("face_value", OMIT, "face_value is missing"),
    ("face_value", "lots", "face_value is 'lots', not an amount"),
    ("balance", OMIT, "balance is missing"),
    ("balance", [1], "balance is [1], not an amount"),
    ("balance", "-5.00", "negative where the API promises >= 0"),
    ("face_value", "-5.00", "negative where the API promises >= 0"),
    ("effective_time", OMIT, "effective_time is missing"),
    ("expire_time", OMIT, "expire_time is missing"),
    ("expire_time", {"at": 1}, "expire_time is {'at': 1}, not a string"),
    ("use_limits", OMIT, "use_limits is missing"),
    ("use_limits", "none", "use_limits is not a list of objects"),
    ("use_limits", [{"value1": "x"}], "use_limits[0].limit_key is missing"),
    ("use_limits", [{"limit_key": "k"}], "use_limits[0].value1 is missing"),
]


@pytest.mark.parametrize(
    ("field", "value", "says"),
    COUPON_CASES,
    ids=[f"{f}-{'omitted' if v is OMIT else 'corrupt'}" for f, v, _ in COUPON_CASES],
)
def test_a_coupon_without_a_decision_field_is_refused(field: str, value: Any, says: str) -> None:
    with pytest.raises(IncompleteAnswerError) as info:
        _coupons(_with(COUPON, field, value))
    text = str(info.value)
    assert "(list_issued_partner_coupons) answered without a usable field" in text
    assert "user_coupons[0]" in text and says in text


RECORD_CASES = [
    ("id", OMIT, "id is missing"),
    ("operation_type", OMIT, "operation_type is missing"),
    ("coupon_id", "C" * 65, "coupon_id has 65 characters, more than the 64 the API accepts"),
    ("quota_id", OMIT, "quota_id is missing"),
    ("customer_id", OMIT, "customer_id is missing"),
    ("operation_amount", OMIT, "operation_amount is missing"),
    ("operation_amount", True, "operation_amount is True, not an amount"),
    ("operation_time", OMIT, "operation_time is missing"),
    ("operation_time", "2026-01-01 00:00:00", "not a time in the form yyyy-MM-ddTHH:mm:ssZ"),
    ("operation_time", "2026-02-30T00:00:00Z", "not a time in the form yyyy-MM-ddTHH:mm:ssZ"),
    ("operation_amount", "-0.01", "negative where the API promises >= 0"),
    ("result", OMIT, "result is missing"),
    ("result", ["0"], "result is ['0'], not a string"),
]


@pytest.mark.parametrize(
    ("field", "value", "says"),
    RECORD_CASES,
    ids=[f"{f}-{'omitted' if v is OMIT else 'corrupt'}" for f, v, _ in RECORD_CASES],
)
def test_a_record_without_a_decision_field_is_refused(field: str, value: Any, says: str) -> None:
    with pytest.raises(IncompleteAnswerError) as info:
        _records(_with(RECORD, field, value))
    text = str(info.value)
    assert "(list_partner_coupons_record) answered without a usable field" in text
    assert "records[0]" in text and says in text


ISSUE_ANSWERS = [
    ({"coupon_infos": [{"id": "c-1", "coupon_id": "CP1"}]}, {"c-1": "CP1"}, ()),
    ({"coupon_infos": [{"id": "c-1"}]}, {}, ("c-1",)),
    ({"coupon_infos": [{"id": "c-1", "coupon_id": ""}]}, {}, ("c-1",)),
    ({"coupon_infos": [{"coupon_id": "CP1"}]}, {}, ("c-1",)),
    ({"coupon_infos": [{"id": 7, "coupon_id": "CP1"}]}, {}, ("c-1",)),
    ({"coupon_infos": "all done"}, {}, ("c-1",)),
    ({}, {}, ("c-1",)),
]


@pytest.mark.parametrize(("answer", "successes", "unaccounted"), ISSUE_ANSWERS)
def test_an_issue_answer_proves_only_what_it_names(
    answer: dict[str, Any], successes: dict[str, str], unaccounted: tuple[str, ...]
) -> None:
    result, _ = run(
        lambda c: c.create_partner_coupons("q-1", ["c-1"], D("5.00")),
        {("POST", COUPONS): [reply(200, answer)]},
    )
    assert (result.successes, result.unaccounted) == (successes, unaccounted)
    lacking = answer.get("coupon_infos") in ([{"id": "c-1"}], [{"id": "c-1", "coupon_id": ""}])
    assert ("without the coupon_id" in result.unknown_detail("c-1")) == lacking


LIMITS: list[tuple[Any, Any]] = [
    ([{"limit_key": "k", "limit_values": [{"value1": "a", "value2": ""}, {"value1": "b"}]}],
     (QuotaLimit("k", ("a", "b")),)),
    ([], ()),
    (None, None),  # not in the answer: unknown, never "no restrictions"
    ("none", None),
    ([{"limit_key": "k"}], None),
    ([{"limit_values": []}], None),
    ([{"limit_key": "k", "limit_values": [{"value2": "x"}]}], None),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "parsed"), LIMITS)
def test_a_quotas_restrictions_are_known_or_unknown(raw: Any, parsed: Any) -> None:
    data: dict[str, Any] = {"quota_id": "q-1", "balance": "1.00", "quota_status": 0}
    if raw is not None:
        data["limit_infos"] = raw
    assert CouponQuota.from_api(data).limit_infos == parsed
