"""A generated partner's state (:mod:`reconciler.emulator.generate`) written back as a seed
document, so tests can check that generated states are valid seeds and ``reconciler emulator
generate`` can write one."""

from __future__ import annotations

from typing import Any

from reconciler.emulator.models import State
from reconciler.emulator.views import fields_of

_CUSTOMER_SEED_FIELDS = (
    "customer_id", "account_name", "customer", "associated_on", "association_type", "label",
    "customer_level", "email", "account_manager",
)  # fmt: skip
_RESOURCE_SEED_FIELDS = (
    "resource_id", "id", "resource_name", "region_code", "service_type_code",
    "resource_type_code", "resource_type_name", "service_type_name", "project_id", "status",
    "effective_time", "expire_time", "expire_policy", "update_time",
)  # fmt: skip
_RESELLER_SEED_FIELDS = ("indirect_partner_id", "account_name", "name", "associated_on")
_QUOTA_SEED_FIELDS = (
    "quota_id", "quota_type", "quota_value", "balance", "quota_status", "create_time",
    "last_update_time", "effective_time", "expire_time",
)  # fmt: skip


def seed_document(s: State) -> dict[str, Any]:
    """``s`` as a seed document (for small sizes; ``seed.build_state`` reads it back): the
    partner, its managers, customers with their resources, resellers and quotas."""
    by_customer: dict[str, list[dict[str, Any]]] = {cid: [] for cid in s.customers}
    for res in s.resources.values():
        by_customer[res.customer_id].append(fields_of(res, _RESOURCE_SEED_FIELDS))
    customers = []
    for c in s.customers.values():
        entry = fields_of(c, _CUSTOMER_SEED_FIELDS)
        entry["agency_granted"] = c.agency_granted
        entry["resources"] = by_customer[c.customer_id]
        customers.append(entry)
    quotas, issued = [], []
    for q in s.quotas.values():
        entry = fields_of(q, _QUOTA_SEED_FIELDS)
        for money in ("quota_value", "balance"):
            entry[money] = f"{entry[money]:.2f}"
        if q.indirect_partner_id is None:
            quotas.append(entry)
        else:
            entry["parent_quota_id"] = q.parent_quota_id
            entry["indirect_partner_id"] = q.indirect_partner_id
            issued.append(entry)
    return {
        "version": 1,
        "partner": {
            "domain_id": s.partner.domain_id,
            "account_name": s.partner.account_name,
            "name": s.partner.name,
            "xaccount_type": s.partner.xaccount_type,
            "partner_type": s.partner.partner_type,
        },
        "account_managers": [
            {"account_name": m.account_name, "name": m.name} for m in s.account_managers.values()
        ],
        "customers": customers,
        "resellers": [fields_of(r, _RESELLER_SEED_FIELDS) for r in s.resellers.values()],
        "quotas": quotas,
        "issued_quotas": issued,
        "records": [],
    }
