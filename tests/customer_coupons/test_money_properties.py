"""Money invariants of the CustomerCoupons diff, on generated accounts (hypothesis).

For any declared coupons and any live coupons (every status, spent or not):

* applying the plan's calls (as the API would execute them) and planning again finds nothing
  to do: one apply converges;
* value is conserved: what the quota and the coupons hold together does not change, and the
  quota's balance moves by exactly the plan's issued minus reclaimed money;
* only exclusive entries reclaim, only usable coupons nobody declared, each whole, and the
  plan's unrecoverable amount is exactly what their holders already spent;
* exactly the declared coupons no live coupon (not reclaimed) stands for are issued, and for
  exclusive entries exactly the usable coupons left over are reclaimed (an independent count);
* the plan does not depend on the order the API lists coupons in.
"""

from __future__ import annotations

import copy
import random
from collections import Counter
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.bss.coupons import PartnerCoupon
from reconciler.kinds.customer_coupons.desired import CustomerCoupons, DeclaredCoupon
from reconciler.kinds.customer_coupons.live import CouponsLive
from reconciler.kinds.customer_coupons.plan import diff

from .builders import EC2, END, START, Q, Simulated, coupon, declared, entry, live_for, quota

D = Decimal
FAST = settings(max_examples=250, derandomize=True, database=None, deadline=None)
LATE = "2027-06-30T15:59:59Z"
FUTURE = "2026-09-01T00:00:00Z"  # after NOW: coupons valid from then are not activated
FACES = ("100.00", "250.50", "500.00")
#: (validTime, expireTime, restrictions) as declared; the live coupon they produce follows
SHAPES = (
    (None, None, None),
    (START, LATE, None),
    (FUTURE, LATE, None),
    (None, None, (EC2,)),
)


@st.composite
def account(draw: st.DrawFn) -> tuple[list[CustomerCoupons], CouponsLive]:
    entries, coupons = [], []
    serial = 0
    for n in range(draw(st.integers(1, 3))):
        cid = f"c-{n}"
        wanted = [
            declared(face, valid=v, expire=x, services=s)
            for face, (v, x, s) in draw(
                st.lists(st.tuples(st.sampled_from(FACES), st.sampled_from(SHAPES)), max_size=4)
            )
        ]
        exclusive = draw(st.booleans()) or not wanted
        entries.append(entry(cid, *wanted, exclusive=exclusive))
        for face, (v, x, s), status, spent in draw(
            st.lists(
                st.tuples(
                    st.sampled_from(FACES),
                    st.sampled_from(SHAPES),
                    st.integers(1, 5),
                    st.integers(0, 100),
                ),
                max_size=5,
            )
        ):
            serial += 1
            coupons.append(_live(cid, f"L{serial:03}", face, (v, x, s), status, spent))
    balance = draw(st.sampled_from(["0.00", "300.00", "100000.00"]))
    return entries, live_for(entries, coupons, quotas=[quota(balance=balance)])


Shape = tuple[str | None, str | None, tuple[str, ...] | None]


def _live(
    cid: str, coupon_id: str, face: str, shape: Shape, status: int, spent_percent: int
) -> PartnerCoupon:
    valid, expire, services = shape
    start = valid or START
    if start == FUTURE:
        status = 1  # a coupon that starts later is not activated yet
    elif status == 1:
        status = 2
    value = D(face)
    balance = {2: value - (value * spent_percent / 100).quantize(D("0.01"))}.get(status, D(0))
    if status == 1:
        balance = value
    limits = [("cloud_service_types", s) for s in services or ()]
    created = f"2026-01-{int(coupon_id[1:]) % 28 + 1:02}T00:00:00Z"  # ties broken by coupon id
    return coupon(
        coupon_id, face, cid=cid, balance=f"{balance:.2f}", status=status, effective=start,
        expire=expire or END, limits=limits, created=created,
    )  # fmt: skip


def _quota_balance(live: CouponsLive) -> Decimal:
    return live.quotas[(None, Q)].balance or D(0)


@FAST
@given(account())
def test_one_apply_converges_and_conserves_value(
    case: tuple[list[CustomerCoupons], CouponsLive],
) -> None:
    entries, live = case
    first = diff(entries, live)
    if first.problems:
        assert all("from quota Q-1, which holds" in p.message for p in first.problems)
        return
    sim = Simulated(copy.deepcopy(live))
    before_total, before_quota = sim.total_value(), _quota_balance(sim.live)
    sim.run(first.changes)
    assert sim.total_value() == before_total
    issued = sum((c.money.issue for c in first.changes if c.money), D(0))
    reclaimed = sum((c.money.reclaim for c in first.changes if c.money), D(0))
    assert _quota_balance(sim.live) == before_quota - issued + reclaimed
    again = diff(entries, sim.live)
    assert (again.changes, again.problems) == ([], [])


@FAST
@given(account())
def test_reclaims_are_exclusive_whole_and_show_what_was_spent(
    case: tuple[list[CustomerCoupons], CouponsLive],
) -> None:
    entries, live = case
    result = diff(entries, live)
    by_id = {c.coupon_id: c for cs in live.coupons.values() for c in cs}
    exclusive = {e.customer.customer_id for e in entries if e.exclusive}
    for change in result.changes:
        cid = change.key.rsplit("/", 1)[-1]
        reclaimed = [by_id[(c.body or {})["coupon_id"]] for c in change.calls
                     if c.operation == "reclaim_partner_coupons"]  # fmt: skip
        assert not reclaimed or cid in exclusive
        assert all(c.status == 2 and c.customer_id == cid for c in reclaimed)
        assert change.money is not None
        assert change.money.reclaim == sum((c.balance for c in reclaimed), D(0))
        spent = sum((c.face_value - c.balance for c in reclaimed), D(0))
        assert change.money.unrecoverable == spent
        assert change.money.reclaim + change.money.unrecoverable == sum(
            (c.face_value for c in reclaimed), D(0)
        )


def _declared_shape(d: DeclaredCoupon) -> tuple[str, str, str, frozenset[str]]:
    services = frozenset(d.cloud_service_types or ())
    return (f"{d.face_value:.2f}", d.valid_time or START, d.expire_time or END, services)


def _live_shape(c: PartnerCoupon) -> tuple[str, str, str, frozenset[str]]:
    services = frozenset(u.value1 for u in c.use_limits)
    return (f"{c.face_value:.2f}", c.effective_time, c.expire_time, services)


@FAST
@given(account())
def test_issues_and_reclaims_are_exactly_what_is_missing_and_left_over(
    case: tuple[list[CustomerCoupons], CouponsLive],
) -> None:
    """An independent count: per coupon shape, declared minus live (not reclaimed) coupons are
    issued; usable coupons beyond the declared count are reclaimed, for exclusive entries."""
    entries, live = case
    result = diff(entries, live)
    if result.problems:
        return
    calls = {ch.key.rsplit("/", 1)[-1]: [c.operation for c in ch.calls] for ch in result.changes}
    for e in entries:
        cid = e.customer.customer_id or ""
        declared = Counter(_declared_shape(d) for d in e.coupons)
        held = [c for c in live.coupons.get(cid, ()) if c.status != 5]
        counted = Counter(_live_shape(c) for c in held)
        usable = Counter(_live_shape(c) for c in held if c.status == 2)
        issues = sum(max(0, n - counted[k]) for k, n in declared.items())
        reclaims = sum(u - min(declared[k], u) for k, u in usable.items()) if e.exclusive else 0
        made = calls.get(cid, [])
        assert made.count("create_partner_coupons") == issues
        assert made.count("reclaim_partner_coupons") == reclaims


@FAST
@given(account(), st.randoms(use_true_random=False))
def test_the_plan_does_not_depend_on_listing_order(
    case: tuple[list[CustomerCoupons], CouponsLive], rnd: random.Random
) -> None:
    entries, live = case
    shuffled = copy.deepcopy(live)
    for coupons in shuffled.coupons.values():
        rnd.shuffle(coupons)
    order = list(entries)
    rnd.shuffle(order)
    first, second = diff(entries, live), diff(order, shuffled)
    assert sorted(c.to_dict()["calls"].__repr__() for c in first.changes) == sorted(
        c.to_dict()["calls"].__repr__() for c in second.changes
    )
    assert {c.key: c.fingerprint for c in first.changes} == {
        c.key: c.fingerprint for c in second.changes
    }
