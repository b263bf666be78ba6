"""What AccountFunds adds to renderings: its values in words (every value through ``esc``)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from reconciler.kinds.account_funds.changes import FUND
from reconciler.plan.model import ZERO

if TYPE_CHECKING:
    from reconciler.plan.model import Change
    from reconciler.render.words import Escaper

#: how each value of a side (desired or live) is named, in the order shown
_SIDE_WORDS = (
    ("topUpTo", "top up to"),
    ("atMost", "at most"),
    ("net", "net cash"),
    ("amount", "cash"),
    ("debt_amount", "debt"),
    ("balance", "allocatable"),
    ("designated_amount", "designated"),
)


def change_text(change: Change, esc: Escaper) -> str:
    """``net cash 800.00 -> 5000.00`` (customers), ``allocatable 57000.00 -> 60000.00``."""
    before, after = change.before, change.after
    if "net" in after:
        text = f"net cash {esc(before.get('net'))} -> {esc(after.get('net'))}"
        if _nonzero(before.get("debt_amount")):
            text += f" (cash {esc(before.get('amount'))}, debt {esc(before.get('debt_amount'))})"
        return text
    text = f"allocatable {esc(before.get('balance'))} -> {esc(after.get('balance'))}"
    if _nonzero(before.get("designated_amount")):
        text += f" ({esc(before.get('designated_amount'))} designated)"
    return text


def side_text(values: Mapping[str, Any], esc: Escaper) -> str:
    """One side of a drifted object: ``top up to 5000.00, at most 20000.00`` or the live cash."""
    parts = [
        f"{word} {esc(values[key])}" for key, word in _SIDE_WORDS if values.get(key) is not None
    ]
    return ", ".join(parts) if parts else "(nothing)"


def heal_text(change: Change) -> str:
    """``apply transfers 4,200.00 CNY`` / ``apply reclaims ...; ... cannot come back``."""
    m = change.money
    if m is None:
        return f"apply makes the change ({change.action})"
    amount = m.issue if change.action == FUND else m.reclaim
    verb = "transfers" if change.action == FUND else "reclaims"
    text = f"apply {verb} {amount:,.2f} {m.currency}"
    if m.unrecoverable > ZERO:
        stuck = f"{m.unrecoverable:,.2f} {m.currency}"
        text += f"; {stuck} above the cap is designated and cannot come back"
    return text


def _nonzero(value: object) -> bool:
    try:
        return Decimal(str(value)) != ZERO
    except (InvalidOperation, ValueError):
        return value is not None
