"""Coupon quotas: listing (§7.8), issue to resellers (§7.9), reclaim (§7.10), the issued list
(§7.11) and the operation records (§7.12).

Money invariant: for a distributor quota P, ``P.balance + sum(child balances) + spent`` only
changes through seeding; issue moves value from P to a child, reclaim moves a child's whole
balance back, spending (control plane) removes value for good.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from reconciler.emulator import ids, timefmt
from reconciler.emulator.backend import in_window, own_reseller, page
from reconciler.emulator.errors import BusinessError, InvalidParameter
from reconciler.emulator.models import Quota, QuotaRecord, Reseller, State

ISSUE, RECLAIM = "10", "11"
BUSY = "CBC.50000045"
EXITING = "CBC.50010105"
NOT_RECLAIMABLE = "CBC.99000012"
INSUFFICIENT = "CBC.99000013"
BAD_STATUS = "CBC.99000015"
NOT_EFFECTIVE = "CBC.99000017"


@dataclass(frozen=True)
class QuotaFilter:
    quota_ids: list[str] | None = None
    quota_status_list: list[int] | None = None
    quota_type: int = 0
    windows: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)

    def matches(self, q: Quota) -> bool:
        if self.quota_ids and q.quota_id not in self.quota_ids:
            return False
        if self.quota_status_list and q.quota_status not in self.quota_status_list:
            return False
        if q.quota_type != self.quota_type:
            return False
        return all(
            in_window(getattr(q, name), begin, end, inclusive=False)
            for name, (begin, end) in self.windows.items()
        )


def list_quotas(
    state: State, owner: str | None, flt: QuotaFilter, offset: int, limit: int
) -> tuple[list[Quota], int]:
    """The distributor's own quotas (``owner=None``) or one reseller's current quotas.

    A reseller's reclaimed quotas (status 6) are left out: status 6 is documented only for the
    issued list (§6) [INFERRED].
    """
    matched = [
        q
        for q in state.quotas.values()
        if q.indirect_partner_id == owner and q.quota_status != 6 and flt.matches(q)
    ]
    return page(matched, offset, limit), len(matched)


def check_not_busy(state: State, quota_id: str, now: float) -> None:
    """400 ``CBC.50000045`` while an earlier write on ``quota_id`` is still running."""
    if state.busy.get(quota_id, float("-inf")) > now:
        raise BusinessError(
            BUSY,
            f"Another operation on quota {quota_id} is still in progress; "
            "parallel operations on one quota are not allowed.",
        )


def mark_busy(state: State, quota_id: str, now: float, latency: float) -> None:
    """Keep ``quota_id`` busy from this write's arrival until its answer leaves (its latency)."""
    if latency > 0:
        state.busy[quota_id] = now + latency
    else:
        state.busy.pop(quota_id, None)


def _usable_parent(state: State, quota_id: str, now: float) -> Quota:
    parent = state.quotas.get(quota_id)
    if parent is None or parent.indirect_partner_id is not None:
        # The issue API documents no "unknown quota" code; CBC.99000012 is the quota family's
        # "does not exist or status does not allow" [INFERRED].
        raise BusinessError(NOT_RECLAIMABLE, f"The quota {quota_id} does not exist.")
    check_not_busy(state, quota_id, now)
    stamp = timefmt.fmt(now)
    if (parent.effective_time and stamp < parent.effective_time) or (
        parent.expire_time and stamp >= parent.expire_time
    ):
        raise BusinessError(
            NOT_EFFECTIVE, f"The quota {quota_id} is not yet effective or has expired."
        )
    if parent.quota_status != 0:
        raise BusinessError(
            BAD_STATUS, f"The quota {quota_id} in status {parent.quota_status} cannot be issued."
        )
    return parent


@dataclass
class Outcome:
    """The per-item result of a batch write."""

    successes: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def fail(self, item_id: str, code: str, message: str) -> None:
        self.errors.append({"error_code": code, "error_msg": message, "id": item_id})

    def payload(self, successes: str = "simple_quota_infos") -> dict[str, Any]:
        return {"error_details": self.errors, successes: self.successes}


@dataclass(frozen=True)
class Writer:
    """Who writes, when, with what latency and which injected per-item failures."""

    operator: str
    now: float
    latency: float
    rng_seed: int
    item_errors: dict[str, str]


def issue(
    state: State, parent_id: str, reseller_ids: list[str], amount: Decimal, w: Writer
) -> Outcome:
    """Issue ``amount`` to each reseller from the distributor quota ``parent_id``."""
    if len(set(reseller_ids)) != len(reseller_ids):
        # Not documented; a duplicate would issue twice, so the emulator refuses it.
        raise InvalidParameter("indirect_partner_ids must not contain duplicates")
    parent = _usable_parent(state, parent_id, w.now)
    resellers = [own_reseller(state, rid) for rid in reseller_ids]
    outcome, ready = Outcome(), []
    for reseller in resellers:
        rid = reseller.indirect_partner_id
        if rid in w.item_errors:
            outcome.fail(rid, w.item_errors[rid], f"Issuing quota to reseller {rid} failed.")
        elif reseller.exiting:
            outcome.fail(rid, EXITING, f"The reseller {rid} is exiting; quota cannot be issued.")
        else:
            ready.append(reseller)
    if amount * len(ready) > parent.balance:
        raise BusinessError(INSUFFICIENT, f"The balance of quota {parent_id} is insufficient.")
    stamp = timefmt.fmt(w.now)
    for reseller in ready:
        child = _credit_child(state, parent, reseller, amount, w.now)
        parent.balance -= amount
        outcome.successes.append({"id": reseller.indirect_partner_id, "quota_id": child.quota_id})
        _record(
            state,
            w,
            ISSUE,
            amount,
            reseller,
            quota_id=child.quota_id,
            parent_id=parent_id,
            result="0",
        )
    for error in outcome.errors:
        reseller = state.resellers[error["id"]]
        _record(state, w, ISSUE, amount, reseller, quota_id=None, parent_id=parent_id, result="-1")
    parent.last_update_time = stamp if ready else parent.last_update_time
    mark_busy(state, parent_id, w.now, w.latency)
    return outcome


def _credit_child(
    state: State, parent: Quota, reseller: Reseller, amount: Decimal, now: float
) -> Quota:
    stamp = timefmt.fmt(now)
    if state.partner.issue_mode == "top_up":
        # Top-up vs a new child quota per issue is UNVERIFIED (§6); "top_up" is a seed option.
        for existing in reversed(list(state.quotas.values())):
            if (
                existing.parent_quota_id == parent.quota_id
                and existing.indirect_partner_id == reseller.indirect_partner_id
                and existing.quota_status == 0
            ):
                existing.quota_value += amount
                existing.balance += amount
                existing.last_update_time = stamp
                return existing
    child = Quota(
        quota_id=ids.quota_id(state, now),
        quota_value=amount,
        balance=amount,
        quota_type=parent.quota_type,
        measure_id=parent.measure_id,
        currency=parent.currency,
        create_time=stamp,
        last_update_time=stamp,
        effective_time=parent.effective_time,
        expire_time=parent.expire_time,
        limit_infos=[dict(item) for item in parent.limit_infos],
        indirect_partner_id=reseller.indirect_partner_id,
        parent_quota_id=parent.quota_id,
    )
    state.quotas[child.quota_id] = child
    return child


def reclaim(state: State, quota_ids: list[str], remark: str | None, w: Writer) -> Outcome:
    """Reclaim the whole balance of each listed reseller quota back to its parent."""
    children = [state.quotas.get(qid) for qid in quota_ids]
    for parent_id in {c.parent_quota_id for c in children if c and c.parent_quota_id}:
        check_not_busy(state, parent_id, w.now)
    outcome = Outcome()
    for qid, child in zip(quota_ids, children, strict=True):
        if child is None or child.parent_quota_id is None or child.indirect_partner_id is None:
            outcome.fail(qid, NOT_RECLAIMABLE, f"The quota {qid} does not exist.")
        else:
            _reclaim_one(state, child, remark, w, outcome)
    return outcome


def _reclaim_one(
    state: State, child: Quota, remark: str | None, w: Writer, outcome: Outcome
) -> None:
    assert child.parent_quota_id is not None and child.indirect_partner_id is not None
    qid, parent_id = child.quota_id, child.parent_quota_id
    reseller = state.resellers[child.indirect_partner_id]
    if qid in w.item_errors or child.quota_status != 0:
        code = w.item_errors.get(qid, NOT_RECLAIMABLE)
        message = f"The quota {qid} in status {child.quota_status} cannot be reclaimed."
        outcome.fail(qid, code, message)
        _record(
            state, w, RECLAIM, child.balance, reseller,
            quota_id=qid, parent_id=parent_id, result="-1", remark=remark,
        )  # fmt: skip
        return
    stamp = timefmt.fmt(w.now)
    parent = state.quotas[parent_id]
    amount = child.balance
    parent.balance += amount
    parent.last_update_time = stamp
    child.balance, child.quota_status, child.last_update_time = Decimal("0.00"), 6, stamp
    outcome.successes.append({"quota_id": qid, "quota_balance": child.balance})
    _record(
        state, w, RECLAIM, amount, reseller,
        quota_id=qid, parent_id=parent_id, result="0", remark=remark,
    )  # fmt: skip
    mark_busy(state, parent_id, w.now, w.latency)


def _record(
    state: State,
    w: Writer,
    operation: str,
    amount: Decimal,
    reseller: Reseller,
    *,
    quota_id: str | None,
    parent_id: str | None,
    result: str,
    remark: str | None = None,
) -> None:
    state.records.append(
        QuotaRecord(
            id=ids.record_id(state, w.rng_seed),
            operation_type=operation,
            amount=amount,
            operation_time=timefmt.fmt(w.now),
            result=result,
            quota_id=quota_id,
            parent_quota_id=parent_id,
            operator=w.operator,
            indirect_partner_id=reseller.indirect_partner_id,
            indirect_partner_account_name=reseller.account_name,
            indirect_partner_name=reseller.name,
            remark=remark,
        )
    )


def list_issued(
    state: State,
    *,
    quota_id: str | None,
    reseller_id: str | None,
    parent_quota_id: str | None,
    offset: int,
    limit: int,
) -> tuple[list[Quota], int]:
    """Quotas issued to resellers. ``parent_quota_id=""`` filters to "no parent", i.e. nothing."""
    matched = [
        q
        for q in state.quotas.values()
        if q.indirect_partner_id is not None
        and (quota_id is None or q.quota_id == quota_id)
        and (reseller_id is None or q.indirect_partner_id == reseller_id)
        and (parent_quota_id is None or (q.parent_quota_id or "") == parent_quota_id)
    ]
    return page(matched, offset, limit), len(matched)


@dataclass(frozen=True)
class RecordFilter:
    indirect_partner_id: str | None = None
    quota_id: str | None = None
    parent_quota_id: str | None = None  # "" filters to records without a parent
    operation_type: str | None = None
    begin: str | None = None
    end: str | None = None

    def matches(self, r: QuotaRecord) -> bool:
        return (
            (self.indirect_partner_id is None or r.indirect_partner_id == self.indirect_partner_id)
            and (self.quota_id is None or r.quota_id == self.quota_id)
            and (self.parent_quota_id is None or (r.parent_quota_id or "") == self.parent_quota_id)
            and (self.operation_type is None or r.operation_type == self.operation_type)
            and in_window(r.operation_time, self.begin, self.end, inclusive=False)
        )


def list_records(
    state: State, flt: RecordFilter, offset: int, limit: int
) -> tuple[list[QuotaRecord], int]:
    """Records in the order they were written (operation time order)."""
    matched = [r for r in state.records if flt.matches(r)]
    return page(matched, offset, limit), len(matched)
