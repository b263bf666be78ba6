"""What makes two coupons the same coupon: the spec declared and live coupons are compared on.

A coupon cannot be changed once issued, so a live coupon *is* a declared one exactly when it was
cut from the declared quota with the declared face value, validity and restrictions:

* **quota**: the list does not name it, the coupon's issue record does (``quota_id``);
* **face value**: what was issued (``face_value``), not what is left (``balance``): spending is
  what a customer does with a coupon, not a difference;
* **validity**: ``validTime``/``expireTime`` as declared, else the quota's ``effective_time`` /
  ``expire_time`` (what the API puts on a coupon issued without them). When neither the manifest
  nor the quota gives a start, the start is not compared (the API picks the issue time);
* **restrictions**: the quota's ``limit_infos``, with the keys the coupon declares
  (``cloud_service_types``, ``product_ids``) replaced: what the API puts on the coupon.

The memo is sent but never compared: no answer of the API shows it again.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from reconciler.kinds.customer_coupons.desired import TIME_FORMAT, DeclaredCoupon, parse_time

if TYPE_CHECKING:
    from reconciler.bss.coupons import PartnerCoupon
    from reconciler.bss.models import CouponQuota

Limits = frozenset[tuple[str, str]]


@dataclass(frozen=True)
class CouponSpec:
    """The comparable identity of a coupon. ``effective`` None: any start (see the module doc)."""

    quota_id: str
    face_value: Decimal
    effective: int | None
    expire: int
    limits: Limits

    def accepts(self, live: CouponSpec) -> bool:
        """True when ``live`` (a coupon's observed spec) is this declared coupon."""
        return (
            self.quota_id == live.quota_id
            and self.face_value == live.face_value
            and self.expire == live.expire
            and self.limits == live.limits
            and (self.effective is None or self.effective == live.effective)
        )

    def to_dict(self) -> dict[str, object]:
        """JSON-ready, for journals and plans (times as the API writes them)."""
        return {
            "quota_id": self.quota_id,
            "face_value": f"{self.face_value:f}",
            "effective": _iso(self.effective),
            "expire": _iso(self.expire),
            "limits": sorted([k, v] for k, v in self.limits),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> CouponSpec:
        limits = data["limits"]
        assert isinstance(limits, list)
        expire = parse_time(str(data["expire"]))
        assert expire is not None, data
        effective = data.get("effective")
        return cls(
            quota_id=str(data["quota_id"]),
            face_value=Decimal(str(data["face_value"])),
            effective=None if effective is None else parse_time(str(effective)),
            expire=expire,
            limits=frozenset((str(k), str(v)) for k, v in limits),
        )


def _iso(value: int | None) -> str | None:
    return None if value is None else time.strftime(TIME_FORMAT, time.gmtime(value))


def quota_limits(quota: CouponQuota) -> dict[str, frozenset[str]] | None:
    """The quota's restrictions by key (``None``: the answer did not say, so unknown)."""
    if quota.limit_infos is None:
        return None
    found: dict[str, frozenset[str]] = {}
    for item in quota.limit_infos:
        found[item.limit_key] = found.get(item.limit_key, frozenset()) | frozenset(item.values)
    return found


def _flat(by_key: Mapping[str, frozenset[str]]) -> Limits:
    return frozenset((key, value) for key, values in by_key.items() for value in values)


def expected(coupon: DeclaredCoupon, quota: CouponQuota) -> CouponSpec | str:
    """What the API issues for ``coupon`` from ``quota``, or why that cannot be known."""
    inherited = quota_limits(quota)
    if inherited is None:
        return (
            f"the API's answer for quota {quota.quota_id} does not list its restrictions "
            "(limit_infos), which its coupons inherit"
        )
    expire_text = coupon.expire_time or quota.expire_time
    if expire_text is None:
        return f"quota {quota.quota_id} has no expiry: set expireTime"
    expire = parse_time(expire_text)
    start_text = coupon.valid_time or quota.effective_time
    effective = parse_time(start_text) if start_text else None
    if expire is None or (start_text and effective is None):
        return (
            f"quota {quota.quota_id}'s validity ({quota.effective_time} to {quota.expire_time}) "
            "is not in the API's time format"
        )
    return CouponSpec(
        quota_id=quota.quota_id,
        face_value=coupon.face_value,
        effective=effective,
        expire=expire,
        limits=_flat({**inherited, **coupon.restrictions()}),
    )


def outside_quota(coupon: DeclaredCoupon, quota: CouponQuota) -> list[tuple[str, str]]:
    """``(field, why)`` for each way ``coupon`` asks for more than ``quota`` allows (the API
    refuses it: ``CBC.99000023`` for restrictions, ``CBC.0100`` for validity)."""
    out = []
    inherited = quota_limits(quota) or {}
    names = {"cloud_service_types": "cloudServiceTypes", "product_ids": "productIds"}
    for key, values in sorted(coupon.restrictions().items()):
        allowed = inherited.get(key)
        if allowed is not None and not values <= allowed:
            extra = ", ".join(sorted(values - allowed))
            out.append((names[key], f"{extra} outside quota {quota.quota_id}'s restrictions"))
    start, end = parse_time(quota.effective_time), parse_time(quota.expire_time)
    valid, expire = parse_time(coupon.valid_time), parse_time(coupon.expire_time)
    if valid is not None and start is not None and valid < start:
        out.append(("validTime", f"before quota {quota.quota_id} is effective"
                                 f" ({quota.effective_time})"))  # fmt: skip
    if expire is not None and end is not None and expire > end:
        out.append(("expireTime", f"after quota {quota.quota_id} expires ({quota.expire_time})"))
    return out


def observed(coupon: PartnerCoupon, quota_id: str) -> CouponSpec | str:
    """A live coupon's spec (its quota from its issue record), or why it cannot be read."""
    effective, expire = parse_time(coupon.effective_time), parse_time(coupon.expire_time)
    if effective is None or expire is None:
        return (
            f"coupon {coupon.coupon_id}'s validity ({coupon.effective_time} to "
            f"{coupon.expire_time}) is not in the API's time format"
        )
    return CouponSpec(
        quota_id=quota_id,
        face_value=coupon.face_value,
        effective=effective,
        expire=expire,
        limits=frozenset((limit.limit_key, limit.value1) for limit in coupon.use_limits),
    )
