"""Request handlers for customer coupons (§7.13-§7.16)."""

from __future__ import annotations

from reconciler.emulator import backend, coupons, views
from reconciler.emulator.call import Call, Result
from reconciler.emulator.params import Params
from reconciler.emulator.quota_handlers import writer

#: §10.2: the maxima are not documented; the emulator refuses more than 100 (REFERENCE §5).
PAGE_MAX = 100
#: Not documented: at most 100 customers per issue (like the reseller ids of §7.9).
MAX_CUSTOMERS = 100
#: Not documented: the memo's length; the emulator allows what a quota remark allows (§7.10).
MAX_MEMO = 256
RECORD_TYPES = tuple(str(n) for n in range(1, 10))


def create_partner_coupons(call: Call) -> Result:
    p = call.body_params()
    quota_id = p.string("quota_id", max_len=64, required=True)
    customer_ids = p.string_list("customer_ids", max_items=MAX_CUSTOMERS, required=True)
    face_value = p.money("face_value")
    valid_time, expire_time = p.timestamp("valid_time"), p.timestamp("expire_time")
    limits = {
        key: found
        for key in coupons.LIMIT_KEYS
        if (found := p.string_list(key, max_items=10, empty_ok=False)) is not None
    }
    memo = p.string("memo", max_len=MAX_MEMO, empty="keep")
    owner = backend.acting_for(
        call.state, p.string("indirect_partner_id", max_len=64, empty="reject")
    )
    assert quota_id is not None and customer_ids is not None
    request = coupons.IssueRequest(
        quota_id, customer_ids, face_value, valid_time, expire_time, limits, memo, owner
    )
    before = len(call.state.coupon_records)
    outcome = coupons.issue(call.state, request, writer(call))
    call.mutated = len(call.state.coupon_records) != before
    return 200, outcome.payload("coupon_infos")


def reclaim_partner_coupons(call: Call) -> Result:
    p = call.body_params()
    coupon_id = p.string("coupon_id", max_len=64, required=True)
    owner = backend.acting_for(
        call.state, p.string("indirect_partner_id", max_len=100, empty="reject")
    )
    assert coupon_id is not None
    before = len(call.state.coupon_records)
    failure = coupons.reclaim(call.state, coupon_id, owner, writer(call))
    call.mutated = len(call.state.coupon_records) != before
    if failure is not None:
        code, message = failure
        return 200, {"error_code": code, "error_msg": message}  # documented 200 (§7.14)
    return 204, None


def _windows(p: Params, *names: str) -> dict[str, tuple[str | None, str | None]]:
    return {name: (p.timestamp(f"{name}_begin"), p.timestamp(f"{name}_end")) for name in names}


def list_issued_partner_coupons(call: Call) -> Result:
    p = call.query_params()
    flt = coupons.CouponFilter(
        coupon_id=p.string("coupon_id", max_len=64, empty="reject"),
        # §5: "" is a filter on some coupon lists; the emulator refuses it (send no customer_id).
        customer_id=p.string("customer_id", max_len=64, empty="reject"),
        order_id=p.string("order_id", max_len=64),
        coupon_type=p.integer("coupon_type", enum=(1, 4)),
        status=p.integer("status", enum=(1, 2, 3, 4, 5)),
        windows=_windows(p, "create_time", "effective_time", "expire_time"),
    )
    offset, limit = p.page(limit_max=PAGE_MAX)
    owner = backend.acting_for(call.state, p.string("indirect_partner_id", max_len=64))
    found, total = coupons.list_issued(call.state, owner, flt, call.now, offset, limit)
    return 200, {"total_count": total, "user_coupons": [views.coupon(c) for c in found]}


def list_partner_coupons_record(call: Call) -> Result:
    p = call.query_params(repeatable=("operation_types", "coupon_ids"))
    result = p.string("result", max_len=8)
    flt = coupons.RecordFilter(
        operation_types=p.string_list("operation_types", max_items=9, enum=RECORD_TYPES),
        quota_id=p.string("quota_id", max_len=64),
        quota_type=p.integer("quota_type", enum=(0, 1)),
        coupon_ids=p.string_list("coupon_ids", max_items=PAGE_MAX),
        customer_id=p.string("customer_id", max_len=64, empty="reject"),
        result=result if result in ("0", "-1") else None,  # "other values ignored"
        begin=p.timestamp("operation_time_begin"),
        end=p.timestamp("operation_time_end"),
    )
    offset, limit = p.page(limit_max=PAGE_MAX)
    owner = backend.acting_for(call.state, p.string("indirect_partner_id", max_len=64))
    found, total = coupons.list_records(call.state, owner, flt, offset, limit)
    return 200, {"total_count": total, "records": [views.coupon_record(r) for r in found]}
