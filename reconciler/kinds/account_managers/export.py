"""Export of account managers: every customer and its manager (``null``: none).

Nothing to read besides the customers themselves (the shared listing). A manager name a manifest
cannot hold is left out with a warning (the customer stays unmanaged).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from reconciler.gitops import yamlout as y

if TYPE_CHECKING:
    from reconciler.bss.client import BssClient
    from reconciler.bss.models import Customer
    from reconciler.gitops.account import ExportAccount, ExportProgress
    from reconciler.kinds.account_managers.desired import ManagerAssignment


async def read(
    client: BssClient, account: ExportAccount, shown: ExportProgress, kind_id: str
) -> None:
    """Nothing to read: the customers and their managers are the shared listing's."""


def of(account: ExportAccount, kind_id: str) -> None:
    """No data of its own (see :func:`read`)."""


def render(
    account: ExportAccount, _data: None, schema_dir: str, keep: Callable[[Customer], bool]
) -> tuple[str, str]:
    customers = y.sorted_customers(account)
    unique = y.unique_names(c.account_name for c in customers)
    lines = y.header(
        schema_dir,
        account,
        "Every customer and its account manager (null: none). The partner API cannot assign",
        "managers: a difference is planned as a manual change with the Partner Center steps.",
    )
    lines += [*y.envelope("AccountManagers", "account-managers"), "spec:", "  customers:"]
    pairs: y.Pairs = []
    written = [c for c in customers if keep(c) and _writable(account, c)]
    for c in written:
        ref, note = y.customer_ref(c, unique)
        manager = y.scalar(c.account_manager) if c.account_manager else "null"
        pairs.append((f"    - {{{ref}, manager: {manager}}}", note))
    if pairs:
        lines += y.lines(pairs)
    else:
        lines[-1] = "  customers: []"
    with_manager = sum(1 for c in written if c.account_manager)
    return y.text(lines), f"{len(written)} customers ({with_manager} with a manager)"


def _writable(account: ExportAccount, customer: Customer) -> bool:
    """Whether the customer's manager can be written; a warning when it cannot."""
    if customer.account_manager is None or y.writable_name(customer.account_manager):
        return True
    account.warnings.append(
        f"customer {customer.customer_id}: its account manager {customer.account_manager!r} "
        "cannot be written in a manifest (a name has at most 64 characters and no spaces); "
        "the customer is left out of account-managers.yaml (unmanaged)"
    )
    return False


def undeclared(entries: Sequence[ManagerAssignment]) -> Callable[[Customer], bool]:
    """The customers none of ``entries`` declares."""
    names = {m.customer.account_name for m in entries if m.customer.account_name}
    ids = {m.customer.customer_id for m in entries if m.customer.customer_id}
    return lambda c: c.customer_id not in ids and c.account_name not in names
