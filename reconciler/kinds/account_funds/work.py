"""One AccountFunds change on its way through apply: what it sends, what it expects to find.

A change is one transfer. Before it is sent, its recipient is read again and must look exactly
as planned (see :meth:`Work.as_planned`); money never moves on a stale picture.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from reconciler.bss.cash import allocatable
from reconciler.kinds.account_funds.changes import (
    FUND,
    OPERATIONS,
    customer_snapshot,
    reseller_snapshot,
)
from reconciler.kinds.account_funds.evidence import Transfer, transfer_of
from reconciler.plan.model import ZERO, fingerprint, fmt_money, money
from reconciler.plan.pools import pool_map, workers_for
from reconciler.render.words import amount as shown_amount

if TYPE_CHECKING:
    from reconciler.bss.cash import AccountBalance, CustomerBalance
    from reconciler.bss.client import BssClient
    from reconciler.plan.model import Change

#: How many customers one balance query asks for (REFERENCE §7.19 leaves it open; 100).
BALANCE_BATCH = 100


@dataclass
class Work:
    """One change: its transfer, the live object it was planned from and what happened."""

    change: Change
    recipient: str  # "customer" | "reseller"
    transfer: Transfer
    currency: str = "CNY"
    #: the latest read of the recipient (None: not read, or no longer listed)
    customer: CustomerBalance | None = None
    account: AccountBalance | None = None
    state: str | None = None  # committed | failed | unknown, once sent
    op_id: str | None = None
    trans_id: str | None = None
    stopped: str | None = None  # another writer is active on the recipient
    log: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.change.key

    @property
    def rid(self) -> str:
        """The recipient's id (a customer's, or a reseller's)."""
        return self.transfer.recipient

    @property
    def action(self) -> str:
        return self.change.action

    @property
    def amount(self) -> Decimal:
        return self.transfer.amount

    def money(self, value: Decimal) -> str:
        return shown_amount(value, self.currency)

    def expected_balance(self) -> Decimal:
        """A reseller's allocatable amount right before its own transfer: as planned, plus what
        this run reclaimed from its customers first."""
        before = self.change.before
        return money(before["balance"]) + money(before.get("from_customers") or ZERO)

    def as_planned(self) -> str | None:
        """Why the recipient no longer looks as the plan saw it (None: it does)."""
        before = self.change.before
        if self.recipient == "customer":
            if self.customer is None:
                return "it is no longer listed among the resale customers' balances"
            snap = customer_snapshot(
                self.rid, self.transfer.ledger, self.customer.amount, self.customer.debt_amount
            )
            if fingerprint(snap) == self.change.fingerprint:
                return None
            return (
                f"its cash is now {self.money(self.customer.amount)} with a debt of "
                f"{self.money(self.customer.debt_amount)}, not the planned "
                f"{self.money(money(before['amount']))} and "
                f"{self.money(money(before['debt_amount']))}"
            )
        if self.account is None:
            return "its allocatable account is no longer listed"
        want = (self.expected_balance(), money(before["designated_amount"]))
        got = (self.account.amount, self.account.designated)
        if got == want:
            return None
        return (
            f"its allocatable account holds {self.money(got[0])} ({self.money(got[1])} "
            f"designated), not the {self.money(want[0])} ({self.money(want[1])}) its transfer "
            "was planned from"
        )

    def snapshot(self) -> object:
        """The live object just read, for the journal's pre-state."""
        if self.recipient == "customer" and self.customer is not None:
            c = self.customer
            return customer_snapshot(self.rid, self.transfer.ledger, c.amount, c.debt_amount)
        if self.account is not None:
            return reseller_snapshot(self.rid, self.account.amount, self.account.designated)
        return None

    def now_text(self) -> str:
        """The recipient's balance as last read, for the report."""
        if self.recipient == "customer":
            c = self.customer
            if c is None:
                return "no longer listed"
            debt = f", debt {self.money(c.debt_amount)}" if c.debt_amount else ""
            return f"net cash now {self.money(c.amount - c.debt_amount)}{debt}"
        if self.account is None:
            return "allocatable account no longer listed"
        return f"allocatable account now {self.money(self.account.amount)}"

    def reached(self) -> bool | None:
        """Whether the balance read after the transfer is the one planned (None: not read)."""
        if self.recipient == "customer":
            if self.customer is None:
                return None
            net = self.customer.amount - self.customer.debt_amount
            return bool(fmt_money(net) == self.change.after["net"])
        if self.account is None:
            return None
        moved = self.amount if self.action == FUND else -self.amount
        return bool(self.account.amount == self.expected_balance() + moved)


def parse_work(change: Change) -> Work:
    """The transfer one AccountFunds change carries (its single call)."""
    (call,) = change.calls
    recipient = change.key.split("/")[1]
    assert OPERATIONS[(recipient, change.action)].name == call.operation, change.key
    transfer = transfer_of(call.operation, call.body or {})
    currency = change.money.currency if change.money else "CNY"
    return Work(change, recipient, transfer, currency)


async def refresh(client: BssClient, works: Sequence[Work]) -> None:
    """Read the recipients again: customers' balances per ledger (100 per call), each
    reseller's accounts (one call each)."""
    ledgers: dict[str | None, list[Work]] = {}
    for w in works:
        if w.recipient == "customer":
            ledgers.setdefault(w.transfer.ledger, []).append(w)
    for owner, group in ledgers.items():
        found = await client.all_customers_balances_detail(
            [w.rid for w in group], indirect_partner_id=owner
        )
        for w in group:
            w.customer = found.get(w.rid)
    resellers = [w for w in works if w.recipient == "reseller"]

    async def read(w: Work) -> None:
        w.account = allocatable(await client.list_partner_balances(indirect_partner_id=w.rid))

    rate = client.rate_for("list_partner_balances")
    await pool_map(resellers, read, workers_for(rate))
