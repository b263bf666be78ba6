"""The desired state of kind ``AccountFunds``: typed entries, each with its manifest position.

::

    spec:
      customers:                      # resale customers (of the partner, or of a reseller)
        - customer: xinghe-net        # or customerId: "..."
          reseller: tianfu-cloud      # optional: the reseller whose customer it is
          topUpTo: "5000.00"          # a floor, and/or
          atMost: "20000.00"          # a cap
      resellers:
        - reseller: qinling-digital   # or resellerId: "..."
          topUpTo: "25000.00"

:func:`entries` builds them from a document that passed schema validation; :func:`problems`
adds what the schema cannot say (``topUpTo <= atMost``; a customer's reseller by name or by ID,
not both; every customer and reseller once across all AccountFunds documents, compared as
written).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from reconciler.errors import ManifestProblem, SourcePosition
from reconciler.kinds.account_funds.money import Bounds, money
from reconciler.manifests.build import customer_ref, reseller_ref
from reconciler.manifests.desired import CustomerRef, ResellerRef
from reconciler.manifests.document import Document
from reconciler.manifests.yamlstrict import JsonPath, YamlValue, format_path

KIND_NAME = "AccountFunds"
FLOOR, CAP = "topUpTo", "atMost"


@dataclass(frozen=True)
class FundsEntry:
    """One declared balance: ``bounds`` for a customer (``customer`` set; ``reseller`` names the
    reseller whose customer it is, if any) or for a reseller (``customer`` None)."""

    customer: CustomerRef | None
    reseller: ResellerRef | None
    bounds: Bounds
    source: SourcePosition  # the entry
    floor_source: SourcePosition | None = None
    cap_source: SourcePosition | None = None

    @property
    def for_reseller(self) -> bool:
        return self.customer is None

    @property
    def text(self) -> str:
        """``customer 'acme' of reseller 'tianfu'`` / ``reseller 'tianfu'``, for messages."""
        if self.customer is None:
            assert self.reseller is not None
            return self.reseller.text
        if self.reseller is None:
            return self.customer.text
        return f"{self.customer.text} of {self.reseller.text}"

    def canonical(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.customer is not None:
            out.update(self.customer.canonical())
        if self.reseller is not None:
            out.update(self.reseller.canonical())
        out[FLOOR] = _fmt(self.bounds.floor)
        out[CAP] = _fmt(self.bounds.cap)
        return out


def _fmt(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:f}"


def canonical(items: Sequence[FundsEntry]) -> Iterator[dict[str, Any]]:
    """The content the manifest checksum covers, one entry at a time in key order, without
    positions: customer entries carry ``customer``/``customerId``, reseller entries only
    ``reseller``/``resellerId``."""
    yield from sorted((e.canonical() for e in items), key=_key)


def _key(content: dict[str, Any]) -> str:
    return repr(sorted(content.items()))


def entries(doc: Document) -> list[FundsEntry]:
    """The entries of a validated AccountFunds document, in file order."""
    out: list[FundsEntry] = []
    for list_key in ("customers", "resellers"):
        for path, entry in _items(doc, list_key):
            customer = customer_ref(doc, path, entry) if list_key == "customers" else None
            reseller = _reseller(doc, path, entry)
            assert list_key == "customers" or reseller is not None, doc.pos(path)
            out.append(
                FundsEntry(
                    customer=customer,
                    reseller=reseller,
                    bounds=Bounds(_money(entry, FLOOR), _money(entry, CAP)),
                    source=doc.pos(path),
                    floor_source=doc.pos((*path, FLOOR)) if FLOOR in entry else None,
                    cap_source=doc.pos((*path, CAP)) if CAP in entry else None,
                )
            )
    return out


def _items(doc: Document, list_key: str) -> Iterator[tuple[JsonPath, dict[str, YamlValue]]]:
    spec = doc.content.get("spec")
    items = spec.get(list_key) if isinstance(spec, Mapping) else None
    for index, entry in enumerate(items if isinstance(items, list) else []):
        if isinstance(entry, dict):
            yield ("spec", list_key, index), entry


def _text(entry: Mapping[str, YamlValue], key: str) -> str | None:
    value = entry.get(key)
    return value if isinstance(value, str) else None


def _money(entry: Mapping[str, YamlValue], key: str) -> Decimal | None:
    text = _text(entry, key)
    return None if text is None else money(text)


def _reseller(doc: Document, path: JsonPath, entry: dict[str, YamlValue]) -> ResellerRef | None:
    """A reseller entry's reseller, or a customer entry's optional one."""
    if "resellerId" not in entry and "reseller" not in entry:
        return None
    return reseller_ref(doc, path, entry)


class Checks:
    """What JSON Schema cannot check, a document at a time (give it every AccountFunds document
    of one load in file order): floor <= cap, a customer's reseller by name or by ID, and each
    customer and reseller once."""

    def __init__(self) -> None:
        self.first: dict[tuple[str, ...], SourcePosition] = {}

    def __call__(self, doc: Document) -> list[ManifestProblem]:
        found: list[ManifestProblem] = []
        if doc.kind != KIND_NAME:
            return found
        for list_key in ("customers", "resellers"):
            for path, entry in _items(doc, list_key):
                found += _bounds_problem(doc, path, entry)
                found += _owner_problem(doc, path, entry, list_key)
                found += _duplicate(doc, path, entry, list_key, self.first)
        return found


def problems(documents: Sequence[Document]) -> list[ManifestProblem]:
    """:class:`Checks` over ``documents``."""
    check = Checks()
    return [p for doc in documents for p in check(doc)]


def _bounds_problem(
    doc: Document, path: JsonPath, entry: Mapping[str, YamlValue]
) -> list[ManifestProblem]:
    floor, cap = _text(entry, FLOOR), _text(entry, CAP)
    try:
        if floor is None or cap is None or Decimal(floor) <= Decimal(cap):
            return []
    except ArithmeticError:
        return []  # not an amount: the schema reports it
    return [
        ManifestProblem(
            doc.pos((*path, FLOOR)),
            format_path((*path, FLOOR)),
            f"topUpTo {floor} is above atMost {cap}: the floor must not exceed the cap "
            "(lower topUpTo or raise atMost)",
        )
    ]


def _owner_problem(
    doc: Document, path: JsonPath, entry: Mapping[str, YamlValue], list_key: str
) -> list[ManifestProblem]:
    """A customer's optional reseller: by name or by ID, not both (the schema's ``oneOf``
    says so for a reseller entry, where one of them is required)."""
    if list_key != "customers" or not ("reseller" in entry and "resellerId" in entry):
        return []
    message = "give only one of reseller or resellerId, not both"
    return [ManifestProblem(doc.pos(path), format_path(path), message)]


def _duplicate(
    doc: Document,
    path: JsonPath,
    entry: Mapping[str, YamlValue],
    list_key: str,
    first: dict[tuple[str, ...], SourcePosition],
) -> list[ManifestProblem]:
    key, field = _reference(entry, list_key)
    if not key:
        return []
    where = doc.pos((*path, field))
    earlier = first.setdefault(key, where)
    if earlier == where:
        return []
    what = " of ".join(f"{k} '{v}'" for k, v in zip(key[::2], key[1::2], strict=True))
    return [
        ManifestProblem(
            where,
            format_path((*path, field)),
            f"{what} in {KIND_NAME} is declared twice (also declared at {earlier})",
        )
    ]


def _reference(entry: Mapping[str, YamlValue], list_key: str) -> tuple[tuple[str, ...], str]:
    """The entry's reference as written (``("customer", "acme", "reseller", "tf")``) and the
    field a duplicate is reported at; ``()`` when the schema rejected the entry."""
    owner: tuple[str, ...] = ()
    for field in ("reseller", "resellerId"):
        value = entry.get(field)
        if isinstance(value, str):
            owner = (field, value)
    if list_key == "resellers":
        return owner, owner[0] if owner else ""
    for field in ("customer", "customerId"):
        value = entry.get(field)
        if isinstance(value, str):
            return (field, value, *owner), field
    return (), ""
