"""Read validated documents: the Settings document, and the small readers every kind's
builder uses (:meth:`Kind.build <reconciler.kinds.spec.Kind.build>`).

The documents are trusted to match their schemas here; the readers below still assert types,
so a document that skipped validation fails loudly rather than producing a wrong desired state.
:mod:`reconciler.manifests.assemble` puts the desired state together.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

from reconciler.manifests.desired import (
    CENT,
    CustomerRef,
    Guards,
    ResellerRef,
    Scope,
    ScopeRef,
    Settings,
)
from reconciler.manifests.document import Document
from reconciler.manifests.yamlstrict import JsonPath, YamlValue

__all__ = [
    "customer_ref",
    "entries",
    "flag",
    "integer",
    "mapping",
    "money",
    "parse_duration",
    "reseller_ref",
    "settings_of",
    "text",
]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
#: The guards of ``spec.guards`` every kind shares; the other keys are the kinds' own limits.
SHARED_GUARDS = ("maxChangePercent", "minObjects")


def parse_duration(text: str) -> timedelta:
    """``"90m"`` -> 90 minutes. Units: s, m, h, d."""
    return timedelta(seconds=int(text[:-1]) * _UNITS[text[-1]])


def mapping(value: YamlValue) -> dict[str, YamlValue]:
    assert value is None or isinstance(value, dict), value
    return value or {}


def text(entry: dict[str, YamlValue], key: str) -> str | None:
    value = entry.get(key)
    assert value is None or isinstance(value, str), (key, value)
    return value


def integer(entry: dict[str, YamlValue], key: str) -> int | None:
    value = entry.get(key)
    assert value is None or (isinstance(value, int) and not isinstance(value, bool)), (key, value)
    return value


def flag(entry: dict[str, YamlValue], key: str) -> bool | None:
    value = entry.get(key)
    assert value is None or isinstance(value, bool), (key, value)
    return value


def money(entry: dict[str, YamlValue], key: str) -> Decimal | None:
    """An amount written as a string (the schemas' ``money``), to two places."""
    found = text(entry, key)
    return None if found is None else Decimal(found).quantize(CENT)


def entries(doc: Document, key: str) -> Iterator[tuple[JsonPath, dict[str, YamlValue]]]:
    """The items of list ``spec.<key>`` with their paths, one at a time (a list of 100,000
    paths would outweigh the entries built from them); of a streamed item's view, that item."""
    if doc.window is not None:
        start, items = doc.window.of(key)
    else:
        start, found = 0, mapping(doc.content.get("spec")).get(key) or []
        assert isinstance(found, list), doc.start
        items = found
    for index, entry in enumerate(items, start):
        yield ("spec", key, index), mapping(entry)


def customer_ref(doc: Document, path: JsonPath, entry: dict[str, YamlValue]) -> CustomerRef:
    """The entry's ``customerId`` or ``customer``, positioned at the one written."""
    ident, name = text(entry, "customerId"), text(entry, "customer")
    where = doc.pos((*path, "customerId" if ident is not None else "customer"))
    return CustomerRef(customer_id=ident, account_name=name, source=where)


def reseller_ref(doc: Document, path: JsonPath, entry: dict[str, YamlValue]) -> ResellerRef:
    """The entry's ``resellerId`` or ``reseller``, positioned at the one written."""
    ident, name = text(entry, "resellerId"), text(entry, "reseller")
    where = doc.pos((*path, "resellerId" if ident is not None else "reseller"))
    return ResellerRef(reseller_id=ident, account_name=name, source=where)


def settings_of(doc: Document) -> Settings:
    """The Settings document."""
    spec = mapping(doc.content.get("spec"))
    ttl = text(spec, "planTtl")
    scope = mapping(spec.get("scope"))
    return Settings(
        agency_name=text(spec, "agencyName"),
        account_managers=tuple(_strings(spec.get("accountManagers"))),
        scope=Scope(
            customers=_scope(doc, scope.get("customers"), ("spec", "scope", "customers")),
            resellers=_scope(doc, scope.get("resellers"), ("spec", "scope", "resellers")),
        ),
        guards=_guards(doc, spec.get("guards")),
        plan_ttl=parse_duration(ttl) if ttl is not None else Settings.plan_ttl,
        endpoint_profile=text(mapping(spec.get("endpoint")), "profile"),
        operator=text(spec, "operator"),
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
    """``spec.guards``: the shared limits, and every other key as a kind's limit (the Settings
    schema lists each kind's, :mod:`reconciler.manifests.schemas`): an amount is a quoted
    string, a count a whole number."""
    if value is None:
        return Guards()
    guards = mapping(value)
    default = Guards()
    percent = integer(guards, "maxChangePercent")
    minimum = integer(guards, "minObjects")
    limits: dict[str, Decimal | int] = {}
    for key, found in guards.items():
        if key in SHARED_GUARDS:
            continue
        if isinstance(found, str):
            limits[key] = Decimal(found).quantize(CENT)
        else:
            assert isinstance(found, int) and not isinstance(found, bool), (key, found)
            limits[key] = found
    return Guards(
        max_change_percent=default.max_change_percent if percent is None else percent,
        min_objects=default.min_objects if minimum is None else minimum,
        limits=limits,
        source=doc.pos(("spec", "guards")),
    )
