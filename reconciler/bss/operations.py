"""The operations the client calls: method, exact path, and how safe each is to retry.

Paths are copied from REFERENCE §7, including the real misspelling ``suscriptions`` in §7.3.
The operation name is also the rate-limit bucket (BSS throttles per API).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class CallKind(enum.Enum):
    """Retry class of an operation (see :mod:`reconciler.bss.retry`)."""

    READ = "read"  # queries: retry on 429, 5xx, timeouts, connection errors
    SET_STATE = "set-state"  # idempotent writes: retry like reads
    MONEY = "money"  # non-idempotent writes: retry only what was never executed


class Identity(enum.Enum):
    PARTNER = "partner"
    CUSTOMER = "customer"  # temporary credentials obtained through the customer's agency


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    method: str
    path: str
    kind: CallKind
    identity: Identity = Identity.PARTNER
    service: str = "bss"  # or "iam"

    def format_path(self, **params: str) -> str:
        return self.path.format(**params) if params else self.path


_R, _S, _M = CallKind.READ, CallKind.SET_STATE, CallKind.MONEY
_CUSTOMER = Identity.CUSTOMER
_AUTORENEW = "/v2/orders/subscriptions/resources/autorenew/{resource_id}"

LIST_SUB_CUSTOMERS = Operation("list_sub_customers", "POST", "/v2/partners/sub-customers/query", _R)
LIST_INDIRECT_PARTNERS = Operation(
    "list_indirect_partners", "POST", "/v2/partners/indirect-partners/query", _R
)
LIST_CUSTOMER_RESOURCES = Operation(
    "list_pay_per_use_customer_resources", "POST", "/v2/orders/suscriptions/resources/query", _R
)
AUTO_RENEWAL_RESOURCES = Operation("auto_renewal_resources", "POST", _AUTORENEW, _S, _CUSTOMER)
CANCEL_AUTO_RENEWAL_RESOURCES = Operation(
    "cancel_auto_renewal_resources", "DELETE", _AUTORENEW, _S, _CUSTOMER
)
SET_RESOURCES_RENEW_CONFIG = Operation(
    "set_resources_renew_config",
    "POST",
    "/v2/orders/subscriptions/resources/renew/config",
    _S,
    _CUSTOMER,
)
RENEWAL_RESOURCES = Operation(
    "renewal_resources", "POST", "/v2/orders/subscriptions/resources/renew", _M, _CUSTOMER
)
LIST_QUOTA_COUPONS = Operation("list_quota_coupons", "POST", "/v2/partners/coupon-quotas/query", _R)
UPDATE_COUPON_QUOTAS = Operation(
    "update_coupon_quotas", "POST", "/v2/partners/coupon-quotas/indirect-partner-adjust", _M
)
RECLAIM_COUPON_QUOTAS = Operation(
    "reclaim_coupon_quotas", "POST", "/v2/partners/coupon-quotas/indirect-partner-reclaim", _M
)
LIST_ISSUED_COUPON_QUOTAS = Operation(
    "list_issued_coupon_quotas", "GET", "/v2/partners/issued-coupon-quotas", _R
)
LIST_COUPON_QUOTAS_RECORDS = Operation(
    "list_coupon_quotas_records", "GET", "/v2/partners/coupon-quotas/records", _R
)
_COUPONS = "/v2/promotions/benefits/partner-coupons"
CREATE_PARTNER_COUPONS = Operation("create_partner_coupons", "POST", _COUPONS, _M)
RECLAIM_PARTNER_COUPONS = Operation("reclaim_partner_coupons", "POST", f"{_COUPONS}/reclaim", _M)
LIST_ISSUED_PARTNER_COUPONS = Operation("list_issued_partner_coupons", "GET", _COUPONS, _R)
LIST_PARTNER_COUPONS_RECORD = Operation(
    "list_partner_coupons_record", "GET", f"{_COUPONS}/records/query", _R
)
_ACCOUNTS = "/v2/accounts/partner-accounts"
UPDATE_CUSTOMER_ACCOUNT_AMOUNT = Operation(
    "update_customer_account_amount", "POST", f"{_ACCOUNTS}/adjust-amount", _M
)
RECLAIM_TO_PARTNER_ACCOUNT = Operation(
    "reclaim_to_partner_account", "POST", f"{_ACCOUNTS}/reclaim", _M
)
LIST_CUSTOMERS_BALANCES_DETAIL = Operation(
    "list_customers_balances_detail",
    "POST",
    "/v2/accounts/customer-accounts/balances/batch-query",
    _R,
)
# The one /v3/ path in scope (REFERENCE §1).
LIST_PARTNER_ADJUST_RECORDS = Operation(
    "list_partner_adjust_records", "GET", "/v3/accounts/partner-accounts/adjust-records", _R
)
UPDATE_INDIRECT_PARTNER_ACCOUNT = Operation(
    "update_indirect_partner_account", "POST", f"{_ACCOUNTS}/indirect-partner-adjust", _M
)
RECLAIM_INDIRECT_PARTNER_ACCOUNT = Operation(
    "reclaim_indirect_partner_account", "POST", f"{_ACCOUNTS}/indirect-partner-reclaim", _M
)
LIST_PARTNER_BALANCES = Operation("list_partner_balances", "GET", f"{_ACCOUNTS}/balances", _R)
# IAM CreateTemporaryAccessKeyByAgency (§2.6). Each call mints fresh credentials: safe to retry.
IAM_SECURITY_TOKENS = Operation(
    "iam.create_temporary_access_key_by_agency",
    "POST",
    "/v3.0/OS-CREDENTIAL/securitytokens",
    _R,
    service="iam",
)

ALL = (
    LIST_SUB_CUSTOMERS,
    LIST_INDIRECT_PARTNERS,
    LIST_CUSTOMER_RESOURCES,
    AUTO_RENEWAL_RESOURCES,
    CANCEL_AUTO_RENEWAL_RESOURCES,
    SET_RESOURCES_RENEW_CONFIG,
    RENEWAL_RESOURCES,
    LIST_QUOTA_COUPONS,
    UPDATE_COUPON_QUOTAS,
    RECLAIM_COUPON_QUOTAS,
    LIST_ISSUED_COUPON_QUOTAS,
    LIST_COUPON_QUOTAS_RECORDS,
    CREATE_PARTNER_COUPONS,
    RECLAIM_PARTNER_COUPONS,
    LIST_ISSUED_PARTNER_COUPONS,
    LIST_PARTNER_COUPONS_RECORD,
    UPDATE_CUSTOMER_ACCOUNT_AMOUNT,
    RECLAIM_TO_PARTNER_ACCOUNT,
    LIST_CUSTOMERS_BALANCES_DETAIL,
    LIST_PARTNER_ADJUST_RECORDS,
    UPDATE_INDIRECT_PARTNER_ACCOUNT,
    RECLAIM_INDIRECT_PARTNER_ACCOUNT,
    LIST_PARTNER_BALANCES,
    IAM_SECURITY_TOKENS,
)
