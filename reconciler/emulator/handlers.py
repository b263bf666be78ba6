"""Request handlers for customers and resources (§7.1-§7.7): read parameters, validate, call the
backend, format the response. Quota handlers live in ``quota_handlers.py``.

Who may call what was already checked from the route table; handlers only see allowed callers.
"""

from __future__ import annotations

from reconciler.emulator import backend, resources, views
from reconciler.emulator.call import Call, Result
from reconciler.emulator.errors import InvalidParameter
from reconciler.emulator.params import Params

MAX_OFFSET = 40_000_000
#: §7.3/§10.2: the v2 maximum is not documented (the v1 API allowed 500) and the REFERENCE says
#: keep <= 100; the emulator is never more permissive than that, so it refuses more.
RESOURCE_PAGE_MAX = 100


def _owner(call: Call, p: Params) -> str | None:
    """The reseller whose data a distributor asks for, or ``None`` for its own."""
    rid = p.string("indirect_partner_id", max_len=64)
    if rid is None or call.state.partner.partner_type != "distributor":
        return None  # "ignored otherwise"
    return backend.own_reseller(call.state, rid).indirect_partner_id


def list_sub_customers(call: Call) -> Result:
    p = call.body_params()
    flt = backend.CustomerFilter(
        account_name=p.string("account_name", max_len=64, no_spaces=True),
        customer=p.string("customer", max_len=64, no_spaces=True),
        label=p.string("label", max_len=64, no_spaces=True),
        association_type=p.string("association_type", max_len=2, enum=("1", "2")),
        associated_on_begin=p.timestamp("associated_on_begin"),
        associated_on_end=p.timestamp("associated_on_end"),
        customer_id=p.string("customer_id", max_len=64),
    )
    offset, limit = p.page(limit_max=100, offset_max=MAX_OFFSET)
    owner = _owner(call, p)
    found, total = backend.list_customers(call.state, owner, flt, offset, limit)
    return 200, {"customer_infos": [views.customer(c) for c in found], "count": total}


def list_indirect_partners(call: Call) -> Result:
    p = call.body_params()
    flt = backend.ResellerFilter(
        account_name=p.string("account_name", max_len=64),
        associated_on_begin=p.timestamp("associated_on_begin"),
        associated_on_end=p.timestamp("associated_on_end"),
        indirect_partner_id=p.string("indirect_partner_id", max_len=64),
    )
    offset, limit = p.page(limit_max=100, offset_max=MAX_OFFSET)
    found, total = backend.list_resellers(call.state, flt, offset, limit)
    return 200, {"count": total, "indirect_partners": [views.reseller(r) for r in found]}


def list_pay_per_use_customer_resources(call: Call) -> Result:
    p = call.body_params()
    flt = resources.ResourceFilter(
        resource_ids=p.string_list("resource_ids", max_items=50, null_ok=False),
        order_id=p.string("order_id", max_len=64),
        only_main_resource=p.integer("only_main_resource", default=0, enum=(0, 1)) == 1,
        status_list=p.int_list("status_list", max_items=10, enum=(2, 3, 4, 5)),
        expire_time_begin=p.timestamp("expire_time_begin"),
        expire_time_end=p.timestamp("expire_time_end"),
        service_type_code=p.string("service_type_code", max_len=64, empty="reject"),
    )
    offset, limit = p.page(limit_max=RESOURCE_PAGE_MAX)
    customer_id = p.string("customer_id", max_len=64)
    if call.caller.kind == "customer":
        customer_id = call.caller.account_id  # a customer lists its own; customer_id is ignored
    elif customer_id is None:
        raise InvalidParameter(
            "customer_id is required when a partner lists a customer's resources"
        )
    else:
        customer = call.state.customers.get(customer_id)
        if customer is None or customer.indirect_partner_id is not None:
            # Not documented: the emulator refuses rather than answer an empty list [INFERRED].
            raise InvalidParameter(f"customer_id {customer_id} is not a customer of this partner")
    found, total = resources.list_resources(call.state, customer_id, flt, offset, limit)
    return 200, {"data": [views.resource(r, call.state) for r in found], "total_count": total}


def _resource_id(call: Call) -> str:
    resource_id = call.path_params["resource_id"]
    if len(resource_id) > 64:
        raise InvalidParameter("resource_id is longer than 64 characters")
    return resource_id


def auto_renewal_resources(call: Call) -> Result:
    resource_id = _resource_id(call)
    p = call.body_params(required=False)
    times = p.integer("auto_renew_times", lo=0, hi=99)
    period_type = p.string("period_type", enum=("MONTH", "YEAR"))
    resources.enable_auto_renew(
        call.state,
        call.caller.account_id,
        resource_id,
        times=times,
        period_type=period_type,
        stamp=call.stamp,
    )
    call.mutated = True
    return 204, None


def cancel_auto_renewal_resources(call: Call) -> Result:
    resource_id = _resource_id(call)
    resources.cancel_auto_renew(call.state, call.caller.account_id, resource_id, stamp=call.stamp)
    call.mutated = True
    return 204, None


def set_resources_renew_config(call: Call) -> Result:
    p = call.body_params()
    name = p.string("config_name", enum=("DEDUCTION_DATE", "EXPIRE_DATE"), required=True)
    value = p.string("config_value", max_len=8, required=True)
    assert name is not None and value is not None
    resources.set_renew_config(call.state, call.caller.account_id, name, value)
    call.mutated = True
    # The success body's exact values are not documented; CBC.0000/success is the BSS convention.
    return 200, {"error_code": "CBC.0000", "error_msg": "success"}


def renewal_resources(call: Call) -> Result:
    p = call.body_params()
    resource_ids = p.string_list("resource_ids", max_items=10, required=True)
    period_type = p.integer("period_type", enum=(2, 3), required=True)
    period_num = p.integer("period_num", required=True, lo=1, hi=11 if period_type == 2 else 3)
    auto_pay = p.integer("is_auto_pay", default=0, enum=(0, 1)) == 1
    assert resource_ids is not None and period_type is not None and period_num is not None
    order_ids, failures = resources.renew(
        call.state,
        call.caller.account_id,
        resource_ids,
        period_type=period_type,
        period_num=period_num,
        auto_pay=auto_pay,
        now=call.now,
    )
    call.mutated = bool(order_ids)
    return 200, {"order_ids": order_ids, "fail_resource_infos": failures}
