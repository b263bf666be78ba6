"""What ``AutoRenew`` needs read besides its customers: each one's main yearly/monthly resources."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.bss import queries
from reconciler.kinds.reads import EachListing

if TYPE_CHECKING:
    from reconciler.bss.client import BssClient
    from reconciler.bss.models import Page, Resource
    from reconciler.kinds.base import LiveState


async def _resources(client: BssClient, cid: str, offset: int, limit: int) -> Page[Resource]:
    return await client.list_customer_resources(
        cid, offset=offset, limit=limit, only_main_resource=1
    )


def _main(resource: Resource) -> bool:
    return resource.is_main_resource


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
)
READS = (RESOURCES,)


def resources_of(live: LiveState, customer_id: str) -> list[Resource]:
    """The customer's main resources as read (empty: none, or not read)."""
    return live.lists(RESOURCES).get(customer_id, [])
