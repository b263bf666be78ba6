"""Kind ``ResellerQuota``: the coupon-quota balance each reseller holds from a distributor quota.

A reseller's live balance from distributor quota *Q* is the sum of the balances of its valid
(status 0) child quotas whose ``parent_quota_id`` is *Q*. The API moves money in two ways only
(REFERENCE §6, §9):

* raising a balance issues the difference (``update_coupon_quotas``), drawn from *Q*;
* lowering it can only reclaim *whole* child quotas (``reclaim_coupon_quotas``: the entire
  remaining balance of each goes back to *Q*) and then issue the remainder again. Money a
  reseller already spent from a reclaimed quota never comes back; the plan shows it.

Which children to reclaim: the single child with the smallest balance that covers the excess, if
there is one (one reclaim, the least re-issued); otherwise the largest first until the excess is
covered (the fewest reclaims). Ties break on quota id so plans are deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from reconciler.errors import did_you_mean
from reconciler.kinds.base import KindResult, LiveState, reseller_label
from reconciler.kinds.reseller_quota.reads import issued_to
from reconciler.plan.model import (
    ZERO,
    Call,
    Change,
    MoneyImpact,
    Notice,
    fingerprint,
    fmt_money,
    money,
)

if TYPE_CHECKING:
    from reconciler.bss.models import CouponQuota, IndirectPartner, IssuedQuota
    from reconciler.errors import SourcePosition
    from reconciler.kinds.reseller_quota.desired import QuotaTarget
    from reconciler.manifests.desired import DesiredState

KIND = "reseller-quota"
VALID = 0
ADJUSTING = 4
STATUS_NAMES = {0: "valid", 3: "invalid", 4: "being adjusted", 5: "frozen", 6: "reclaimed"}
RECLAIM_BATCH = 10
#: Its journal operations: the API calls that move quota.
ISSUE = "update_coupon_quotas"
RECLAIM = "reclaim_coupon_quotas"
ISSUE_PATH = "/v2/partners/coupon-quotas/indirect-partner-adjust"
RECLAIM_PATH = "/v2/partners/coupon-quotas/indirect-partner-reclaim"


@dataclass(frozen=True)
class QuotaMove:
    """How to take a reseller from ``live`` to ``target``."""

    live: Decimal
    target: Decimal
    reclaim: tuple[IssuedQuota, ...]
    issue: Decimal

    @property
    def reclaimed(self) -> Decimal:
        return money(sum((_bal(q) for q in self.reclaim), ZERO))

    @property
    def unrecoverable(self) -> Decimal:
        return money(sum((_spent(q) for q in self.reclaim), ZERO))


def _bal(q: IssuedQuota) -> Decimal:
    return q.balance if q.balance is not None else ZERO


def _spent(q: IssuedQuota) -> Decimal:
    value = q.quota_value if q.quota_value is not None else _bal(q)
    return max(ZERO, money(value - _bal(q)))


def live_balance(children: Sequence[IssuedQuota]) -> Decimal:
    return money(sum((_bal(q) for q in children if q.quota_status == VALID), ZERO))


def plan_move(children: Sequence[IssuedQuota], target: Decimal) -> QuotaMove:
    """The reclaims and the issue that take the valid children's total to ``target``."""
    live = live_balance(children)
    if target >= live:
        return QuotaMove(live, target, (), money(target - live))
    excess = live - target
    pool = sorted(
        (q for q in children if q.quota_status == VALID and _bal(q) > ZERO),
        key=lambda q: (_bal(q), q.quota_id),
    )
    single = next((q for q in pool if _bal(q) >= excess), None)
    if single is not None:
        chosen: list[IssuedQuota] = [single]
    else:
        chosen, covered = [], ZERO
        for q in sorted(pool, key=lambda q: (-_bal(q), q.quota_id)):
            chosen.append(q)
            covered += _bal(q)
            if covered >= excess:
                break
    reclaimed = sum((_bal(q) for q in chosen), ZERO)
    return QuotaMove(live, target, tuple(chosen), money(reclaimed - excess))


def live_object(reseller_id: str, parent_id: str, children: Sequence[IssuedQuota]) -> object:
    return {
        "reseller": reseller_id,
        "parent_quota_id": parent_id,
        "quotas": [
            [q.quota_id, q.quota_status, _fmt(q.balance), _fmt(q.quota_value)]
            for q in sorted(children, key=lambda q: q.quota_id)
        ],
    }


def _fmt(value: Decimal | None) -> str | None:
    return None if value is None else fmt_money(value)


def diff(desired: DesiredState, live: LiveState) -> KindResult:
    result = KindResult()
    draws: dict[str, Decimal] = {}
    seen: dict[str, SourcePosition] = {}
    for target in _targets(desired):
        reseller = live.reseller(target.reseller)
        parent = live.distributor_quotas.get(target.distributor_quota_id)
        if reseller is None:
            continue
        key = f"{target.distributor_quota_id}/{reseller.indirect_partner_id}"
        label = (
            f"the balance of reseller {reseller_label(reseller)} from {target.distributor_quota_id}"
        )
        if not result.first_declaration(seen, key, target.source, label):
            continue
        if parent is None:
            result.problem(
                target.quota_source or target.source,
                "distributorQuota",
                f"unknown distributor quota {target.distributor_quota_id!r}"
                f"{did_you_mean(target.distributor_quota_id, live.known_quota_ids)} "
                "(list yours with `reconciler export --kind reseller-quota`)",
            )
            continue
        result.in_scope += 1
        _plan_target(target, reseller, parent, live, result, draws)
    _check_supply(desired, live, draws, result)
    return result


def _plan_target(
    target: QuotaTarget,
    reseller: IndirectPartner,
    parent: CouponQuota,
    live: LiveState,
    result: KindResult,
    draws: dict[str, Decimal],
) -> None:
    rid = reseller.indirect_partner_id
    children = [q for q in issued_to(live, rid) if q.parent_quota_id == parent.quota_id]
    key = f"{KIND}/{parent.quota_id}/{rid}"
    if any(q.quota_status == ADJUSTING for q in children):
        result.notices.append(
            Notice(
                KIND,
                key,
                "not-applicable",
                reseller_label(reseller),
                "a quota of this reseller is being adjusted (status 4); plan again when it "
                "has settled",
                target.source,
            )
        )
        return
    move = plan_move(children, target.balance)
    if move.live == move.target:
        return
    draws[parent.quota_id] = draws.get(parent.quota_id, ZERO) + move.issue - move.reclaimed
    result.changes.append(_change(target, reseller, parent, children, move, key))


def _change(
    target: QuotaTarget,
    reseller: IndirectPartner,
    parent: CouponQuota,
    children: Sequence[IssuedQuota],
    move: QuotaMove,
    key: str,
) -> Change:
    rid = reseller.indirect_partner_id
    calls: list[Call] = []
    notes: list[str] = []
    ids = [q.quota_id for q in move.reclaim]
    for start in range(0, len(ids), RECLAIM_BATCH):
        batch = ids[start : start + RECLAIM_BATCH]
        calls.append(Call(RECLAIM, "POST", RECLAIM_PATH, {"quota_ids": batch}))
    for q in move.reclaim:
        notes.append(
            f"reclaims the whole of quota {q.quota_id}: issued {_fmt(q.quota_value)}, "
            f"already spent {fmt_money(_spent(q))} (cannot come back), "
            f"returns {fmt_money(_bal(q))} to {parent.quota_id}"
        )
    if move.issue > ZERO:
        body = {
            "quota_id": parent.quota_id,
            "indirect_partner_ids": [rid],
            "quota_amount": fmt_money(move.issue),
        }
        calls.append(Call(ISSUE, "POST", ISSUE_PATH, body))
        if move.reclaim:
            notes.append(f"then issues {fmt_money(move.issue)} from {parent.quota_id}")
    for q in children:
        if q.quota_status not in (VALID, 6) and _bal(q) > ZERO:
            status = STATUS_NAMES.get(q.quota_status or -1, str(q.quota_status))
            notes.append(f"quota {q.quota_id} is {status} with {fmt_money(_bal(q))}: not counted")
    action = "issue" if not move.reclaim else ("reclaim-reissue" if move.issue else "reclaim")
    return Change(
        kind=KIND,
        key=key,
        action=action,
        subject=f"{reseller_label(reseller)} from {parent.quota_id}",
        before={
            "balance": fmt_money(move.live),
            "quotas": [q.quota_id for q in children if q.quota_status == VALID],
        },
        after={"balance": fmt_money(move.target)},
        calls=tuple(calls),
        source=target.source,
        fingerprint=fingerprint(live_object(rid, parent.quota_id, children)),
        money=MoneyImpact(
            issue=move.issue,
            reclaim=move.reclaimed,
            unrecoverable=move.unrecoverable,
            currency=parent.currency or "CNY",
        ),
        notes=tuple(notes),
    )


def _check_supply(
    desired: DesiredState, live: LiveState, draws: dict[str, Decimal], result: KindResult
) -> None:
    """Targets whose net draw exceeds what a distributor quota holds fail before any write."""
    first: dict[str, SourcePosition] = {}
    for t in _targets(desired):
        first.setdefault(t.distributor_quota_id, t.quota_source or t.source)
    for quota_id, net in sorted(draws.items()):
        parent = live.distributor_quotas[quota_id]
        balance = parent.balance if parent.balance is not None else ZERO
        if net > ZERO and parent.quota_status not in (None, VALID):
            status = STATUS_NAMES.get(parent.quota_status, str(parent.quota_status))
            result.problem(
                first[quota_id],
                "distributorQuota",
                f"distributor quota {quota_id} is {status}: nothing can be issued from it",
            )
        elif net > balance:
            result.problem(
                first[quota_id],
                "distributorQuota",
                f"the targets need {fmt_money(net)} more from distributor quota {quota_id} "
                f"than it holds ({fmt_money(balance)}, after reclaims); lower them by "
                f"{fmt_money(net - balance)} or top up the quota",
            )


def _targets(desired: DesiredState) -> tuple[QuotaTarget, ...]:
    found: tuple[QuotaTarget, ...] = desired.entries_of(KIND)
    return found
