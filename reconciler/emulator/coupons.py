"""Customer coupons: issue from a quota (§7.13), reclaim (§7.14), the issued list (§7.15), the
records (§7.16), and the clock (a coupon becomes usable on its ``effective_time`` and expires on its
``expire_time``, its leftover balance flowing back to its quota, §6).

Money invariant: for a quota Q, ``Q.balance + sum(balances of Q's coupons) + spent`` only changes
through seeding: issue moves ``face_value`` from Q into a new coupon, reclaim and expiry move a
coupon's whole balance back to Q, spending (control plane) removes value for good.

Whose is what: without ``indirect_partner_id`` the partner acts on its own customers with its own
quotas; with it, a distributor acts for that reseller: the reseller's customers and the reseller's
(child) quotas. Coupons and records carry that ``owner``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from reconciler.emulator import ids, timefmt
from reconciler.emulator.backend import in_window, page
from reconciler.emulator.errors import BusinessError, InvalidParameter
from reconciler.emulator.models import Coupon, CouponRecord, Customer, Quota, State
from reconciler.emulator.quotas import Outcome, Writer, check_not_busy, mark_busy

ISSUE, MANUAL_RECLAIM, EXPIRY_RECLAIM = "1", "2", "4"
NOT_ACTIVATED, USABLE, USED, EXPIRED, RECLAIMED = 1, 2, 3, 4, 5
RESALE = "2"
QUOTA_UNUSABLE = "CBC.99000012"
INSUFFICIENT = "CBC.99000013"
WRONG_ASSOCIATION = "CBC.99000014"
NOT_EFFECTIVE = "CBC.99000017"
RESTRICTION = "CBC.99000023"
NOT_YOUR_CUSTOMER = "CBC.99000035"
NOT_RECLAIMABLE = "CBC.99000048"
#: The restriction keys a coupon request can narrow (the quota's ``limit_infos[].limit_key``).
LIMIT_KEYS = ("cloud_service_types", "product_ids")
#: "Coupons expired for more than two years are not returned" (§7.15).
HIDDEN_AFTER_SECONDS = 2 * 365 * 24 * 3600


@dataclass(frozen=True)
class IssueRequest:
    """A validated ``create_partner_coupons`` body."""

    quota_id: str
    customer_ids: list[str]
    face_value: Decimal
    valid_time: str | None = None
    expire_time: str | None = None
    limits: dict[str, list[str]] = field(default_factory=dict)
    memo: str | None = None
    owner: str | None = None


def issue(state: State, req: IssueRequest, w: Writer) -> Outcome:
    """One coupon of ``face_value`` per customer, each debiting the quota, in the order given."""
    if len(set(req.customer_ids)) != len(req.customer_ids):
        # Not documented; a duplicate would issue two coupons, so the emulator refuses it.
        raise InvalidParameter("customer_ids must not contain duplicates")
    quota = _source_quota(state, req.quota_id, req.owner, w.now)
    effective, expire = _validity(quota, req, w.now)
    limits = _use_limits(quota, req.limits)
    outcome = Outcome()
    for customer_id in req.customer_ids:
        customer = state.customers.get(customer_id)
        if customer is None or customer.indirect_partner_id != req.owner:
            outcome.fail(customer_id, NOT_YOUR_CUSTOMER, f"{customer_id} is not your customer.")
            continue
        refusal = _refusal(customer, quota, req.face_value, w.item_errors.get(customer_id))
        if refusal is not None:
            outcome.fail(customer_id, *refusal)
            _record(state, w, ISSUE, req.face_value, quota, customer_id, None, "-1", req.owner)
            continue
        coupon = _new_coupon(state, req, quota, customer_id, (effective, expire), limits, w.now)
        quota.balance -= req.face_value
        quota.last_update_time = timefmt.fmt(w.now)
        outcome.successes.append({"id": customer_id, "coupon_id": coupon.coupon_id})
        _record(
            state, w, ISSUE, req.face_value, quota, customer_id, coupon.coupon_id, "0", req.owner
        )
    mark_busy(state, quota.quota_id, w.now, w.latency)
    return outcome


def _source_quota(state: State, quota_id: str, owner: str | None, now: float) -> Quota:
    quota = state.quotas.get(quota_id)
    if quota is None or quota.indirect_partner_id != owner or quota.quota_status != 0:
        whose = f"reseller {owner}" if owner else "you"
        raise BusinessError(
            QUOTA_UNUSABLE, f"The quota {quota_id} does not exist for {whose} or cannot be used."
        )
    check_not_busy(state, quota_id, now)
    stamp = timefmt.fmt(now)
    if (quota.effective_time and stamp < quota.effective_time) or (
        quota.expire_time and stamp >= quota.expire_time
    ):
        raise BusinessError(
            NOT_EFFECTIVE, f"The quota {quota_id} is not yet effective or has expired."
        )
    return quota


def _validity(quota: Quota, req: IssueRequest, now: float) -> tuple[str, str]:
    """The coupon's dates: the request's, else the quota's; always inside the quota's."""
    stamp = timefmt.fmt(now)
    effective = req.valid_time or quota.effective_time or stamp
    expire = req.expire_time or quota.expire_time
    if expire is None:
        raise InvalidParameter("expire_time is required: the quota has no expiry")
    if req.valid_time and quota.effective_time and req.valid_time < quota.effective_time:
        raise InvalidParameter(
            f"valid_time is before the quota's effective_time {quota.effective_time}"
        )
    if req.expire_time and quota.expire_time and req.expire_time > quota.expire_time:
        raise InvalidParameter(f"expire_time is after the quota's expire_time {quota.expire_time}")
    if effective >= expire:
        raise InvalidParameter("valid_time must be before expire_time")
    if expire <= stamp:
        raise InvalidParameter("expire_time must be in the future")
    return effective, expire


def quota_limits(quota: Quota) -> dict[str, list[str]]:
    """The quota's restrictions: ``limit_key`` -> the ``value1`` of each of its values."""
    found: dict[str, list[str]] = {}
    for item in quota.limit_infos:
        values = item.get("limit_values") or []
        key = str(item.get("limit_key"))
        found[key] = [str(v.get("value1")) for v in values if isinstance(v, dict)]
    return found


def _use_limits(quota: Quota, asked: dict[str, list[str]]) -> list[dict[str, Any]]:
    """The coupon's restrictions: the quota's, narrowed by the request (never widened)."""
    inherited = quota_limits(quota)
    chosen: dict[str, list[str]] = dict(inherited)
    for key, values in asked.items():
        allowed = inherited.get(key)
        if allowed is not None and not set(values) <= set(allowed):
            raise BusinessError(
                RESTRICTION,
                f"{key} {', '.join(sorted(set(values) - set(allowed)))} exceed the "
                f"restrictions of quota {quota.quota_id}.",
            )
        chosen[key] = values
    return [
        {"limit_key": key, "value1": value, "value2": ""}
        for key, values in chosen.items()
        for value in values
    ]


def _refusal(
    customer: Customer, quota: Quota, face_value: Decimal, injected: str | None
) -> tuple[str, str] | None:
    """Why this customer gets no coupon: ``(error_code, error_msg)``, or ``None``."""
    cid = customer.customer_id
    if injected is not None:
        return injected, f"Issuing a coupon to customer {cid} failed."
    if customer.association_type != RESALE:
        return WRONG_ASSOCIATION, f"Customer {cid} is not a resale customer; no coupon for it."
    if quota.balance < face_value:
        return INSUFFICIENT, f"The balance of quota {quota.quota_id} is insufficient."
    return None


def _new_coupon(
    state: State,
    req: IssueRequest,
    quota: Quota,
    customer_id: str,
    dates: tuple[str, str],
    limits: list[dict[str, Any]],
    now: float,
) -> Coupon:
    stamp = timefmt.fmt(now)
    coupon_id = ids.coupon_id(state, now)
    usable = dates[0] <= stamp
    coupon = Coupon(
        coupon_id=coupon_id,
        customer_id=customer_id,
        quota_id=quota.quota_id,
        face_value=req.face_value,
        balance=req.face_value,
        status=USABLE if usable else NOT_ACTIVATED,
        coupon_type=4 if quota.quota_type == 1 else 1,
        quota_type=quota.quota_type,
        measure_id=quota.measure_id,
        effective_time=dates[0],
        expire_time=dates[1],
        create_time=stamp,
        active_time=stamp if usable else None,
        use_limits=[
            {"use_limiti_info_id": f"{coupon_id}-{n}", **item} for n, item in enumerate(limits, 1)
        ],
        memo=req.memo,
        owner=req.owner,
    )
    state.coupons[coupon_id] = coupon
    return coupon


def reclaim(state: State, coupon_id: str, owner: str | None, w: Writer) -> tuple[str, str] | None:
    """Take a usable coupon's whole balance back to its quota.

    ``None`` when reclaimed; ``(error_code, error_msg)`` for the failures the API answers inside
    HTTP 200 (``CBC.99000048``: not usable, i.e. already expired, used or reclaimed).
    """
    coupon = state.coupons.get(coupon_id)
    if coupon is None or coupon.owner != owner:
        # Not documented; the emulator refuses rather than answer CBC.99000048 [INFERRED].
        raise InvalidParameter(f"coupon_id {coupon_id} is not a coupon of your customers")
    check_not_busy(state, coupon.quota_id, w.now)
    quota = state.quotas[coupon.quota_id]
    code = w.item_errors.get(coupon_id)
    if code is None and coupon.status != USABLE:
        code = NOT_RECLAIMABLE
    if code is not None:
        _record(state, w, MANUAL_RECLAIM, coupon.balance, quota, coupon.customer_id, coupon_id,
                "-1", owner)  # fmt: skip
        return code, f"The coupon {coupon_id} has expired or has already been reclaimed."
    amount = coupon.balance
    _return_to_quota(coupon, quota, w.now)
    _record(state, w, MANUAL_RECLAIM, amount, quota, coupon.customer_id, coupon_id, "0", owner)
    mark_busy(state, quota.quota_id, w.now, w.latency)
    return None


def _return_to_quota(coupon: Coupon, quota: Quota, now: float, status: int = RECLAIMED) -> None:
    quota.balance += coupon.balance
    quota.last_update_time = timefmt.fmt(now)
    coupon.balance, coupon.status = Decimal("0.00"), status


def _record(
    state: State,
    w: Writer,
    operation: str,
    amount: Decimal,
    quota: Quota,
    customer_id: str,
    coupon_id: str | None,
    result: str,
    owner: str | None,
) -> None:
    state.coupon_records.append(
        CouponRecord(
            id=ids.record_id(state, w.rng_seed),
            operation_type=operation,
            operation_amount=amount,
            operation_time=timefmt.fmt(w.now),
            result=result,
            quota_id=quota.quota_id,
            quota_type=quota.quota_type,
            coupon_id=coupon_id,
            customer_id=customer_id,
            owner=owner,
        )
    )


def follow_clock(state: State, now: float, rng_seed: int) -> bool:
    """Activate coupons whose ``effective_time`` has come; expire those whose ``expire_time`` has
    passed, their leftover balance flowing back to the quota with an operation-type-4 record
    dated at the expiry. True if anything changed."""
    stamp = timefmt.fmt(now)
    changed = False
    for coupon in state.coupons.values():
        if (
            coupon.status == NOT_ACTIVATED
            and coupon.effective_time
            and coupon.effective_time <= stamp
        ):
            coupon.status, coupon.active_time, changed = USABLE, coupon.effective_time, True
        if (
            coupon.status in (NOT_ACTIVATED, USABLE)
            and coupon.expire_time
            and coupon.expire_time <= stamp
        ):
            _expire(state, coupon, rng_seed)
            changed = True
    if changed:
        state.coupon_records.sort(key=lambda r: r.operation_time)
    return changed


def _expire(state: State, coupon: Coupon, rng_seed: int) -> None:
    assert coupon.expire_time is not None
    quota = state.quotas[coupon.quota_id]
    amount = coupon.balance
    when = timefmt.parse(coupon.expire_time)
    _return_to_quota(coupon, quota, when, status=EXPIRED)
    writer = Writer(operator="", now=when, latency=0.0, rng_seed=rng_seed, item_errors={})
    _record(state, writer, EXPIRY_RECLAIM, amount, quota, coupon.customer_id, coupon.coupon_id,
            "0", coupon.owner)  # fmt: skip


@dataclass(frozen=True)
class CouponFilter:
    coupon_id: str | None = None
    customer_id: str | None = None
    order_id: str | None = None
    coupon_type: int | None = None
    status: int | None = None
    windows: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)

    def matches(self, c: Coupon) -> bool:
        return (
            (self.coupon_id is None or c.coupon_id == self.coupon_id)
            and (self.customer_id is None or c.customer_id == self.customer_id)
            and (self.order_id is None or c.order_id == self.order_id)
            and (self.coupon_type is None or c.coupon_type == self.coupon_type)
            and (self.status is None or c.status == self.status)
            and all(
                in_window(getattr(c, name), begin, end, inclusive=False)
                for name, (begin, end) in self.windows.items()
            )
        )


def list_issued(
    state: State, owner: str | None, flt: CouponFilter, now: float, offset: int, limit: int
) -> tuple[list[Coupon], int]:
    """Coupons of the owner's resale customers, oldest first; long-expired ones left out."""
    hidden_before = timefmt.fmt(now - HIDDEN_AFTER_SECONDS)
    matched = [
        c
        for c in sorted(state.coupons.values(), key=lambda c: (c.create_time or "", c.coupon_id))
        if c.owner == owner
        and _resale(state, c.customer_id)
        and not (c.status == EXPIRED and (c.expire_time or "") < hidden_before)
        and flt.matches(c)
    ]
    return page(matched, offset, limit), len(matched)


def _resale(state: State, customer_id: str) -> bool:
    customer = state.customers.get(customer_id)
    return customer is not None and customer.association_type == RESALE


@dataclass(frozen=True)
class RecordFilter:
    operation_types: list[str] | None = None
    quota_id: str | None = None
    quota_type: int | None = None
    coupon_ids: list[str] | None = None
    customer_id: str | None = None
    result: str | None = None
    begin: str | None = None
    end: str | None = None

    def matches(self, r: CouponRecord) -> bool:
        return (
            (not self.operation_types or r.operation_type in self.operation_types)
            and (self.quota_id is None or r.quota_id == self.quota_id)
            and (self.quota_type is None or r.quota_type == self.quota_type)
            and (not self.coupon_ids or r.coupon_id in self.coupon_ids)
            and (self.customer_id is None or r.customer_id == self.customer_id)
            and (self.result is None or r.result == self.result)
            and in_window(r.operation_time, self.begin, self.end, inclusive=False)
        )


def list_records(
    state: State, owner: str | None, flt: RecordFilter, offset: int, limit: int
) -> tuple[list[CouponRecord], int]:
    """The owner's coupon records in time order."""
    matched = [r for r in state.coupon_records if r.owner == owner and flt.matches(r)]
    return page(matched, offset, limit), len(matched)
