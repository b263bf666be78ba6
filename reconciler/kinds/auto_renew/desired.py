"""The typed entries of ``AutoRenew`` documents, and their share of the checksum."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from reconciler.errors import ManifestProblem, SourcePosition
from reconciler.kinds.account_managers.desired import customers_once
from reconciler.manifests.build import customer_ref, entries, flag, integer, mapping, text
from reconciler.manifests.crosschecks import FirstSeen, list_entries
from reconciler.manifests.desired import (
    CustomerRef,
    Packed,
    by_customer,
    customer_canonical,
    pack_positions,
    position,
    unpack_position,
)
from reconciler.manifests.document import Document
from reconciler.manifests.yamlstrict import JsonPath, YamlValue


@dataclass(frozen=True, slots=True)
class Override:
    """An explicit auto-renew flag for one service type or one resource."""

    enabled: bool
    source: SourcePosition


#: The overrides of a rule without any: one shared empty mapping, not a dict per rule.
_NO_OVERRIDES: Mapping[str, Override] = MappingProxyType({})
#: A rule's period type, renewal count, service type and resource overrides.
_Rest = tuple[str | None, int | None, Mapping[str, Override], Mapping[str, Override]]
_NO_REST: _Rest = (None, None, _NO_OVERRIDES, _NO_OVERRIDES)


@dataclass(frozen=True, slots=True, init=False)
class AutoRenewRule:
    """Auto-renew for one customer's yearly/monthly resources.

    Precedence: ``resources`` > ``service_types`` > ``default``; a resource none of them covers
    is unmanaged. ``period_type`` and ``renew_times`` are sent when enabling.

    One of these per customer of a large account: it keeps its customer reference's fields, its
    three positions in one integer (:func:`~reconciler.manifests.desired.pack_positions`) and
    the fields most rules leave out (period, renewals, overrides) in one tuple, ``None`` when
    all are left out.
    """

    customer_id: str | None
    account_name: str | None
    default: bool | None
    _rest: _Rest | None
    _at: Packed

    def __init__(
        self,
        customer: CustomerRef,
        default: bool | None,
        period_type: str | None,
        renew_times: int | None,
        service_types: Mapping[str, Override],
        resources: Mapping[str, Override],
        source: SourcePosition,
        default_source: SourcePosition | None = None,
    ) -> None:
        put = object.__setattr__
        put(self, "customer_id", customer.customer_id)
        put(self, "account_name", customer.account_name)
        put(self, "default", default)
        rest = (
            period_type,
            renew_times,
            service_types or _NO_OVERRIDES,
            resources or _NO_OVERRIDES,
        )
        put(self, "_rest", None if rest == _NO_REST else rest)
        put(self, "_at", pack_positions((source, customer.source, default_source)))

    @property
    def period_type(self) -> str | None:
        return None if self._rest is None else self._rest[0]

    @property
    def renew_times(self) -> int | None:
        return None if self._rest is None else self._rest[1]

    @property
    def service_types(self) -> Mapping[str, Override]:
        return _NO_OVERRIDES if self._rest is None else self._rest[2]

    @property
    def resources(self) -> Mapping[str, Override]:
        return _NO_OVERRIDES if self._rest is None else self._rest[3]

    @property
    def customer(self) -> CustomerRef:
        return CustomerRef(self.customer_id, self.account_name, position(self._at, 1, 3))

    @property
    def source(self) -> SourcePosition:
        return position(self._at, 0, 3)

    @property
    def default_source(self) -> SourcePosition | None:
        return unpack_position(self._at, 2, 3)

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


def build(doc: Document) -> list[AutoRenewRule]:
    rules = []
    for path, entry in entries(doc, "customers"):
        default = flag(entry, "autoRenew")
        rules.append(
            AutoRenewRule(
                customer=customer_ref(doc, path, entry),
                default=default,
                period_type=text(entry, "periodType"),
                renew_times=integer(entry, "renewTimes"),
                service_types=_toggles(doc, (*path, "serviceTypes"), entry.get("serviceTypes")),
                resources=_toggles(doc, (*path, "resources"), entry.get("resources")),
                source=doc.pos(path),
                default_source=None if default is None else doc.pos((*path, "autoRenew")),
            )
        )
    return rules


def _toggles(doc: Document, path: JsonPath, value: YamlValue) -> Mapping[str, Override]:
    flags: dict[str, Override] = {}
    for key, enabled in mapping(value).items():
        assert isinstance(enabled, bool), doc.pos((*path, key))
        flags[key] = Override(enabled=enabled, source=doc.key_pos((*path, key)))
    return flags or _NO_OVERRIDES


def canonical(rules: Sequence[AutoRenewRule]) -> Iterator[Mapping[str, Any]]:
    for rule in by_customer(rules):
        yield {
            **customer_canonical(rule),
            "autoRenew": rule.default,
            "periodType": rule.period_type,
            "renewTimes": rule.renew_times,
            "serviceTypes": {k: o.enabled for k, o in sorted(rule.service_types.items())},
            "resources": {k: o.enabled for k, o in sorted(rule.resources.items())},
        }


def checks(manifest_kind: str) -> Callable[[Document], Iterator[ManifestProblem]]:
    """A customer once across every AutoRenew document (by the reference as written), and a
    resource ID once."""
    customers, resources = FirstSeen(), FirstSeen()

    def check(doc: Document) -> Iterator[ManifestProblem]:
        yield from customers_once(customers, doc, manifest_kind)
        for path, entry in list_entries(doc, "customers"):
            listed = entry.get("resources")
            for resource_id in listed if isinstance(listed, dict) else {}:
                key_path = (*path, "resources", resource_id)
                label = f"resource '{resource_id}'"
                yield from resources.check(resource_id, doc, key_path, label, at_key=True)

    return check
