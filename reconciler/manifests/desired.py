"""The desired state the plan engine consumes: typed, frozen, every item with its source.

:func:`load_desired` is the entry point: load the manifests strictly, validate them, and build a
:class:`DesiredState`, or raise one :class:`~reconciler.errors.ManifestError` with every problem.

Customers and resellers stay *references* here (an account name or an ID, as written); the plan
engine resolves them against live state. ``DesiredState.checksum`` is ``sha256:`` + the hex
SHA-256 of :meth:`DesiredState.canonical` serialised as compact JSON with sorted keys. It covers
what the manifests ask for and nothing else: it does not change when files are renamed, split or
reordered, entries reordered, comments, whitespace, quoting style or ``metadata`` edited, but it
changes with any customer, manager, flag, balance or setting.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from reconciler.errors import SourcePosition
from reconciler.manifests.loader import API_VERSION

__all__ = [
    "AutoRenewRule",
    "CustomerRef",
    "DesiredState",
    "Guards",
    "ManagerAssignment",
    "Override",
    "QuotaTarget",
    "ResellerRef",
    "Scope",
    "ScopeRef",
    "Settings",
]

CENT = Decimal("0.01")


@dataclass(frozen=True)
class CustomerRef:
    """A customer as the manifest names it: by ID or by account name (exactly one is set)."""

    customer_id: str | None
    account_name: str | None
    source: SourcePosition

    @property
    def text(self) -> str:
        """``customerId '0a1b'`` or ``customer 'acme'``, for messages."""
        if self.customer_id is not None:
            return f"customerId '{self.customer_id}'"
        return f"customer '{self.account_name}'"

    def canonical(self) -> dict[str, str]:
        if self.customer_id is not None:
            return {"customerId": self.customer_id}
        return {"customer": str(self.account_name)}


@dataclass(frozen=True)
class ResellerRef:
    """A reseller (indirect partner) by ID or by account name (exactly one is set)."""

    reseller_id: str | None
    account_name: str | None
    source: SourcePosition

    @property
    def text(self) -> str:
        if self.reseller_id is not None:
            return f"resellerId '{self.reseller_id}'"
        return f"reseller '{self.account_name}'"

    def canonical(self) -> dict[str, str]:
        if self.reseller_id is not None:
            return {"resellerId": self.reseller_id}
        return {"reseller": str(self.account_name)}


@dataclass(frozen=True)
class ManagerAssignment:
    """``customer`` should have account manager ``manager`` (``None``: no manager)."""

    customer: CustomerRef
    manager: str | None
    source: SourcePosition


@dataclass(frozen=True)
class Override:
    """An explicit auto-renew flag for one service type or one resource."""

    enabled: bool
    source: SourcePosition


@dataclass(frozen=True)
class AutoRenewRule:
    """Auto-renew for one customer's yearly/monthly resources.

    Precedence: ``resources`` > ``service_types`` > ``default``; a resource none of them covers
    is unmanaged. ``period_type`` and ``renew_times`` are sent when enabling.
    """

    customer: CustomerRef
    default: bool | None
    period_type: str | None
    renew_times: int | None
    service_types: Mapping[str, Override]
    resources: Mapping[str, Override]
    source: SourcePosition
    default_source: SourcePosition | None = None

    def desired_for(
        self, resource_id: str, service_type_code: str
    ) -> tuple[bool, SourcePosition] | None:
        """The wanted flag for one resource and the manifest position that asks for it."""
        override = self.resources.get(resource_id) or self.service_types.get(service_type_code)
        if override is not None:
            return override.enabled, override.source
        if self.default is not None:
            return self.default, self.default_source or self.source
        return None


@dataclass(frozen=True)
class QuotaTarget:
    """``reseller`` should hold ``balance`` of coupon quota issued from ``distributor_quota_id``."""

    distributor_quota_id: str
    reseller: ResellerRef
    balance: Decimal
    source: SourcePosition
    #: where ``spec.distributorQuota`` is written (problems about the quota point there)
    quota_source: SourcePosition | None = None


@dataclass(frozen=True)
class Guards:
    """Limits that block a plan unless overridden. ``source``: the manifest's ``guards``."""

    max_change_percent: int = 30
    min_objects: int = 10
    max_issue_per_run: Decimal = Decimal("200000.00")
    max_issue_per_reseller: Decimal = Decimal("50000.00")
    max_reclaims_per_run: int = 10
    source: SourcePosition | None = None

    def limit(self, setting: str, default: Decimal | int) -> Decimal | int:
        """The limit Settings ``spec.guards.<setting>`` sets, else ``default``."""
        attribute = {
            "maxIssuePerRun": "max_issue_per_run",
            "maxIssuePerReseller": "max_issue_per_reseller",
            "maxReclaimsPerRun": "max_reclaims_per_run",
        }.get(setting)
        found: Decimal | int = getattr(self, attribute) if attribute else default
        return found


@dataclass(frozen=True)
class ScopeRef:
    """One scope entry: an account name or an ID, matched against either."""

    value: str
    source: SourcePosition

    def matches(self, identifier: str | None, account_name: str | None) -> bool:
        return self.value in (identifier, account_name)


@dataclass(frozen=True)
class Scope:
    """Restricts a run. ``None`` on a side means that side is not restricted."""

    customers: tuple[ScopeRef, ...] | None = None
    resellers: tuple[ScopeRef, ...] | None = None

    def includes_customer(self, customer_id: str | None, account_name: str | None) -> bool:
        return _included(self.customers, customer_id, account_name)

    def includes_reseller(self, reseller_id: str | None, account_name: str | None) -> bool:
        return _included(self.resellers, reseller_id, account_name)


def _included(
    refs: tuple[ScopeRef, ...] | None, identifier: str | None, account_name: str | None
) -> bool:
    return refs is None or any(r.matches(identifier, account_name) for r in refs)


@dataclass(frozen=True)
class Settings:
    """Run-wide settings; the defaults when there is no Settings document (``source`` None)."""

    agency_name: str | None = None
    account_managers: tuple[str, ...] = ()
    scope: Scope = field(default_factory=Scope)
    guards: Guards = field(default_factory=Guards)
    plan_ttl: timedelta = timedelta(hours=1)
    endpoint_profile: str | None = None
    #: the account name the API's quota records name for this reconciler's calls
    operator: str | None = None
    source: SourcePosition | None = None


@dataclass(frozen=True)
class DesiredState:
    """Everything the manifests ask for, in file order, with a content checksum."""

    managers: tuple[ManagerAssignment, ...]
    auto_renew: tuple[AutoRenewRule, ...]
    quotas: tuple[QuotaTarget, ...]
    settings: Settings
    files: tuple[str, ...]
    checksum: str

    def canonical(self) -> dict[str, Any]:
        """The content the checksum covers, as plain JSON-ready data in a stable order."""
        return canonical_content(self.managers, self.auto_renew, self.quotas, self.settings)

    def entries_of(self, kind_id: str) -> tuple[Any, ...]:
        """The entries of one kind (its plan kind id), in file order."""
        return {
            "account-manager": self.managers,
            "auto-renew": self.auto_renew,
            "reseller-quota": self.quotas,
        }[kind_id]


def canonical_content(
    managers: Sequence[ManagerAssignment],
    auto_renew: Sequence[AutoRenewRule],
    quotas: Sequence[QuotaTarget],
    settings: Settings,
) -> dict[str, Any]:
    """Desired state without positions or document names, each list sorted by its key."""
    by_customer = sorted(managers, key=lambda m: _ref_key(m.customer.canonical()))
    rules = sorted(auto_renew, key=lambda r: _ref_key(r.customer.canonical()))
    targets = sorted(
        quotas, key=lambda q: (q.distributor_quota_id, *_ref_key(q.reseller.canonical()))
    )
    return {
        "apiVersion": API_VERSION,
        "accountManagers": [{**m.customer.canonical(), "manager": m.manager} for m in by_customer],
        "autoRenew": [_canonical_rule(rule) for rule in rules],
        "resellerQuotas": [
            {
                "distributorQuota": q.distributor_quota_id,
                **q.reseller.canonical(),
                "balance": format(q.balance.quantize(CENT), "f"),
            }
            for q in targets
        ],
        "settings": _canonical_settings(settings),
    }


def _ref_key(ref: Mapping[str, str]) -> tuple[str, str]:
    ((field_name, value),) = ref.items()
    return field_name, value


def checksum_of(content: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of ``content`` as compact JSON with sorted keys."""
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical_rule(rule: AutoRenewRule) -> dict[str, Any]:
    return {
        **rule.customer.canonical(),
        "autoRenew": rule.default,
        "periodType": rule.period_type,
        "renewTimes": rule.renew_times,
        "serviceTypes": {k: o.enabled for k, o in sorted(rule.service_types.items())},
        "resources": {k: o.enabled for k, o in sorted(rule.resources.items())},
    }


def _canonical_settings(settings: Settings) -> dict[str, Any]:
    guards, scope = settings.guards, settings.scope
    return {
        "agencyName": settings.agency_name,
        "accountManagers": sorted(set(settings.account_managers)),
        "scope": {
            "customers": _scope_values(scope.customers),
            "resellers": _scope_values(scope.resellers),
        },
        "guards": {
            "maxChangePercent": guards.max_change_percent,
            "minObjects": guards.min_objects,
            "maxIssuePerRun": format(guards.max_issue_per_run.quantize(CENT), "f"),
            "maxIssuePerReseller": format(guards.max_issue_per_reseller.quantize(CENT), "f"),
            "maxReclaimsPerRun": guards.max_reclaims_per_run,
        },
        "planTtlSeconds": int(settings.plan_ttl.total_seconds()),
        "endpointProfile": settings.endpoint_profile,
        **({"operator": settings.operator} if settings.operator else {}),
    }


def _scope_values(refs: tuple[ScopeRef, ...] | None) -> list[str] | None:
    return None if refs is None else sorted({r.value for r in refs})
