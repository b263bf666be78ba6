"""The benchmark's workload: a generated partner, the manifests that go with it, and the minimum.

* :func:`desired_state` is what the partner's manifests declare (built as
  :class:`~reconciler.manifests.desired.DesiredState` objects directly: the plan-time figure is the
  plan, not YAML parsing): an AutoRenew rule and an account-manager assignment for every customer, a
  ResellerQuota target for every (reseller, distributor quota) pair. Live state differs from it by
  the generator's drift (about 1% of auto-renew flags and 2% of quota balances). *
  :func:`small_desired_state` names only a few customers and resellers (the scoped case). *
  :func:`minimum_calls` counts, per API, the calls a perfect reader needs for the same data, and
  :func:`lower_bound` turns them into the floor on plan time: the slowest API's calls divided by its
  rate, plus one round trip to fill the pipeline.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from reconciler.bss import queries as q
from reconciler.emulator.credentials import DEFAULT_XACCOUNT_TYPE
from reconciler.emulator.generate import GeneratedPartner
from reconciler.errors import SourcePosition
from reconciler.kinds.account_managers.desired import ManagerAssignment
from reconciler.kinds.auto_renew.desired import AutoRenewRule
from reconciler.kinds.reseller_quota.desired import QuotaTarget
from reconciler.manifests.assemble import desired_state as assembled
from reconciler.manifests.desired import (
    CustomerRef,
    DesiredState,
    Guards,
    ResellerRef,
    Settings,
)

CUSTOMER_PAGE = 100
RESOURCE_PAGE = q.MAX_RESOURCE_PAGE
ISSUED_PAGE = 100
QUOTA_IDS_PER_CALL = 50
#: Every n-th customer (and reseller) is named by account name instead of id.
BY_NAME_EVERY = 10
GENEROUS = Guards(
    max_change_percent=100,
    min_objects=10,
    limits={
        "maxIssuePerRun": Decimal("100000000.00"),
        "maxIssuePerReseller": Decimal("10000000.00"),
        "maxReclaimsPerRun": 100_000,
    },
)
AM, AR, RQ = "account-manager", "auto-renew", "reseller-quota"

API_CUSTOMERS = "list_sub_customers"
API_RESELLERS = "list_indirect_partners"
API_RESOURCES = "list_pay_per_use_customer_resources"
API_ISSUED = "list_issued_coupon_quotas"
API_QUOTAS = "list_quota_coupons"
API_IAM = "iam.create_temporary_access_key_by_agency"


def _at(file: str, line: int) -> SourcePosition:
    return SourcePosition(file, line, 7)


def desired_state(
    gen: GeneratedPartner,
    customers: Iterable[str] | None = None,
    resellers: Iterable[str] | None = None,
) -> DesiredState:
    """What the manifests declare for ``customers`` / ``resellers`` (ids; default: all)."""
    state = gen.state
    cids = list(state.customers) if customers is None else list(customers)
    rids = set(state.resellers) if resellers is None else set(resellers)
    managers: list[ManagerAssignment] = []
    rules: list[AutoRenewRule] = []
    for n, cid in enumerate(cids):
        c = state.customers[cid]
        by_name = n % BY_NAME_EVERY == BY_NAME_EVERY - 1
        line = n + 1
        ref = CustomerRef(
            None if by_name else cid,
            c.account_name if by_name else None,
            _at("manifests/account-managers.yaml", line),
        )
        managers.append(ManagerAssignment(ref, c.account_manager, ref.source))
        rule_ref = CustomerRef(
            ref.customer_id, ref.account_name, _at("manifests/auto-renew.yaml", 3 * line)
        )
        src = _at("manifests/auto-renew.yaml", 3 * line + 1)
        rules.append(
            AutoRenewRule(
                customer=rule_ref,
                default=gen.auto_renew_intent[cid],
                period_type=None,
                renew_times=None,
                service_types={},
                resources={},
                source=rule_ref.source,
                default_source=src,
            )
        )
    quotas: list[QuotaTarget] = []
    reseller_index = {rid: n for n, rid in enumerate(state.resellers)}
    for n, ((rid, parent), balance) in enumerate(sorted(gen.quota_intent.items())):
        if rid not in rids:
            continue
        by_name = reseller_index[rid] % BY_NAME_EVERY == BY_NAME_EVERY - 1
        name = state.resellers[rid].account_name
        pos = _at("manifests/reseller-quotas.yaml", 2 * n + 1)
        quotas.append(
            QuotaTarget(
                distributor_quota_id=parent,
                reseller=ResellerRef(None if by_name else rid, name if by_name else None, pos),
                balance=balance,
                source=_at("manifests/reseller-quotas.yaml", 2 * n + 2),
                quota_source=_at("manifests/reseller-quotas.yaml", 1),
            )
        )
    settings = Settings(
        agency_name=DEFAULT_XACCOUNT_TYPE,
        account_managers=tuple(state.account_managers),
        guards=GENEROUS,
        plan_ttl=timedelta(hours=24),
        source=_at("manifests/settings.yaml", 1),
    )
    files = (
        "manifests/account-managers.yaml",
        "manifests/auto-renew.yaml",
        "manifests/reseller-quotas.yaml",
        "manifests/settings.yaml",
    )
    entries = {AM: tuple(managers), AR: tuple(rules), RQ: tuple(quotas)}
    return assembled(entries, settings, files)


def small_desired_state(
    gen: GeneratedPartner, customers: int = 10, resellers: int = 2
) -> DesiredState:
    """A manifest that names a few customers (heavy ones included) and resellers."""
    counts = gen.resource_counts()
    ids = list(gen.state.customers)
    step = max(1, len(ids) // customers)
    chosen = ids[::step][: customers - 1]
    heaviest = max(counts, key=lambda cid: (counts[cid], cid))
    if heaviest not in chosen:
        chosen.append(heaviest)
    rids = list(gen.state.resellers)[:resellers]
    return desired_state(gen, chosen[:customers], rids)


@dataclass(frozen=True)
class Minimum:
    """The calls a perfect reader needs, per API, and the floor on plan time they imply."""

    calls: Mapping[str, int]
    rates: Mapping[str, float]
    fill_seconds: float

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def seconds(self, api: str) -> float:
        return self.calls[api] / self.rates.get(api, 10.0)

    @property
    def slowest(self) -> str:
        return max(self.calls, key=self.seconds)

    @property
    def lower_bound(self) -> float:
        """The slowest API's calls / its rate, plus one round trip to fill the pipeline."""
        return self.seconds(self.slowest) + self.fill_seconds


def minimum_calls(
    gen: GeneratedPartner,
    desired: DesiredState,
    *,
    iam_customers: int,
    rate: float = 10.0,
    fill_seconds: float = 0.12,
) -> Minimum:
    """Per API: customer pages at 100, one resource listing per customer in scope plus its extra
    pages at 500, reseller pages at 100, one issued-quota listing per reseller plus extra pages at
    100, distributor quotas 50 ids per call, and one IAM call per customer whose auto-renew must
    change (its agency is checked).

    For whole-partner manifests the listings are the cheapest way to resolve references; for a
    manifest naming few, one targeted query each is (what a perfect reader would do).
    """
    state = gen.state
    counts = gen.resource_counts()
    issued = gen.issued_counts()
    customer = _customer_ids(gen)
    reseller = _reseller_ids(gen)
    refs = [r.customer for r in desired.entries_of(AR)] + [
        m.customer for m in desired.entries_of(AM)
    ]
    customer_ids = {customer(ref.customer_id, ref.account_name) for ref in refs}
    renew_ids = {
        customer(r.customer.customer_id, r.customer.account_name) for r in desired.entries_of(AR)
    }
    reseller_ids = {
        reseller(t.reseller.reseller_id, t.reseller.account_name) for t in desired.entries_of(RQ)
    }
    parents = {t.distributor_quota_id for t in desired.entries_of(RQ)}
    calls = {
        API_CUSTOMERS: min(len(customer_ids), math.ceil(len(state.customers) / CUSTOMER_PAGE)),
        API_RESOURCES: sum(max(1, math.ceil(counts[c] / RESOURCE_PAGE)) for c in renew_ids),
        API_RESELLERS: min(len(reseller_ids), math.ceil(len(state.resellers) / CUSTOMER_PAGE)),
        API_ISSUED: sum(max(1, math.ceil(issued[r] / ISSUED_PAGE)) for r in reseller_ids),
        API_QUOTAS: math.ceil(len(parents) / QUOTA_IDS_PER_CALL),
        API_IAM: iam_customers,
    }
    return Minimum(calls, dict.fromkeys(calls, rate), fill_seconds)


def agency_customers(gen: GeneratedPartner, desired: DesiredState) -> int:
    """Customers in scope with a renewable resource whose auto-renew differs from the manifest."""
    customer = _customer_ids(gen)
    wanted = {
        customer(r.customer.customer_id, r.customer.account_name): bool(r.default)
        for r in desired.entries_of(AR)
    }
    needing: set[str] = set()
    for res in gen.state.resources.values():
        want = wanted.get(res.customer_id)
        if want is None or res.status != 2 or res.parent_resource_id:
            continue
        if (res.expire_policy == 3) != want:
            needing.add(res.customer_id)
    return len(needing)


def _customer_ids(gen: GeneratedPartner) -> Callable[[str | None, str | None], str]:
    """Resolves a manifest reference (id or account name) to a customer id."""
    by_name = {c.account_name: cid for cid, c in gen.state.customers.items()}
    return lambda cid, name: cid if cid is not None else by_name[name or ""]


def _reseller_ids(gen: GeneratedPartner) -> Callable[[str | None, str | None], str]:
    by_name = {r.account_name: rid for rid, r in gen.state.resellers.items()}
    return lambda rid, name: rid if rid is not None else by_name[name or ""]
