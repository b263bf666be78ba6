"""Request handlers for cash (§7.17-§7.23).

An ``item_error`` fault on a transfer (``ids``: the customer or reseller id) answers HTTP 200 with
the injected ``error_code`` in the body and moves nothing: the shape §3 documents for single-item
business errors.
"""

from __future__ import annotations

from collections.abc import Callable

from reconciler.emulator import backend, cash, views
from reconciler.emulator.call import Call, Result
from reconciler.emulator.models import Customer, State
from reconciler.emulator.params import Params

#: §10.2: the maximum is not documented; the emulator refuses more than 100 (REFERENCE §5).
PAGE_MAX = 100
#: Not documented: at most 100 customers per balance query.
MAX_BALANCE_QUERY = 100


def _injected(call: Call, item_id: str) -> Result | None:
    code = call.item_error(item_id)
    if code is None:
        return None
    return 200, {"error_code": code, "error_msg": f"The transfer for {item_id} failed."}


CustomerMove = Callable[[State, Customer, cash.Transfer], str]
ResellerMove = Callable[[State, str, cash.Transfer], str]


def _customer_transfer(call: Call, move: CustomerMove, id_key: str) -> Result:
    """§7.17/§7.18: validate, refuse (or fail an injected item), then move and answer the id."""
    p = call.body_params()
    customer_id = p.string("customer_id", max_len=64, required=True)
    amount = p.money("amount")
    owner = backend.acting_for(
        call.state, p.string("indirect_partner_id", max_len=64, empty="reject")
    )
    assert customer_id is not None
    customer = cash.resale_customer(call.state, customer_id, owner)
    injected = _injected(call, customer_id)
    if injected is not None:
        return injected
    trans_id = move(call.state, customer, cash.Transfer(amount, call.now, owner))
    call.mutated = True
    return 200, {id_key: trans_id}


def _reseller_transfer(call: Call, move: ResellerMove, id_key: str) -> Result:
    """§7.21/§7.22: the same for the distributor and one of its resellers."""
    p = call.body_params()
    reseller_id = p.string("indirect_partner_id", max_len=64, required=True)
    amount = p.money("amount")
    assert reseller_id is not None
    backend.own_reseller(call.state, reseller_id)
    injected = _injected(call, reseller_id)
    if injected is not None:
        return injected
    trans_id = move(call.state, reseller_id, cash.Transfer(amount, call.now))
    call.mutated = True
    return 200, {id_key: trans_id}


def update_customer_account_amount(call: Call) -> Result:
    return _customer_transfer(call, cash.fund_customer, "transfer_id")


def reclaim_to_partner_account(call: Call) -> Result:
    return _customer_transfer(call, cash.reclaim_customer, "trans_id")


def update_indirect_partner_account(call: Call) -> Result:
    return _reseller_transfer(call, cash.fund_reseller, "transfer_id")


def reclaim_indirect_partner_account(call: Call) -> Result:
    return _reseller_transfer(call, cash.reclaim_reseller, "trans_id")


def list_customers_balances_detail(call: Call) -> Result:
    p = call.body_params()
    customer_ids = p.keyed_ids("customer_infos", "customer_id", max_items=MAX_BALANCE_QUERY)
    owner = backend.acting_for(call.state, p.string("indirect_partner_id", max_len=64))
    found = cash.customer_balances(call.state, customer_ids, owner)
    return 200, {"customer_balances": [views.customer_balance(c) for c in found]}


def _ledger_owner(call: Call, p: Params) -> str | None:
    """§7.20: ``indirect_partner_id`` is "only meaningful for a distributor ...; otherwise
    ignored"."""
    rid = p.string("indirect_partner_id", max_len=64)
    if call.state.partner.partner_type != "distributor":
        return None
    return backend.acting_for(call.state, rid)


def list_partner_adjust_records(call: Call) -> Result:
    p = call.query_params()
    flt = cash.AdjustFilter(
        customer_id=p.string("customer_id", max_len=64, empty="reject"),
        operation_type=p.string("operation_type", enum=cash.OPERATION_TYPES),
        trans_id=p.string("trans_id", max_len=64),
        begin=p.timestamp("operation_time_begin"),
        end=p.timestamp("operation_time_end"),
    )
    offset, limit = p.page(limit_max=PAGE_MAX)
    owner = _ledger_owner(call, p)
    found, total = cash.list_adjust_records(call.state, owner, flt, offset, limit)
    return 200, {"records": [views.adjust_record(r) for r in found], "total_count": total}


def list_partner_balances(call: Call) -> Result:
    p = call.query_params()
    owner = backend.acting_for(call.state, p.string("indirect_partner_id", max_len=64))
    return 200, {"account_balances": [views.account(a) for a in cash.balances(call.state, owner)]}
