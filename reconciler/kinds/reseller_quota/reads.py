"""What ``ResellerQuota`` needs read besides its resellers and distributor quotas: every quota
issued to each reseller (all parents, all statuses)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.kinds.reads import EachListing

if TYPE_CHECKING:
    from reconciler.bss.client import BssClient
    from reconciler.bss.models import IssuedQuota, Page
    from reconciler.kinds.base import LiveState

#: Page size of the issued-quota listing (its documented maximum).
ISSUED_PAGE = 100


async def _issued(client: BssClient, rid: str, offset: int, limit: int) -> Page[IssuedQuota]:
    return await client.list_issued_coupon_quotas(
        offset=offset, limit=limit, indirect_partner_id=rid
    )


ISSUED: EachListing[IssuedQuota] = EachListing(
    name="reseller-quota/issued",
    api="list_issued_coupon_quotas",
    subject="reseller",
    page=ISSUED_PAGE,
    fetch=_issued,
    key=lambda q: q.quota_id,
    label="issued quota lists",
)
READS = (ISSUED,)


def issued_to(live: LiveState, reseller_id: str) -> list[IssuedQuota]:
    """Every quota issued to the reseller as read (empty: none, or not read)."""
    return live.lists(ISSUED).get(reseller_id, [])
