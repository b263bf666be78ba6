"""What a CustomerCoupons document asks for: typed, frozen, every entry with its source.

A document (``spec.customers[]``) names customers by account name or ID, optionally the reseller
whose customer it is, and the coupons each should hold. Customers and resellers stay references
here; the plan resolves them. :func:`build` reads a document that passed its schema;
:func:`local_problems` are the checks that need no live data; :func:`canonical` is what the
manifest checksum covers (positions, file layout and entry order left out).
"""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from reconciler.errors import ManifestProblem, SourcePosition
from reconciler.manifests.build import customer_ref, reseller_ref, text
from reconciler.manifests.desired import CENT, CustomerRef, ResellerRef

if TYPE_CHECKING:
    from reconciler.manifests.document import Document
    from reconciler.manifests.yamlstrict import JsonPath, YamlValue

KIND = "CustomerCoupons"
#: The restriction keys a coupon may narrow, as the API's request names them (``limit_key``).
SERVICE_TYPES, PRODUCTS = "cloud_service_types", "product_ids"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
#: A UTC time as the schema accepts it (``schema.json``: ``validTime``, ``expireTime``); whether
#: the date exists (no 30 February) is a cross-document check's.
TIME_PATTERN = (
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z$"
)
#: A face value as the schema accepts it: more than zero, two decimals.
FACE_VALUE_PATTERN = r"^(0\.(0[1-9]|[1-9][0-9])|[1-9][0-9]{0,11}\.[0-9]{2})$"


@dataclass(frozen=True)
class DeclaredCoupon:
    """One coupon a customer should hold. ``None``: the quota's (validity, restrictions)."""

    face_value: Decimal
    quota_id: str
    valid_time: str | None
    expire_time: str | None
    cloud_service_types: tuple[str, ...] | None
    product_ids: tuple[str, ...] | None
    memo: str | None
    source: SourcePosition
    #: where its quota is written (the coupon's ``quota``, else ``spec.quota``)
    quota_source: SourcePosition

    def restrictions(self) -> dict[str, frozenset[str]]:
        """The restriction keys this coupon narrows, and to what."""
        asked = {SERVICE_TYPES: self.cloud_service_types, PRODUCTS: self.product_ids}
        return {key: frozenset(values) for key, values in asked.items() if values is not None}

    def canonical(self) -> dict[str, Any]:
        return {
            "faceValue": format(self.face_value, "f"),
            "quota": self.quota_id,
            "validTime": self.valid_time,
            "expireTime": self.expire_time,
            "cloudServiceTypes": _sorted(self.cloud_service_types),
            "productIds": _sorted(self.product_ids),
            "memo": self.memo,
        }


@dataclass(frozen=True)
class CustomerCoupons:
    """The coupons ``customer`` should hold; ``exclusive``: and no other usable ones."""

    customer: CustomerRef
    reseller: ResellerRef | None
    exclusive: bool
    coupons: tuple[DeclaredCoupon, ...]
    source: SourcePosition
    document: str = ""  # ``CustomerCoupons 'name'``, for messages

    def canonical(self) -> dict[str, Any]:
        coupons = sorted((c.canonical() for c in self.coupons), key=_json_key)
        return {
            **self.customer.canonical(),
            **(self.reseller.canonical() if self.reseller else {}),
            "exclusive": self.exclusive,
            "coupons": coupons,
        }


def _sorted(values: tuple[str, ...] | None) -> list[str] | None:
    return None if values is None else sorted(values)


def _json_key(item: Mapping[str, Any]) -> str:
    return repr(sorted(item.items(), key=lambda kv: kv[0]))


def canonical(entries: Iterable[CustomerCoupons]) -> list[dict[str, Any]]:
    """The checksum's view: entries sorted by customer, coupons sorted within an entry."""
    return sorted((e.canonical() for e in entries), key=_json_key)


# -- building from a validated document --------------------------------------------------------


def build(doc: Document) -> list[CustomerCoupons]:
    """The entries of one document that passed the schema (types are asserted, not checked)."""
    spec = _mapping(doc.content.get("spec"))
    default_quota = text(spec, "quota")
    entries = []
    items = spec.get("customers") or []
    assert isinstance(items, list), doc.start
    for index, raw in enumerate(items):
        path: JsonPath = ("spec", "customers", index)
        entry = _mapping(raw)
        coupons = entry.get("coupons") or []
        assert isinstance(coupons, list), doc.pos(path)
        entries.append(
            CustomerCoupons(
                customer=customer_ref(doc, path, entry),
                reseller=_reseller(doc, path, entry),
                exclusive=entry.get("exclusive") is True,
                coupons=tuple(
                    _coupon(doc, (*path, "coupons", n), _mapping(c), default_quota)
                    for n, c in enumerate(coupons)
                ),
                source=doc.pos(path),
                document=doc.label,
            )
        )
    return entries


def _coupon(
    doc: Document, path: JsonPath, entry: dict[str, YamlValue], default_quota: str | None
) -> DeclaredCoupon:
    face = text(entry, "faceValue")
    assert face is not None, doc.pos(path)
    own = text(entry, "quota")
    where = doc.pos((*path, "quota")) if own is not None else doc.pos(("spec", "quota"))
    return DeclaredCoupon(
        face_value=Decimal(face).quantize(CENT),
        # no quota anywhere: "" (local_problems reports it at the coupon)
        quota_id=own if own is not None else (default_quota or ""),
        valid_time=text(entry, "validTime"),
        expire_time=text(entry, "expireTime"),
        cloud_service_types=_strings(entry.get("cloudServiceTypes")),
        product_ids=_strings(entry.get("productIds")),
        memo=text(entry, "memo"),
        source=doc.pos(path),
        quota_source=where if (own is not None or default_quota) else doc.pos(path),
    )


def _reseller(doc: Document, path: JsonPath, entry: dict[str, YamlValue]) -> ResellerRef | None:
    """The entry's reseller (``None``: the partner's own customer)."""
    if text(entry, "resellerId") is None and text(entry, "reseller") is None:
        return None
    return reseller_ref(doc, path, entry)


def _mapping(value: YamlValue) -> dict[str, YamlValue]:
    assert value is None or isinstance(value, dict), value
    return value or {}


def _strings(value: YamlValue) -> tuple[str, ...] | None:
    if value is None:
        return None
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), value
    return tuple(str(v) for v in value)


# -- checks that need no live data -------------------------------------------------------------


def parse_time(text: str | None) -> int | None:
    """Seconds since the epoch of a ``yyyy-MM-ddTHH:mm:ssZ`` UTC time (a real date), else None."""
    if text is None or len(text) != 20:
        return None
    try:
        return calendar.timegm(time.strptime(text, TIME_FORMAT))
    except ValueError:
        return None


def local_problems(
    entries: Sequence[CustomerCoupons], seen: dict[tuple[str, str], SourcePosition] | None = None
) -> list[ManifestProblem]:
    """Impossible dates, coupons without a quota, empty non-exclusive entries, customers declared
    twice (as written: a name and an ID may still be one customer, which the plan detects).
    ``seen``: the customers of earlier documents (updated), to check one document at a time."""
    problems: list[ManifestProblem] = []
    seen = {} if seen is None else seen
    for entry in entries:
        key = next(iter(entry.customer.canonical().items()))
        first = seen.setdefault(key, entry.customer.source)
        if first != entry.customer.source:
            problems.append(
                ManifestProblem(
                    entry.customer.source,
                    "",
                    f"{entry.customer.text} in {KIND} is declared twice (also declared at "
                    f"{first}); list all its coupons in one entry",
                )
            )
        if not entry.coupons and not entry.exclusive:
            problems.append(
                ManifestProblem(
                    entry.source,
                    "coupons",
                    "an empty list declares nothing: add exclusive: true to reclaim every "
                    "usable coupon of this customer, or remove the entry",
                )
            )
        problems.extend(p for c in entry.coupons for p in _coupon_problems(c))
    return problems


def _coupon_problems(coupon: DeclaredCoupon) -> list[ManifestProblem]:
    out = []
    if not coupon.quota_id:
        out.append(
            ManifestProblem(
                coupon.source, "quota", "no quota: set quota here or spec.quota for the document"
            )
        )
    for name, when in (("validTime", coupon.valid_time), ("expireTime", coupon.expire_time)):
        # a time the schema rejected is the schema's error, not reported twice
        if when is not None and re.match(TIME_PATTERN, when) and parse_time(when) is None:
            out.append(ManifestProblem(coupon.source, name, f"{when!r} is not a date that exists"))
    begin, end = parse_time(coupon.valid_time), parse_time(coupon.expire_time)
    if begin is not None and end is not None and begin >= end:
        out.append(
            ManifestProblem(
                coupon.source,
                "expireTime",
                f"{coupon.expire_time} is not after validTime {coupon.valid_time}",
            )
        )
    return out
