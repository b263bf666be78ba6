"""Identifiers the emulator makes up: stable, unique, deterministic from the state's counters."""

from __future__ import annotations

import datetime as dt
import hashlib

from reconciler.emulator.models import State


def _stamp(now: float, fmt: str) -> str:
    return dt.datetime.fromtimestamp(now, dt.timezone.utc).strftime(fmt)


def quota_id(state: State, now: float) -> str:
    """A numeric id like the docs' ``2020061902584509``: creation time plus a counter."""
    stamp = _stamp(now, "%Y%m%d%H%M%S")
    while True:
        n = state.next_counter("quota")
        candidate = f"{stamp}{n % 100:02d}" if n < 100 else f"{stamp}{n:06d}"
        if candidate not in state.quotas:
            return candidate


def record_id(state: State, seed: int) -> str:
    n = state.next_counter("record")
    return hashlib.sha256(f"record:{seed}:{n}".encode()).hexdigest()[:32]


def order_id(state: State, now: float) -> str:
    """A renewal order id shaped like Huawei's ``CS2401150830ABCDE``."""
    return f"CS{_stamp(now, '%y%m%d%H%M')}{state.next_counter('order'):05d}"


def request_id(seed: int, sequence: int) -> str:
    return hashlib.sha256(f"request:{seed}:{sequence}".encode()).hexdigest()[:32]


def temp_key_material(seed: int, sequence: int) -> tuple[str, str, str]:
    """``(access key, secret key, security token)`` of temporary credentials number ``sequence``."""
    digest = hashlib.sha256(f"temp:{seed}:{sequence}".encode()).hexdigest().upper()
    access = f"HPUATMP{digest[:13]}"
    secret = hashlib.sha256(f"temp-secret:{seed}:{sequence}".encode()).hexdigest()[:40]
    token = "gQpjbi1ub3J0aC00" + hashlib.sha512(f"token:{seed}:{sequence}".encode()).hexdigest()
    return access, secret, token


def coupon_id(state: State, now: float) -> str:
    """A coupon id: ``CP``, the creation time and a counter (the real format is not documented)."""
    while True:
        candidate = f"CP{_stamp(now, '%Y%m%d%H%M%S')}{state.next_counter('coupon'):06d}"
        if candidate not in state.coupons:
            return candidate


def trans_id(state: State, now: float) -> str:
    """A cash transfer's ledger id (``transfer_id`` / ``trans_id``): time plus a counter."""
    taken = {r.trans_id for r in state.adjust_records}
    while True:
        candidate = f"{_stamp(now, '%Y%m%d%H%M%S')}{state.next_counter('transfer'):08d}"
        if candidate not in taken:
            return candidate
