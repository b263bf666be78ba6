"""What ``AutoRenew`` needs read besides its customers: each one's main yearly/monthly resources."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from reconciler.bss import queries
from reconciler.kinds.reads import EachListing

if TYPE_CHECKING:
    from reconciler.bss.client import BssClient
    from reconciler.bss.models import Page, Resource
    from reconciler.kinds.auto_renew.desired import AutoRenewRule
    from reconciler.kinds.base import LiveState

#: A closed resource: not shown, not managed.
STATUS_CLOSED = 3


async def _resources(client: BssClient, cid: str, offset: int, limit: int) -> Page[Resource]:
    return await client.list_customer_resources(
        cid, offset=offset, limit=limit, only_main_resource=1
    )


def _main(resource: Resource) -> bool:
    return resource.is_main_resource


def prune(rules: Sequence[AutoRenewRule], resources: list[Resource]) -> tuple[list[Resource], int]:
    """What the diff needs of one customer's main resources: those its rule may change or report
    on, and how many others are already as the rule wants (managed, so in scope, but nothing to
    do). Everything is kept when several rules name the customer (a problem the diff reports)
    or when an override would not hold (the diff's problem and its hints need every resource);
    resources an override names, and one open resource of each service type an override
    names, are kept for the diff to check them."""
    if len(rules) != 1 or not _overrides_hold(rules[0], resources):
        return resources, 0
    rule = rules[0]
    checked: set[str] = set(rule.service_types)
    kept: list[Resource] = []
    in_sync = 0
    for res in resources:
        code = res.service_type_code or ""
        if res.resource_id in rule.resources or (code in checked and res.status != STATUS_CLOSED):
            checked.discard(code)
            kept.append(res)  # an override's subject: the diff checks it is there
            continue
        want = rule.desired_for(res.resource_id, code)
        if want is None or res.status == STATUS_CLOSED:
            continue  # unmanaged or closed: the diff skips it
        if res.status is None or res.expire_policy is None or res.auto_renew != want[0]:
            kept.append(res)
        else:
            in_sync += 1
    return kept, in_sync


def _overrides_hold(rule: AutoRenewRule, resources: list[Resource]) -> bool:
    """Every override names an open resource, or a service type of one (what the diff checks)."""
    open_ = [r for r in resources if r.status != STATUS_CLOSED]
    ids = {r.resource_id for r in open_}
    types = {r.service_type_code for r in open_}
    return all(rid in ids for rid in rule.resources) and all(
        code in types for code in rule.service_types
    )


#: A customer's main resources (``only_main_resource=1``, pages of the safe maximum, §7.3).
RESOURCES: EachListing[Resource] = EachListing(
    name="auto-renew/resources",
    api="list_pay_per_use_customer_resources",
    subject="customer",
    page=queries.MAX_RESOURCE_PAGE,
    fetch=_resources,
    key=lambda r: r.resource_id,
    label="resource lists",
    keep=_main,
    prune=prune,
)
READS = (RESOURCES,)


def resources_of(live: LiveState, customer_id: str) -> list[Resource]:
    """The customer's main resources as read (empty: none, or not read)."""
    return live.lists(RESOURCES).get(customer_id, [])
