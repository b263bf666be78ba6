"""Request handlers for coupon quotas (§7.8-§7.12)."""

from __future__ import annotations

from reconciler.emulator import backend, quotas, views
from reconciler.emulator.call import Call, Result
from reconciler.emulator.params import Params

#: §10.2: maxima not documented for these two; REFERENCE §5 says use <= 100.
QUOTA_PAGE_MAX = 100
RECORD_PAGE_MAX = 100


def writer(call: Call) -> quotas.Writer:
    """The writer of a money call: its operator, time, latency and injected item errors."""
    return quotas.Writer(
        operator=call.caller.account_name,
        now=call.now,
        latency=call.latency,
        rng_seed=call.rng_seed,
        item_errors=dict(call.item_errors),
    )


def list_quota_coupons(call: Call) -> Result:
    p = call.body_params()
    windows = {
        name: (p.timestamp(f"{name}_begin"), p.timestamp(f"{name}_end"))
        for name in ("create_time", "effective_time", "expire_time")
    }
    quota_type = p.integer("quota_type", default=0, enum=(0, 1))
    assert quota_type is not None
    flt = quotas.QuotaFilter(
        quota_ids=p.string_list("quota_ids", max_items=50),
        quota_status_list=p.int_list("quota_status_list", max_items=5, enum=(0, 3, 4, 5)),
        # "0 = cash-voucher quota (default)": an absent quota_type lists type 0 [INFERRED].
        quota_type=quota_type,
        windows=windows,
    )
    offset, limit = p.page(limit_max=QUOTA_PAGE_MAX)
    owner = None
    rid = p.string("indirect_partner_id", max_len=64)
    if rid is not None and call.state.partner.partner_type == "distributor":
        owner = backend.own_reseller(call.state, rid).indirect_partner_id
    found, total = quotas.list_quotas(call.state, owner, flt, offset, limit)
    return 200, {"total_count": total, "quotas": [views.quota(q) for q in found]}


def update_coupon_quotas(call: Call) -> Result:
    p = call.body_params()
    quota_id = p.string("quota_id", max_len=64, required=True)
    reseller_ids = p.string_list("indirect_partner_ids", max_items=100, required=True)
    amount = p.money("quota_amount")
    assert quota_id is not None and reseller_ids is not None
    outcome = quotas.issue(call.state, quota_id, reseller_ids, amount, writer(call))
    call.mutated = True  # records are written even when every item failed
    return 200, outcome.payload()


def reclaim_coupon_quotas(call: Call) -> Result:
    p = call.body_params()
    quota_ids = p.string_list("quota_ids", max_items=10, required=True)
    remark = p.string("remark", max_len=256, empty="keep")
    assert quota_ids is not None
    outcome = quotas.reclaim(call.state, quota_ids, remark, writer(call))
    call.mutated = bool(outcome.successes) or bool(outcome.errors)
    return 200, outcome.payload()


def _query_filters(call: Call, p: Params) -> tuple[str | None, str | None, str | None]:
    quota_id = p.string("quota_id", max_len=64)
    reseller_id = p.string("indirect_partner_id", max_len=64)
    # parent_quota_id: absent = no filter; present but empty DOES filter (§7.11, §7.12).
    parent = p.string("parent_quota_id", max_len=64, empty="keep")
    return quota_id, reseller_id, parent


def list_issued_coupon_quotas(call: Call) -> Result:
    p = call.query_params()
    quota_id, reseller_id, parent = _query_filters(call, p)
    if reseller_id is not None:
        backend.own_reseller(call.state, reseller_id)
    offset, limit = p.page(limit_max=100)
    found, total = quotas.list_issued(
        call.state,
        quota_id=quota_id,
        reseller_id=reseller_id,
        parent_quota_id=parent,
        offset=offset,
        limit=limit,
    )
    return 200, {"total_count": total, "quotas": [views.issued_quota(q, call.state) for q in found]}


def list_coupon_quotas_records(call: Call) -> Result:
    p = call.query_params()
    quota_id, reseller_id, parent = _query_filters(call, p)
    operation = p.string("operation_type", max_len=8)
    flt = quotas.RecordFilter(
        indirect_partner_id=reseller_id,
        quota_id=quota_id,
        parent_quota_id=parent,
        # "Other values are ignored (no filter)."
        operation_type=operation if operation in (quotas.ISSUE, quotas.RECLAIM) else None,
        begin=p.timestamp("operation_time_begin"),
        end=p.timestamp("operation_time_end"),
    )
    offset, limit = p.page(limit_max=RECORD_PAGE_MAX)
    found, total = quotas.list_records(call.state, flt, offset, limit)
    return 200, {"total_count": total, "records": [views.record(r) for r in found]}
