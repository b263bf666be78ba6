"""The money guards of kind ``AccountFunds`` (Settings ``spec.guards``).

* ``max-cash-per-run`` (``maxCashPerRun``): the cash all of the run's transfers move to
  customers and resellers together (a reseller's customers funded from the reseller count too:
  every transfer is a money move);
* ``max-cash-per-recipient`` (``maxCashPerRecipient``): the cash transferred to any one customer
  or reseller;
* ``max-cash-reclaim-per-run`` (``maxCashReclaimPerRun``): the cash the run reclaims from
  customers and resellers together.

A guard that trips blocks the plan (exit 3) unless its name is passed with ``--allow NAME``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal

from reconciler.kinds.account_funds.changes import KIND
from reconciler.plan.model import ZERO, Change, GuardResult, fmt_money

PER_RUN = "max-cash-per-run"
PER_RECIPIENT = "max-cash-per-recipient"
RECLAIM_PER_RUN = "max-cash-reclaim-per-run"
NAMES = (PER_RUN, PER_RECIPIENT, RECLAIM_PER_RUN)
#: Settings ``spec.guards`` keys, by guard name
SETTINGS_KEYS = {
    PER_RUN: "maxCashPerRun",
    PER_RECIPIENT: "maxCashPerRecipient",
    RECLAIM_PER_RUN: "maxCashReclaimPerRun",
}


@dataclass(frozen=True)
class CashLimits:
    """The limits; the defaults apply when Settings does not set them."""

    per_run: Decimal = Decimal("100000.00")
    per_recipient: Decimal = Decimal("20000.00")
    reclaim_per_run: Decimal = Decimal("50000.00")


def evaluate(
    changes: Sequence[Change], limits: CashLimits, allow: Collection[str]
) -> list[GuardResult]:
    """The three verdicts for this kind's changes (other kinds' changes are ignored)."""
    mine = [c for c in changes if c.kind == KIND and c.money is not None]
    funded = ZERO
    reclaimed = ZERO
    per_recipient: dict[str, Decimal] = {}
    for change in mine:
        assert change.money is not None
        funded += change.money.issue
        reclaimed += change.money.reclaim
        if change.money.issue:
            per_recipient[change.key] = per_recipient.get(change.key, ZERO) + change.money.issue
    top_key, top = max(per_recipient.items(), key=lambda kv: (kv[1], kv[0]), default=("", ZERO))
    recipient = top_key.split("/", 1)[1].replace("/", " ", 1) if top_key else "any recipient"
    return [
        _guard(PER_RUN, funded, limits.per_run, allow, "transferred by this run"),
        _guard(PER_RECIPIENT, top, limits.per_recipient, allow, f"to {recipient}"),
        _guard(RECLAIM_PER_RUN, reclaimed, limits.reclaim_per_run, allow, "reclaimed by this run"),
    ]


def _guard(
    name: str, observed: Decimal, limit: Decimal, allow: Collection[str], detail: str
) -> GuardResult:
    return GuardResult(
        name, fmt_money(observed), fmt_money(limit), observed <= limit, name in allow, detail
    )
