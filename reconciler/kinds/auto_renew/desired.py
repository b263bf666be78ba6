"""The typed entries of ``AutoRenew`` documents, and their share of the checksum."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.errors import ManifestProblem, SourcePosition
from reconciler.kinds.account_managers.desired import customers_once
from reconciler.manifests.build import customer_ref, entries, flag, integer, mapping, text
from reconciler.manifests.crosschecks import FirstSeen, list_entries
from reconciler.manifests.desired import CustomerRef, ref_key
from reconciler.manifests.document import Document
from reconciler.manifests.yamlstrict import JsonPath, YamlValue


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


def _toggles(doc: Document, path: JsonPath, value: YamlValue) -> dict[str, Override]:
    flags: dict[str, Override] = {}
    for key, enabled in mapping(value).items():
        assert isinstance(enabled, bool), doc.pos((*path, key))
        flags[key] = Override(enabled=enabled, source=doc.key_pos((*path, key)))
    return flags


def canonical(rules: Sequence[AutoRenewRule]) -> Iterator[Mapping[str, Any]]:
    for rule in sorted(rules, key=lambda r: ref_key(r.customer.canonical())):
        yield {
            **rule.customer.canonical(),
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
