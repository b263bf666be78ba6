"""Yearly/monthly resources: listing (§7.3), auto-renew on/off (§7.4, §7.5), renew settings (§7.6)
and manual renewal (§7.7). Attached resources follow their main resource's ``expire_policy``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reconciler.emulator import ids, timefmt
from reconciler.emulator.backend import in_window, page
from reconciler.emulator.errors import BusinessError, InvalidParameter
from reconciler.emulator.models import Order, Resource, State

AUTO_RENEW = 3
#: Cancelling auto-renew restores "the default expiry handling"; which value is not documented,
#: the REFERENCE (§6) infers 0 (grace period) [INFERRED].
DEFAULT_POLICY = 0
NOT_FOUND = "CBC.99003012"
EXPIRED_OR_FROZEN = "CBC.99003602"
ALREADY_CANCELLED = "CBC.99003605"


@dataclass(frozen=True)
class ResourceFilter:
    resource_ids: list[str] | None = None
    order_id: str | None = None
    only_main_resource: bool = False
    status_list: list[int] | None = None
    expire_time_begin: str | None = None
    expire_time_end: str | None = None
    service_type_code: str | None = None

    def matches(self, r: Resource) -> bool:
        return (
            (self.order_id is None or r.order_id == self.order_id)
            and (not self.status_list or r.status in self.status_list)
            and (self.service_type_code is None or r.service_type_code == self.service_type_code)
            and in_window(
                r.expire_time, self.expire_time_begin, self.expire_time_end, inclusive=False
            )
        )


def list_resources(
    state: State, customer_id: str, flt: ResourceFilter, offset: int, limit: int
) -> tuple[list[Resource], int]:
    """One page of a customer's resources (main resource, then its attached ones) and the total."""
    base = state.resources_of(customer_id)
    if flt.resource_ids:
        wanted = set(flt.resource_ids)
        # A listed sub-resource is returned even with only_main_resource=1 (§7.3).
        selected = [
            r
            for r in base
            if r.resource_id in wanted
            or (not flt.only_main_resource and r.parent_resource_id in wanted)
        ]
    elif flt.only_main_resource:
        selected = [r for r in base if not r.parent_resource_id]
    else:
        selected = list(base)
    matched = [r for r in selected if flt.matches(r)]
    return page(matched, offset, limit), len(matched)


def customer_resource(state: State, customer_id: str, resource_id: str) -> Resource:
    """The caller's own main-or-attached resource; another customer's is "does not exist"."""
    res = state.resources.get(resource_id)
    if res is None or res.customer_id != customer_id or res.status == 3:
        # Closed resources (status 3) are not shown anywhere; treated as absent [INFERRED].
        raise BusinessError(NOT_FOUND, f"The resource {resource_id} does not exist.")
    return res


def _main_only(res: Resource) -> Resource:
    if res.parent_resource_id:
        # Not documented; the emulator refuses so that callers act on main resources (§9).
        raise InvalidParameter(
            f"resource {res.resource_id} is attached to {res.parent_resource_id}; "
            "set auto-renew on the main resource"
        )
    return res


def enable_auto_renew(
    state: State,
    customer_id: str,
    resource_id: str,
    *,
    times: int | None,
    period_type: str | None,
    stamp: str,
) -> None:
    """Set ``expire_policy`` 3 on the main resource (its attached resources follow)."""
    res = _main_only(customer_resource(state, customer_id, resource_id))
    if res.status in (4, 5):
        raise BusinessError(
            EXPIRED_OR_FROZEN,
            f"The resource {resource_id} is expired or frozen; auto-renew is not allowed.",
        )
    if res.expire_policy != AUTO_RENEW:
        res.auto_renew_times = times if times is not None else 0  # first time: absent = unlimited
        res.period_type = period_type
    else:
        if times is not None:
            res.auto_renew_times = times
        if period_type is not None:
            res.period_type = period_type
    res.expire_policy = AUTO_RENEW
    res.update_time = stamp


def cancel_auto_renew(state: State, customer_id: str, resource_id: str, *, stamp: str) -> None:
    res = _main_only(customer_resource(state, customer_id, resource_id))
    if res.expire_policy != AUTO_RENEW:
        raise BusinessError(
            ALREADY_CANCELLED,
            f"Auto-renew of resource {resource_id} is already cancelled; operation not allowed.",
        )
    res.expire_policy = DEFAULT_POLICY
    res.auto_renew_times = None
    res.period_type = None
    res.update_time = stamp


def set_renew_config(state: State, customer_id: str, name: str, value: str) -> None:
    allowed = {"DEDUCTION_DATE": [str(d) for d in range(2, 8)],
               "EXPIRE_DATE": [str(d) for d in range(1, 29)] + ["-1"]}  # fmt: skip
    if value not in allowed[name]:
        raise InvalidParameter(f"config_value {value!r} is not valid for {name}")
    customer = state.customers[customer_id]
    customer.renew_config = {**customer.renew_config, name: value}  # assigned: see changes.py


def renew(
    state: State,
    customer_id: str,
    resource_ids: list[str],
    *,
    period_type: int,
    period_num: int,
    auto_pay: bool,
    now: float,
) -> tuple[list[str], list[dict[str, Any]]]:
    """Create one renewal order for the renewable resources; returns order ids and failures."""
    failures: list[dict[str, Any]] = []
    renewable: list[Resource] = []
    for resource_id in resource_ids:
        try:
            res = customer_resource(state, customer_id, resource_id)
            _main_only(res)
            if res.status == 4:
                raise BusinessError(EXPIRED_OR_FROZEN, f"The resource {resource_id} is frozen.")
        except (BusinessError, InvalidParameter) as err:
            failures.append(
                {"error_code": err.code, "error_msg": err.message, "resource_id": resource_id}
            )
            continue
        renewable.append(res)
    if not renewable:
        return [], failures
    stamp = timefmt.fmt(now)
    order = Order(ids.order_id(state, now), customer_id, [r.resource_id for r in renewable],
                  period_type, period_num, auto_pay, stamp)  # fmt: skip
    state.orders.append(order)
    if auto_pay:
        months = period_num * (12 if period_type == 3 else 1)
        for res in renewable:
            _extend(state, res, months, stamp)
    return [order.order_id], failures


def _extend(state: State, main: Resource, months: int, stamp: str) -> None:
    family = [main] + [
        r for r in state.resources_of(main.customer_id) if r.parent_resource_id == main.resource_id
    ]
    for res in family:
        base = max(res.expire_time or stamp, stamp)
        res.expire_time = timefmt.add_months(base, months)
        if res.status == 5:
            res.status = 2
        res.update_time = stamp
