"""The money guards of kind ``AccountFunds`` (Settings ``spec.guards``).

* ``max-cash-per-run`` (``maxCashPerRun``, default 100000.00): the cash all of the run's
  transfers move to customers and resellers together (a reseller's customers funded from the
  reseller count too: every transfer is a money move);
* ``max-cash-per-recipient`` (``maxCashPerRecipient``, default 20000.00): the cash transferred to
  any one customer or reseller;
* ``max-cash-reclaim-per-run`` (``maxCashReclaimPerRun``, default 50000.00): the cash the run
  reclaims from customers and resellers together.

A guard that trips blocks the plan (exit 3) unless its name is passed with ``--allow NAME``.
"""

from __future__ import annotations

from decimal import Decimal

from reconciler.kinds.spec import money_per_recipient, money_per_run
from reconciler.plan.model import ZERO, Change


def funded(change: Change) -> Decimal:
    return change.money.issue if change.money else ZERO


def reclaimed(change: Change) -> Decimal:
    return change.money.reclaim if change.money else ZERO


def recipient(change: Change) -> str:
    """``customer <id>`` / ``reseller <id>``, from the change key."""
    return change.key.split("/", 1)[1].replace("/", " ", 1)


PER_RUN = money_per_run(
    "max-cash-per-run", "maxCashPerRun", Decimal("100000.00"),
    title="Max cash per run",
    description="Block a plan whose transfers move more cash than this to customers and "
    "resellers in total (a reseller's customers funded from the reseller count too).",
    detail="transferred by this run", amount=funded,
)  # fmt: skip
PER_RECIPIENT = money_per_recipient(
    "max-cash-per-recipient", "maxCashPerRecipient", Decimal("20000.00"),
    title="Max cash per recipient",
    description="Block a plan that transfers more cash than this to one customer or reseller.",
    noun="recipient", recipient=recipient, amount=funded,
)  # fmt: skip
RECLAIM_PER_RUN = money_per_run(
    "max-cash-reclaim-per-run", "maxCashReclaimPerRun", Decimal("50000.00"),
    title="Max cash reclaimed per run",
    description="Block a plan that reclaims more cash than this from customers and resellers "
    "in total.",
    detail="reclaimed by this run", amount=reclaimed,
)  # fmt: skip
GUARDS = (PER_RUN, PER_RECIPIENT, RECLAIM_PER_RUN)
