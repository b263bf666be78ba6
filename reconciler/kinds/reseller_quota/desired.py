"""The typed entries of ``ResellerQuota`` documents, and their share of the checksum."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from reconciler.errors import ManifestProblem, SourcePosition
from reconciler.manifests.build import entries, mapping, money, reseller_ref, text
from reconciler.manifests.crosschecks import FirstSeen, list_entries, reference, spec_of
from reconciler.manifests.desired import ResellerRef, money_text, ref_key
from reconciler.manifests.document import Document


@dataclass(frozen=True)
class QuotaTarget:
    """``reseller`` should hold ``balance`` of coupon quota issued from ``distributor_quota_id``."""

    distributor_quota_id: str
    reseller: ResellerRef
    balance: Decimal
    source: SourcePosition
    #: where ``spec.distributorQuota`` is written (problems about the quota point there)
    quota_source: SourcePosition | None = None


def build(doc: Document) -> list[QuotaTarget]:
    quota = text(mapping(doc.content.get("spec")), "distributorQuota")
    assert quota is not None, doc.start
    targets = []
    for path, entry in entries(doc, "resellers"):
        balance = money(entry, "balance")
        assert balance is not None, doc.pos(path)
        where = doc.pos((*path, "balance"))
        quota_at = doc.pos(("spec", "distributorQuota"))
        targets.append(QuotaTarget(quota, reseller_ref(doc, path, entry), balance, where, quota_at))
    return targets


def canonical(targets: Sequence[QuotaTarget]) -> Iterator[Mapping[str, Any]]:
    ordered = sorted(
        targets, key=lambda q: (q.distributor_quota_id, *ref_key(q.reseller.canonical()))
    )
    for q in ordered:
        yield {
            "distributorQuota": q.distributor_quota_id,
            **q.reseller.canonical(),
            "balance": money_text(q.balance),
        }


def checks() -> Callable[[Document], Iterator[ManifestProblem]]:
    """A reseller once per distributor quota, across every ResellerQuota document (by the
    reference as written)."""
    seen = FirstSeen()

    def check(doc: Document) -> Iterator[ManifestProblem]:
        quota = spec_of(doc).get("distributorQuota")
        if not isinstance(quota, str):
            return
        for path, entry in list_entries(doc, "resellers"):
            ref = reference(entry, "reseller", "resellerId")
            if ref is not None:
                label = f"{ref[0]} '{ref[1]}' for distributor quota '{quota}'"
                yield from seen.check((quota, *ref), doc, (*path, ref[0]), label)

    return check
