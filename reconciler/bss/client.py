"""``BssClient``: the typed, asynchronous client of the BSS partner API.

::

    async with BssClient(endpoint, credentials, agency_name="...") as client:
        page = await client.list_sub_customers(limit=100)
        async for resource in client.iter_customer_resources("cust-1"):
            ...
        result = await client.update_coupon_quotas(quota_id, ["ip-1"], Decimal("1200.00"))
        coupons = await client.create_partner_coupons(quota_id, ["cust-1"], Decimal("50.00"))
        moved = await client.update_customer_account_amount("cust-1", Decimal("200.00"))

Every call is paced per API, signed, retried as :mod:`reconciler.bss.retry` allows, and counted
(:meth:`BssClient.stats`). Customer-only calls (auto-renew) run with the customer's temporary
credentials from IAM (:mod:`reconciler.bss.iam`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from reconciler.errors import ApiError

from . import operations as ops
from . import queries as q
from .cash import CashApi
from .core import _by, _required
from .coupons_api import CouponsApi
from .models import (
    CouponQuota,
    Customer,
    IndirectPartner,
    IssuedQuota,
    IssueResult,
    Page,
    QuotaRecord,
    ReclaimResult,
    RenewalResult,
    Resource,
)
from .paging import DEFAULT_PREFETCH
from .redact import get_logger

if TYPE_CHECKING:
    from typing_extensions import Unpack

log = get_logger(__name__)
T = TypeVar("T")

#: ``cancel_auto_renewal_resources``: auto-renew is already off.
ALREADY_CANCELLED = "CBC.99003605"


class BssClient(CouponsApi, CashApi):
    """The BSS partner API, for a distributor's account.

    Customer coupons (§7.13-§7.16) come from :class:`~reconciler.bss.coupons_api.CouponsApi`, cash
    (§7.17-§7.23) from :class:`~reconciler.bss.cash.CashApi`.
    """

    # -- reads: one page ----------------------------------------------------------------------

    async def list_sub_customers(
        self,
        *,
        offset: int = 0,
        limit: int = q.DEFAULT_PAGE,
        **filters: Unpack[q.SubCustomerFilters],
    ) -> Page[Customer]:
        """§7.1: one page of the partner's customers (``count`` is the total)."""
        return await self._page(q.SUB_CUSTOMERS, Customer.from_api, offset, limit, filters)

    async def list_indirect_partners(
        self,
        *,
        offset: int = 0,
        limit: int = q.DEFAULT_PAGE,
        **filters: Unpack[q.IndirectPartnerFilters],
    ) -> Page[IndirectPartner]:
        """§7.2: one page of the distributor's resellers."""
        return await self._page(
            q.INDIRECT_PARTNERS, IndirectPartner.from_api, offset, limit, filters
        )

    async def list_customer_resources(
        self,
        customer_id: str,
        *,
        offset: int = 0,
        limit: int = q.DEFAULT_PAGE,
        **filters: Unpack[q.ResourceFilters],
    ) -> Page[Resource]:
        """§7.3 (``list_pay_per_use_customer_resources``): one page of a customer's resources."""
        return await self._page(
            q.CUSTOMER_RESOURCES,
            _resource_parser(customer_id),
            offset,
            limit,
            {**filters, "customer_id": _required(customer_id, "customer_id")},
        )

    async def list_quota_coupons(
        self,
        *,
        offset: int = 0,
        limit: int = q.DEFAULT_PAGE,
        **filters: Unpack[q.QuotaCouponFilters],
    ) -> Page[CouponQuota]:
        """§7.8: one page of the partner's (or a reseller's) coupon quotas."""
        return await self._page(q.QUOTA_COUPONS, CouponQuota.from_api, offset, limit, filters)

    async def list_issued_coupon_quotas(
        self,
        *,
        offset: int = 0,
        limit: int = q.DEFAULT_PAGE,
        **filters: Unpack[q.IssuedQuotaFilters],
    ) -> Page[IssuedQuota]:
        """§7.11: one page of the quotas issued to resellers."""
        return await self._page(q.ISSUED_QUOTAS, IssuedQuota.from_api, offset, limit, filters)

    async def list_coupon_quotas_records(
        self,
        *,
        offset: int = 0,
        limit: int = q.DEFAULT_PAGE,
        **filters: Unpack[q.QuotaRecordFilters],
    ) -> Page[QuotaRecord]:
        """§7.12: one page of the issue/reclaim audit log."""
        return await self._page(q.QUOTA_RECORDS, QuotaRecord.from_api, offset, limit, filters)

    # -- reads: every page --------------------------------------------------------------------

    def iter_sub_customers(
        self,
        *,
        page_size: int = q.DEFAULT_PAGE,
        prefetch: int = DEFAULT_PREFETCH,
        **filters: Unpack[q.SubCustomerFilters],
    ) -> AsyncIterator[Customer]:
        """Every customer matching ``filters``, de-duplicated by ``customer_id``."""
        key = _by("customer_id")
        return self._iter(q.SUB_CUSTOMERS, Customer.from_api, key, filters, page_size, prefetch)

    def iter_indirect_partners(
        self,
        *,
        page_size: int = q.DEFAULT_PAGE,
        prefetch: int = DEFAULT_PREFETCH,
        **filters: Unpack[q.IndirectPartnerFilters],
    ) -> AsyncIterator[IndirectPartner]:
        """Every reseller, de-duplicated by ``indirect_partner_id``."""
        key = _by("indirect_partner_id")
        parse = IndirectPartner.from_api
        return self._iter(q.INDIRECT_PARTNERS, parse, key, filters, page_size, prefetch)

    def iter_customer_resources(
        self,
        customer_id: str,
        *,
        page_size: int = q.DEFAULT_PAGE,
        prefetch: int = DEFAULT_PREFETCH,
        **filters: Unpack[q.ResourceFilters],
    ) -> AsyncIterator[Resource]:
        """Every resource of one customer; ``page_size`` up to 100 (the safe maximum, §7.3)."""
        scoped = {**filters, "customer_id": _required(customer_id, "customer_id")}
        parse = _resource_parser(customer_id)
        key = _by("resource_id")
        return self._iter(q.CUSTOMER_RESOURCES, parse, key, scoped, page_size, prefetch)

    def iter_quota_coupons(
        self,
        *,
        page_size: int = q.DEFAULT_PAGE,
        prefetch: int = DEFAULT_PREFETCH,
        **filters: Unpack[q.QuotaCouponFilters],
    ) -> AsyncIterator[CouponQuota]:
        """Every coupon quota, de-duplicated by ``quota_id``."""
        key = _by("quota_id")
        return self._iter(q.QUOTA_COUPONS, CouponQuota.from_api, key, filters, page_size, prefetch)

    def iter_issued_coupon_quotas(
        self,
        *,
        page_size: int = q.DEFAULT_PAGE,
        prefetch: int = DEFAULT_PREFETCH,
        **filters: Unpack[q.IssuedQuotaFilters],
    ) -> AsyncIterator[IssuedQuota]:
        """Every issued quota, de-duplicated by ``quota_id``."""
        key = _by("quota_id")
        return self._iter(q.ISSUED_QUOTAS, IssuedQuota.from_api, key, filters, page_size, prefetch)

    def iter_coupon_quotas_records(
        self,
        *,
        page_size: int = q.DEFAULT_PAGE,
        prefetch: int = DEFAULT_PREFETCH,
        **filters: Unpack[q.QuotaRecordFilters],
    ) -> AsyncIterator[QuotaRecord]:
        """Every issue/reclaim record, de-duplicated by record ``id``."""
        key = _by("id")
        return self._iter(q.QUOTA_RECORDS, QuotaRecord.from_api, key, filters, page_size, prefetch)

    async def all_sub_customers(self, **filters: Unpack[q.SubCustomerFilters]) -> list[Customer]:
        return [item async for item in self.iter_sub_customers(**filters)]

    async def all_indirect_partners(
        self, **filters: Unpack[q.IndirectPartnerFilters]
    ) -> list[IndirectPartner]:
        return [item async for item in self.iter_indirect_partners(**filters)]

    async def all_customer_resources(
        self, customer_id: str, **filters: Unpack[q.ResourceFilters]
    ) -> list[Resource]:
        return [item async for item in self.iter_customer_resources(customer_id, **filters)]

    async def all_quota_coupons(self, **filters: Unpack[q.QuotaCouponFilters]) -> list[CouponQuota]:
        return [item async for item in self.iter_quota_coupons(**filters)]

    async def all_issued_coupon_quotas(
        self, **filters: Unpack[q.IssuedQuotaFilters]
    ) -> list[IssuedQuota]:
        return [item async for item in self.iter_issued_coupon_quotas(**filters)]

    async def all_coupon_quotas_records(
        self, **filters: Unpack[q.QuotaRecordFilters]
    ) -> list[QuotaRecord]:
        return [item async for item in self.iter_coupon_quotas_records(**filters)]

    # -- writes -------------------------------------------------------------------------------

    async def update_coupon_quotas(
        self, quota_id: str, indirect_partner_ids: Sequence[str], quota_amount: Decimal
    ) -> IssueResult:
        """§7.9: issue ``quota_amount`` from ``quota_id`` to each reseller. Moves value.

        Never retried after it may have been sent: a lost answer or a 5xx raises
        :class:`~reconciler.errors.OutcomeUnknownError`.
        """
        body = q.issue_body(quota_id, indirect_partner_ids, quota_amount)
        data = await self._call(ops.UPDATE_COUPON_QUOTAS, body=body)
        return IssueResult.from_api(data, body["indirect_partner_ids"])

    async def reclaim_coupon_quotas(
        self, quota_ids: Sequence[str], remark: str | None = None
    ) -> ReclaimResult:
        """§7.10: reclaim the whole balance of each reseller quota. Moves value."""
        body = q.reclaim_body(quota_ids, remark)
        data = await self._call(ops.RECLAIM_COUPON_QUOTAS, body=body)
        return ReclaimResult.from_api(data, body["quota_ids"])

    async def auto_renewal_resources(
        self,
        customer_id: str,
        resource_id: str,
        *,
        auto_renew_times: int | None = None,
        period_type: str | None = None,
    ) -> None:
        """§7.4: switch auto-renew on (as the customer). Set-to-state, so retried freely."""
        op = ops.AUTO_RENEWAL_RESOURCES
        path = op.format_path(resource_id=q.resource_path_id(resource_id))
        body = q.auto_renew_body(auto_renew_times, period_type)
        await self._as_customer(op, _required(customer_id, "customer_id"), path=path, body=body)

    async def cancel_auto_renewal_resources(self, customer_id: str, resource_id: str) -> bool:
        """§7.5: switch auto-renew off. ``False`` when it was already off (``CBC.99003605``)."""
        op = ops.CANCEL_AUTO_RENEWAL_RESOURCES
        path = op.format_path(resource_id=q.resource_path_id(resource_id))
        try:
            await self._as_customer(op, _required(customer_id, "customer_id"), path=path)
        except ApiError as exc:
            if exc.error_code == ALREADY_CANCELLED:
                return False
            raise
        return True

    async def set_resources_renew_config(
        self, customer_id: str, config_name: str, config_value: str
    ) -> None:
        """§7.6: the customer's account-wide renewal charge day or common expiry day."""
        op = ops.SET_RESOURCES_RENEW_CONFIG
        body = q.renew_config_body(config_name, config_value)
        await self._as_customer(op, _required(customer_id, "customer_id"), path=op.path, body=body)

    async def renewal_resources(
        self,
        customer_id: str,
        resource_ids: Sequence[str],
        *,
        period_type: int,
        period_num: int,
        is_auto_pay: int = 0,
    ) -> RenewalResult:
        """§7.7: renew now (creates orders; pays them when ``is_auto_pay=1``). Never re-sent."""
        op = ops.RENEWAL_RESOURCES
        body = q.renewal_body(resource_ids, period_type, period_num, is_auto_pay)
        data = await self._as_customer(
            op, _required(customer_id, "customer_id"), path=op.path, body=body
        )
        return RenewalResult.from_api(data)


def _resource_parser(customer_id: str) -> Callable[[Mapping[str, Any]], Resource]:
    def parse(data: Mapping[str, Any]) -> Resource:
        return Resource.from_api(data, customer_id)

    return parse
