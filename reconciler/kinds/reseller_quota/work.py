"""A reseller-quota change on its way through apply: what it needs, what has happened so far.

Shared by the reclaim and issue phases (:mod:`.reclaims`, :mod:`.issues`) and the executor
(:mod:`.executor`): the re-read of the resellers' quotas from one parent quota, the check that a
reseller still looks as planned, and how a change is concluded.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar

from reconciler.kinds.reseller_quota.diff import ISSUE, RECLAIM, live_balance, live_object
from reconciler.plan.model import ZERO, fingerprint, money
from reconciler.plan.pools import pool_map, workers_for
from reconciler.render.words import amount as fmt_amount

if TYPE_CHECKING:
    from reconciler.apply.journal import ItemOutcome
    from reconciler.apply.ops import ExecContext
    from reconciler.bss.models import IssuedQuota
    from reconciler.plan.model import Change

T = TypeVar("T")
LIST_ISSUED = "list_issued_coupon_quotas"


@dataclass
class QuotaWork:
    """One reseller-quota change on its way: what it needs and what has happened so far."""

    change: Change
    parent_id: str
    reseller_id: str
    target: Decimal
    reclaim_ids: tuple[str, ...]
    issue: Decimal
    currency: str = "CNY"
    children: list[IssuedQuota] = field(default_factory=list)
    reclaims: dict[str, str] = field(default_factory=dict)  # quota id -> item state
    reclaim_ops: dict[str, str] = field(default_factory=dict)  # quota id -> op id
    issue_state: str | None = None
    stopped: str | None = None  # another writer is active on the pair: nothing more is written
    log: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def balance(self) -> Decimal:
        return live_balance(self.children)

    @property
    def unknown(self) -> bool:
        return "unknown" in self.reclaims.values() or self.issue_state == "unknown"

    def snapshot(self) -> object:
        return live_object(self.reseller_id, self.parent_id, self.children)

    def money(self, value: Decimal) -> str:
        return fmt_amount(value, self.currency)


#: Re-reads a batch's records right before a money write; returns the resellers still to write.
Unopposed = Callable[["ExecContext", str, list[QuotaWork]], Awaitable[set[str]]]


def parse_work(change: Change) -> QuotaWork:
    """The parent, reseller, target, reclaims and issue a reseller-quota change carries."""
    _, parent_id, reseller_id = change.key.split("/")
    reclaim_ids: list[str] = []
    issue = ZERO
    for call in change.calls:
        body = call.body or {}
        if call.operation == RECLAIM:
            reclaim_ids += [str(q) for q in body["quota_ids"]]
        elif call.operation == ISSUE:
            issue = money(body["quota_amount"])
    return QuotaWork(
        change=change,
        parent_id=parent_id,
        reseller_id=reseller_id,
        target=money(change.after["balance"]),
        reclaim_ids=tuple(reclaim_ids),
        issue=issue,
        currency=change.money.currency if change.money else "CNY",
    )


async def refresh(ctx: ExecContext, parent_id: str, works: Sequence[QuotaWork]) -> None:
    """Re-read the resellers' quotas from ``parent_id`` (one call each, paced per API)."""
    rids = sorted({w.reseller_id for w in works})

    async def read(rid: str) -> tuple[str, list[IssuedQuota]]:
        found = await ctx.client.all_issued_coupon_quotas(
            indirect_partner_id=rid, parent_quota_id=parent_id
        )
        return rid, found

    rate = ctx.client.rate_for(LIST_ISSUED)
    rows = dict(await pool_map(rids, read, workers_for(rate)))
    for work in works:
        work.children = rows[work.reseller_id]


def as_planned(ctx: ExecContext, work: QuotaWork) -> bool:
    if fingerprint(work.snapshot()) == work.change.fingerprint:
        return True
    ctx.conclude(
        work.change,
        "skipped",
        f"changed since the plan was made (balance now {work.money(work.balance)}); "
        "nothing was written for it: run plan again",
    )
    return False


def conclude(ctx: ExecContext, work: QuotaWork) -> None:
    balance = work.balance
    if work.stopped:  # even when the other writer reached the target: two writers is the news
        now = f"balance now {work.money(balance)}, target {work.money(work.target)}"
        ctx.conclude(work.change, "frozen", work.stopped, now, *work.problems, *work.log)
    elif balance == work.target:
        ctx.conclude(work.change, "applied", *work.log)
    elif work.unknown:
        ctx.conclude(
            work.change,
            "unknown",
            *work.problems,
            *work.log,
            "outcome unknown: the next apply settles it from the API's records before writing",
        )
    else:
        ctx.conclude(
            work.change,
            "failed",
            *work.problems,
            f"balance is {work.money(balance)}, target {work.money(work.target)}",
            *work.log,
        )


def pre_state(parent_id: str, works: Iterable[QuotaWork]) -> dict[str, object]:
    return {"parent_quota_id": parent_id, "resellers": {w.reseller_id: w.snapshot() for w in works}}


def why(out: ItemOutcome) -> str:
    return " ".join(p for p in (out.error_code, out.detail) if p) or "no reason given"


def batches(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def unique(works: Iterable[QuotaWork]) -> list[QuotaWork]:
    return list({id(w): w for w in works}.values())
