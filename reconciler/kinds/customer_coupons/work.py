"""One customer's coupon change on its way through apply: what it planned, what live state says
now, and what has happened so far. Pure but for :func:`refresh`, which re-reads customers.

What a change planned is read back from the change itself: its reclaim calls (the coupons'
quotas and balances from ``before``), its issue calls in order with the declared rows of
``after`` that have no live coupon (``held_by`` None), and every declared spec with
``exclusive``, which verification matches live state against exactly as the plan did.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from reconciler.kinds.customer_coupons.change import ISSUE, RECLAIM, live_object
from reconciler.kinds.customer_coupons.live import CouponsLive
from reconciler.kinds.customer_coupons.match import RECLAIMED, STATUS_NAMES, Held, Wanted, match
from reconciler.kinds.customer_coupons.settle import coupons_of, records_of
from reconciler.kinds.customer_coupons.spec import CouponSpec, observed
from reconciler.plan.model import fingerprint, money
from reconciler.plan.pools import pool_map, workers_for

if TYPE_CHECKING:
    from reconciler.apply.ops import ExecContext
    from reconciler.bss.coupons import PartnerCoupon
    from reconciler.plan.model import Change


@dataclass(frozen=True)
class Reclaim:
    """A planned reclaim: the coupon, its quota and the balance the plan saw."""

    coupon_id: str
    quota_id: str
    balance: Decimal


@dataclass(frozen=True)
class Issue:
    """A planned issue: the call body (this customer alone) and the coupon it asks for."""

    body: Mapping[str, Any]
    spec: CouponSpec


@dataclass
class Work:
    change: Change
    customer_id: str
    owner: str | None
    wanted: tuple[CouponSpec, ...]
    exclusive: bool
    reclaims: tuple[Reclaim, ...]
    issues: tuple[Issue, ...]
    held: list[Held] = field(default_factory=list)
    unreadable: str | None = None  # why live coupons cannot be told apart right now
    reclaim_state: dict[str, str] = field(default_factory=dict)  # coupon id -> item state
    issue_states: list[str] = field(default_factory=list)
    stopped: str | None = None  # another writer is active on this customer
    log: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def unknown(self) -> bool:
        return "unknown" in self.reclaim_state.values() or "unknown" in self.issue_states

    def as_planned(self) -> bool:
        ids = [r.coupon_id for r in self.reclaims]
        seen = live_object(self.customer_id, self.owner, self.held, ids)
        return self.unreadable is None and fingerprint(seen) == self.change.fingerprint

    def outstanding(self) -> tuple[list[CouponSpec], list[Held]]:
        """What live state still lacks (declared specs to issue) and still has too much of
        (usable coupons to reclaim), matched exactly as the plan matched them."""
        wanted = [Wanted(spec) for spec in self.wanted]
        found = match(wanted, self.held, exclusive=self.exclusive)
        return [w.spec for w in found.issue], found.reclaim

    def issues_still_needed(self) -> list[Issue]:
        """The planned issues live state still needs (another writer may have made some)."""
        need = Counter(_key(s) for s in self.outstanding()[0])
        out = []
        for issue in self.issues:
            if need[_key(issue.spec)] > 0:
                need[_key(issue.spec)] -= 1
                out.append(issue)
        return out


def _key(spec: CouponSpec) -> str:
    return repr(sorted(spec.to_dict().items()))


def parse_work(change: Change) -> Work:
    rows = {str(r["coupon_id"]): r for r in change.before.get("coupons") or ()}
    reclaims, bodies, owner = [], [], None
    for call in change.calls:
        body = dict(call.body or {})
        owner = owner or body.get("indirect_partner_id")
        if call.operation == RECLAIM.name:
            row = rows[str(body["coupon_id"])]
            reclaims.append(Reclaim(row["coupon_id"], row["quota_id"], money(row["balance"])))
        elif call.operation == ISSUE.name:
            bodies.append(body)
    declared = list(change.after.get("coupons") or ())
    to_issue = [CouponSpec.from_dict(r) for r in declared if r.get("held_by") is None]
    assert len(to_issue) == len(bodies), change.key
    return Work(
        change=change,
        customer_id=change.key.rsplit("/", 1)[-1],
        owner=owner,
        wanted=tuple(CouponSpec.from_dict(r) for r in declared),
        exclusive=bool(change.after.get("exclusive")),
        reclaims=tuple(reclaims),
        issues=tuple(Issue(b, s) for b, s in zip(bodies, to_issue, strict=True)),
    )


def held_coupons(
    customer_id: str, coupons: Sequence[PartnerCoupon], live: CouponsLive
) -> tuple[list[Held], str | None]:
    """The customer's coupons that are not reclaimed, with their specs; or why not."""
    held: list[Held] = []
    for coupon in coupons:
        if coupon.customer_id != customer_id or coupon.status == RECLAIMED:
            continue
        quota_id = live.quota_of(coupon)
        spec = observed(coupon, quota_id) if quota_id else "no single issue record"
        if coupon.status not in STATUS_NAMES or isinstance(spec, str):
            return [], f"coupon {coupon.coupon_id} cannot be told apart ({spec})"
        held.append(Held(coupon, spec))
    return held, None


async def refresh(ctx: ExecContext, works: Sequence[Work]) -> None:
    """Re-read each customer's coupons and issue records (paced per API)."""

    async def read(work: Work) -> None:
        cid = work.customer_id
        coupons = await coupons_of(ctx.client, work.owner, customer_id=cid)
        records = await records_of(ctx.client, work.owner, customer_id=cid, operation_types=["1"])
        live = CouponsLive(now=0)
        for record in records:
            if record.coupon_id:
                live.issue_records.setdefault(record.coupon_id, []).append(record)
        work.held, work.unreadable = held_coupons(cid, coupons, live)

    await pool_map(works, read, workers_for(ctx.client.rate_for(RECORDS_API)))


RECORDS_API = "list_partner_coupons_record"
