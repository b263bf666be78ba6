"""Route table: (method, path pattern) -> operation name, who may call it, whether it writes.

Operation names are the REFERENCE's snake_case names. Anything not listed answers 501 naming the
method and path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reconciler.emulator.auth import Caller
from reconciler.emulator.errors import AccessDenied

#: Caller classes: ``partner`` (solution provider or distributor keys), ``distributor`` (a
#: distributor's keys only), ``customer`` (a customer's temporary keys only),
#: ``partner_or_customer`` and ``iam`` (the partner's permanent keys, on the emulated IAM endpoint).
CALLERS = ("partner", "distributor", "customer", "partner_or_customer", "iam")


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    operation: str
    caller: str
    writes: bool


def _route(method: str, path: str, operation: str, caller: str, writes: bool = False) -> Route:
    parts = re.split(r"\{(\w+)\}", path)  # literal, name, literal, name, ...
    regex = "".join(
        re.escape(part) if index % 2 == 0 else f"(?P<{part}>[^/]+)"
        for index, part in enumerate(parts)
    )
    return Route(method, re.compile(f"^{regex}$"), operation, caller, writes)


ROUTES: tuple[Route, ...] = (
    _route("POST", "/v2/partners/sub-customers/query", "list_sub_customers", "partner"),
    _route("POST", "/v2/partners/indirect-partners/query", "list_indirect_partners", "distributor"),
    _route(
        "POST",
        "/v2/orders/suscriptions/resources/query",  # sic: the real path is misspelt
        "list_pay_per_use_customer_resources",
        "partner_or_customer",
    ),
    _route(
        "POST",
        "/v2/orders/subscriptions/resources/autorenew/{resource_id}",
        "auto_renewal_resources",
        "customer",
        writes=True,
    ),
    _route(
        "DELETE",
        "/v2/orders/subscriptions/resources/autorenew/{resource_id}",
        "cancel_auto_renewal_resources",
        "customer",
        writes=True,
    ),
    _route(
        "POST",
        "/v2/orders/subscriptions/resources/renew/config",
        "set_resources_renew_config",
        "customer",
        writes=True,
    ),
    _route(
        "POST", "/v2/orders/subscriptions/resources/renew", "renewal_resources", "customer", True
    ),
    _route("POST", "/v2/partners/coupon-quotas/query", "list_quota_coupons", "partner"),
    _route(
        "POST",
        "/v2/partners/coupon-quotas/indirect-partner-adjust",
        "update_coupon_quotas",
        "distributor",
        writes=True,
    ),
    _route(
        "POST",
        "/v2/partners/coupon-quotas/indirect-partner-reclaim",
        "reclaim_coupon_quotas",
        "distributor",
        writes=True,
    ),
    _route("GET", "/v2/partners/issued-coupon-quotas", "list_issued_coupon_quotas", "distributor"),
    _route(
        "GET", "/v2/partners/coupon-quotas/records", "list_coupon_quotas_records", "distributor"
    ),
    _route(
        "POST",
        "/v2/promotions/benefits/partner-coupons",
        "create_partner_coupons",
        "partner",
        writes=True,
    ),
    _route(
        "POST",
        "/v2/promotions/benefits/partner-coupons/reclaim",
        "reclaim_partner_coupons",
        "partner",
        writes=True,
    ),
    _route(
        "GET", "/v2/promotions/benefits/partner-coupons", "list_issued_partner_coupons", "partner"
    ),
    _route(
        "GET",
        "/v2/promotions/benefits/partner-coupons/records/query",
        "list_partner_coupons_record",
        "partner",
    ),
    _route(
        "POST",
        "/v2/accounts/partner-accounts/adjust-amount",
        "update_customer_account_amount",
        "partner",
        writes=True,
    ),
    _route(
        "POST",
        "/v2/accounts/partner-accounts/reclaim",
        "reclaim_to_partner_account",
        "partner",
        writes=True,
    ),
    _route(
        "POST",
        "/v2/accounts/customer-accounts/balances/batch-query",
        "list_customers_balances_detail",
        "partner",
    ),
    _route(
        "GET",
        "/v3/accounts/partner-accounts/adjust-records",  # /v3/, unlike every other path
        "list_partner_adjust_records",
        "partner",
    ),
    _route(
        "POST",
        "/v2/accounts/partner-accounts/indirect-partner-adjust",
        "update_indirect_partner_account",
        "distributor",
        writes=True,
    ),
    _route(
        "POST",
        "/v2/accounts/partner-accounts/indirect-partner-reclaim",
        "reclaim_indirect_partner_account",
        "distributor",
        writes=True,
    ),
    _route("GET", "/v2/accounts/partner-accounts/balances", "list_partner_balances", "partner"),
    _route(
        "POST",
        "/v3.0/OS-CREDENTIAL/securitytokens",
        "iam_create_temporary_access_key",
        "iam",
        writes=True,
    ),
)

OPERATIONS: tuple[str, ...] = tuple(route.operation for route in ROUTES)


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route for ``method`` and the raw ``path``, with its path parameters; else ``None``."""
    for route in ROUTES:
        if route.method != method:
            continue
        found = route.pattern.match(path)
        if found:
            return route, found.groupdict()
    return None


def authorize(route: Route, caller: Caller, partner_type: str) -> None:
    """403 ``CBC.0151`` unless ``caller`` may call ``route``."""
    kind = route.caller
    if kind == "customer" and caller.kind != "customer":
        raise AccessDenied(
            "this operation accepts only the customer's own credentials "
            "(get temporary credentials through the customer's agency)"
        )
    if kind in ("partner", "distributor") and caller.kind != "partner":
        raise AccessDenied("this operation accepts only partner credentials")
    if kind == "distributor" and partner_type != "distributor":
        raise AccessDenied("this operation is for distributors (tier-1 resellers) only")
    if route.writes and kind != "iam" and caller.role == "readonly":
        raise AccessDenied("the operator lacks the Partner Center permission item for this write")
