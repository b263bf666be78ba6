"""Which live coupon is which declared coupon, for one customer: deterministic, and never money by
accident.

Live coupons by status (REFERENCE §6): 1 not activated, 2 usable, 3 used, 4 expired, 5 reclaimed.

* A declared coupon is **held** when a live coupon of the same spec (:mod:`.spec`) is not
  activated or usable, and **has run its course** when it is used up (3) or expired (4): a coupon
  is a grant, given once; spending it does not make the plan give it again. To grant it again,
  declare a new coupon (a different validity, say). Only a **reclaimed** (5) coupon does not count:
  whoever reclaimed it, the customer no longer holds what the manifest declares, so it is issued.
* Candidates are taken in a fixed order: usable, not activated, used, expired; then oldest
  (``create_time``), then ``coupon_id``. Declared coupons with a fixed start are matched before
  those whose start is the issue time, each group in canonical order, so neither the manifest's
  order nor the API's changes the result.
* A declared coupon with no candidate left is **issued**.
* A live coupon no declaration took: used, expired and reclaimed ones are history, never touched.
  A usable one is **reclaimed** when the customer's entry is ``exclusive``, else left alone
  (absent means unmanaged); a not yet activated one cannot be reclaimed (only usable coupons
  can): with ``exclusive`` it **waits** until its start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reconciler.bss.coupons import PartnerCoupon
    from reconciler.kinds.customer_coupons.desired import DeclaredCoupon
    from reconciler.kinds.customer_coupons.spec import CouponSpec

NOT_ACTIVATED, USABLE, USED, EXPIRED, RECLAIMED = 1, 2, 3, 4, 5
STATUS_NAMES = {1: "not activated", 2: "usable", 3: "used", 4: "expired", 5: "reclaimed"}
#: The order in which live coupons are offered to declarations.
PREFERENCE = {USABLE: 0, NOT_ACTIVATED: 1, USED: 2, EXPIRED: 3}


@dataclass(frozen=True)
class Wanted:
    """What the API would issue for a declared coupon (``declared``: the manifest's entry; apply
    verifies against specs alone and leaves it out)."""

    spec: CouponSpec
    declared: DeclaredCoupon | None = None

    @property
    def coupon(self) -> DeclaredCoupon:
        assert self.declared is not None, self.spec
        return self.declared


@dataclass(frozen=True)
class Held:
    """A live coupon (status 1-4) and its spec (its quota from its issue record)."""

    coupon: PartnerCoupon
    spec: CouponSpec

    @property
    def status(self) -> int:
        return self.coupon.status

    def order(self) -> tuple[int, str, str]:
        return (PREFERENCE[self.status], self.coupon.create_time or "", self.coupon.coupon_id)


@dataclass
class Matching:
    """One customer's declared coupons against its live ones."""

    kept: list[tuple[Wanted, Held]] = field(default_factory=list)
    issue: list[Wanted] = field(default_factory=list)
    reclaim: list[Held] = field(default_factory=list)  # exclusive: usable, not declared
    waiting: list[Held] = field(default_factory=list)  # exclusive: not activated, not declared
    undeclared: list[Held] = field(default_factory=list)  # not exclusive: left alone


def wanted_order(wanted: Wanted) -> tuple[bool, str]:
    spec = wanted.spec
    return (spec.effective is None, repr(sorted(spec.to_dict().items())))


def match(wanted: list[Wanted], held: list[Held], *, exclusive: bool) -> Matching:
    """Pair each declared coupon with a live one; see the module docstring."""
    result = Matching()
    pool = sorted((h for h in held if h.status in PREFERENCE), key=Held.order)
    for want in sorted(wanted, key=wanted_order):
        found = next((h for h in pool if want.spec.accepts(h.spec)), None)
        if found is None:
            result.issue.append(want)
            continue
        pool.remove(found)
        result.kept.append((want, found))
    for left in pool:
        if left.status == USABLE:
            (result.reclaim if exclusive else result.undeclared).append(left)
        elif left.status == NOT_ACTIVATED:
            (result.waiting if exclusive else result.undeclared).append(left)
    return result
