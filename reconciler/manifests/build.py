"""Build :class:`~reconciler.manifests.desired.DesiredState` from documents that passed validation.

The documents are trusted to match their schemas here; the small readers below still assert
types, so a document that skipped validation fails loudly rather than producing a wrong
desired state.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import timedelta
from decimal import Decimal

from reconciler.manifests.desired import (
    CENT,
    NO_OVERRIDES,
    AutoRenewRule,
    CustomerRef,
    DesiredState,
    Guards,
    ManagerAssignment,
    Override,
    QuotaTarget,
    ResellerRef,
    Scope,
    ScopeRef,
    Settings,
    checksum_of_desired,
)
from reconciler.manifests.loader import Document
from reconciler.manifests.yamlstrict import JsonPath, YamlValue

__all__ = ["DesiredBuilder", "build_desired", "parse_duration"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def build_desired(documents: Sequence[Document]) -> DesiredState:
    """The desired state of validated ``documents`` (in the order given)."""
    builder = DesiredBuilder()
    for doc in documents:
        builder.add(doc)
    return builder.finish()


class DesiredBuilder:
    """Builds the desired state a document at a time.

    ``consume``: let go of each list entry of a document once it is built, so that a manifest of
    100,000 customers never holds its YAML and its desired state whole at the same time
    (:func:`~reconciler.manifests.load.load_desired`, which owns its documents)."""

    def __init__(self, *, consume: bool = False) -> None:
        self.consume = consume
        self.managers: list[ManagerAssignment] = []
        self.rules: list[AutoRenewRule] = []
        self.quotas: list[QuotaTarget] = []
        self.settings = Settings()
        self.files: dict[str, None] = {}

    def add(self, doc: Document) -> None:
        self.files[doc.file] = None
        if doc.kind == "AccountManagers":
            self.managers.extend(_assignments(doc, self.consume))
        elif doc.kind == "AutoRenew":
            self.rules.extend(_rules(doc, self.consume))
        elif doc.kind == "ResellerQuota":
            self.quotas.extend(_targets(doc))
        elif doc.kind == "Settings":
            self.settings = _settings(doc)

    def finish(self) -> DesiredState:
        managers, rules, quotas = self.managers, self.rules, self.quotas
        return DesiredState(
            managers=tuple(managers),
            auto_renew=tuple(rules),
            quotas=tuple(quotas),
            settings=self.settings,
            files=tuple(self.files),
            checksum=checksum_of_desired(managers, rules, quotas, self.settings),
        )


def parse_duration(text: str) -> timedelta:
    """``"90m"`` -> 90 minutes. Units: s, m, h, d."""
    return timedelta(seconds=int(text[:-1]) * _UNITS[text[-1]])


def _mapping(value: YamlValue) -> dict[str, YamlValue]:
    assert value is None or isinstance(value, dict), value
    return value or {}


def _text(entry: dict[str, YamlValue], key: str) -> str | None:
    value = entry.get(key)
    assert value is None or isinstance(value, str), (key, value)
    return value


def _integer(entry: dict[str, YamlValue], key: str) -> int | None:
    value = entry.get(key)
    assert value is None or (isinstance(value, int) and not isinstance(value, bool)), (key, value)
    return value


def _flag(entry: dict[str, YamlValue], key: str) -> bool | None:
    value = entry.get(key)
    assert value is None or isinstance(value, bool), (key, value)
    return value


def _money(entry: dict[str, YamlValue], key: str) -> Decimal | None:
    text = _text(entry, key)
    return None if text is None else Decimal(text).quantize(CENT)


def _entries(
    doc: Document, key: str, consume: bool = False
) -> Iterator[tuple[JsonPath, dict[str, YamlValue]]]:
    """Each entry of ``spec.<key>`` with its path; ``consume``: each entry is let go of once
    the next is asked for (its position stays known: the list keeps its items' positions)."""
    items = _mapping(doc.content.get("spec")).get(key) or []
    assert isinstance(items, list), doc.start
    for index, entry in enumerate(items):
        yield ("spec", key, index), _mapping(entry)
        if consume:
            items[index] = None


def _customer(doc: Document, path: JsonPath, entry: dict[str, YamlValue]) -> CustomerRef:
    ident, name = _text(entry, "customerId"), _text(entry, "customer")
    where = doc.pos((*path, "customerId" if ident is not None else "customer"))
    return CustomerRef(customer_id=ident, account_name=name, source=where)


def _reseller(doc: Document, path: JsonPath, entry: dict[str, YamlValue]) -> ResellerRef:
    ident, name = _text(entry, "resellerId"), _text(entry, "reseller")
    where = doc.pos((*path, "resellerId" if ident is not None else "reseller"))
    return ResellerRef(reseller_id=ident, account_name=name, source=where)


def _toggles(doc: Document, path: JsonPath, value: YamlValue) -> Mapping[str, Override]:
    if not value:
        return NO_OVERRIDES  # most rules: no per-service or per-resource flags
    flags: dict[str, Override] = {}
    for key, enabled in _mapping(value).items():
        assert isinstance(enabled, bool), doc.pos((*path, key))
        flags[key] = Override(enabled=enabled, source=doc.key_pos((*path, key)))
    return flags


def _assignments(doc: Document, consume: bool = False) -> list[ManagerAssignment]:
    return [
        ManagerAssignment(
            customer=_customer(doc, path, entry),
            manager=_text(entry, "manager"),
            source=doc.pos(path),
        )
        for path, entry in _entries(doc, "customers", consume)
    ]


def _rules(doc: Document, consume: bool = False) -> list[AutoRenewRule]:
    rules = []
    for path, entry in _entries(doc, "customers", consume):
        default = _flag(entry, "autoRenew")
        rules.append(
            AutoRenewRule(
                customer=_customer(doc, path, entry),
                default=default,
                period_type=_text(entry, "periodType"),
                renew_times=_integer(entry, "renewTimes"),
                service_types=_toggles(doc, (*path, "serviceTypes"), entry.get("serviceTypes")),
                resources=_toggles(doc, (*path, "resources"), entry.get("resources")),
                source=doc.pos(path),
                default_source=None if default is None else doc.pos((*path, "autoRenew")),
            )
        )
    return rules


def _targets(doc: Document) -> list[QuotaTarget]:
    quota = _text(_mapping(doc.content.get("spec")), "distributorQuota")
    assert quota is not None, doc.start
    targets = []
    for path, entry in _entries(doc, "resellers"):
        balance = _money(entry, "balance")
        assert balance is not None, doc.pos(path)
        where = doc.pos((*path, "balance"))
        quota_at = doc.pos(("spec", "distributorQuota"))
        targets.append(
            QuotaTarget(quota, _reseller(doc, path, entry), balance, where, quota_source=quota_at)
        )
    return targets


def _settings(doc: Document) -> Settings:
    spec = _mapping(doc.content.get("spec"))
    ttl = _text(spec, "planTtl")
    scope = _mapping(spec.get("scope"))
    return Settings(
        agency_name=_text(spec, "agencyName"),
        account_managers=tuple(_strings(spec.get("accountManagers"))),
        scope=Scope(
            customers=_scope(doc, scope.get("customers"), ("spec", "scope", "customers")),
            resellers=_scope(doc, scope.get("resellers"), ("spec", "scope", "resellers")),
        ),
        guards=_guards(doc, spec.get("guards")),
        plan_ttl=parse_duration(ttl) if ttl is not None else Settings.plan_ttl,
        endpoint_profile=_text(_mapping(spec.get("endpoint")), "profile"),
        operator=_text(spec, "operator"),
        source=doc.start,
    )


def _strings(value: YamlValue) -> list[str]:
    assert value is None or isinstance(value, list), value
    items = value or []
    assert all(isinstance(item, str) for item in items), items
    return [str(item) for item in items]


def _scope(doc: Document, value: YamlValue, path: JsonPath) -> tuple[ScopeRef, ...] | None:
    if value is None:
        return None
    return tuple(ScopeRef(text, doc.pos((*path, i))) for i, text in enumerate(_strings(value)))


def _guards(doc: Document, value: YamlValue) -> Guards:
    if value is None:
        return Guards()
    guards = _mapping(value)
    default = Guards()
    percent = _integer(guards, "maxChangePercent")
    minimum = _integer(guards, "minObjects")
    per_run = _money(guards, "maxIssuePerRun")
    per_reseller = _money(guards, "maxIssuePerReseller")
    reclaims = _integer(guards, "maxReclaimsPerRun")
    return Guards(
        max_change_percent=default.max_change_percent if percent is None else percent,
        min_objects=default.min_objects if minimum is None else minimum,
        max_issue_per_run=default.max_issue_per_run if per_run is None else per_run,
        max_issue_per_reseller=(
            default.max_issue_per_reseller if per_reseller is None else per_reseller
        ),
        max_reclaims_per_run=default.max_reclaims_per_run if reclaims is None else reclaims,
        source=doc.pos(("spec", "guards")),
    )
