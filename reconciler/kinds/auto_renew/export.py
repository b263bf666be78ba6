"""Export of auto-renew: per customer, the majority as ``autoRenew``, the rest by resource ID.

Read: each customer's yearly/monthly main resources (one listing each, the plan's own reading).
Written: expired and frozen resources cannot be changed, so they do not count towards a
customer's default and, where they differ from it, are pinned to their live value so that they
show no drift; closed resources and customers without a renewable resource are left out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from reconciler.gitops import yamlout as y
from reconciler.kinds.auto_renew.diff import NOT_RENEWABLE
from reconciler.kinds.auto_renew.reads import RESOURCES, STATUS_CLOSED
from reconciler.plan.pools import pool_map, workers_for

if TYPE_CHECKING:
    from reconciler.bss.client import BssClient
    from reconciler.bss.models import Customer, Resource
    from reconciler.gitops.account import ExportAccount, ExportProgress
    from reconciler.kinds.auto_renew.desired import AutoRenewRule

Resources = dict[str, list["Resource"]]


def of(account: ExportAccount, kind_id: str) -> Resources:
    found = account.data.get(kind_id)
    return found if isinstance(found, dict) else {}


async def read(
    client: BssClient, account: ExportAccount, shown: ExportProgress, kind_id: str
) -> None:
    ids = sorted(c.customer_id for c in account.customers)
    shown.expect(RESOURCES, len(ids))

    async def main_resources(cid: str) -> list[Resource]:
        found = [
            r
            async for r in client.iter_customer_resources(cid, only_main_resource=1)
            if r.is_main_resource
        ]
        shown.done(RESOURCES)
        return found

    rate = client.rate_for(RESOURCES.api)
    lists = await pool_map(ids, main_resources, workers_for(rate))
    account.data[kind_id] = dict(zip(ids, lists, strict=True))


def render(
    account: ExportAccount, resources: Resources, schema_dir: str, keep: Callable[[Customer], bool]
) -> tuple[str, str]:
    customers = y.sorted_customers(account)
    unique = y.unique_names(c.account_name for c in customers)
    lines = y.header(
        schema_dir,
        account,
        "Per customer, autoRenew is what most of its yearly/monthly resources have now; the",
        "others are listed by resource ID. Expired and frozen resources cannot be changed: they",
        "are pinned to their live value where it differs. Closed resources are left out.",
    )
    lines += [*y.envelope("AutoRenew", "auto-renew"), "spec:", "  customers:"]
    pairs: y.Pairs = []
    counted = overrides = 0
    for c in customers:
        rule = _rule(c, resources.get(c.customer_id, []), unique) if keep(c) else None
        if rule is None:
            continue
        pairs += rule[0]
        counted += rule[1]
        overrides += rule[2]
    if not pairs:
        lines[-1] = "  customers: []"
    lines += y.lines(pairs)
    n = sum(1 for code, _ in pairs if code.startswith("    - "))
    return y.text(lines), f"{n} customers, {counted} resources ({overrides} by resource ID)"


def _note(res: Resource) -> str:
    service = (res.service_type_code or "?").rsplit(".", 1)[-1]
    where = f" {res.region_code}" if res.region_code else ""
    return f"{res.resource_name or '(no name)'} [{service}{where}]"


def _rule(
    customer: Customer, resources: Sequence[Resource], unique: set[str]
) -> tuple[y.Pairs, int, int] | None:
    live = sorted((r for r in resources if r.status != STATUS_CLOSED), key=lambda r: r.resource_id)
    renewable = [r for r in live if r.status not in NOT_RENEWABLE]
    if not renewable:
        return None
    on = sum(1 for r in renewable if r.auto_renew)
    default = on * 2 > len(renewable)  # a tie gives false: nothing renews unless stated
    ref, note = y.customer_ref(customer, unique)
    pairs: y.Pairs = [
        (f"    - {ref}", note),
        (
            f"      autoRenew: {'true' if default else 'false'}",
            f"{'on' if default else 'off'} for {on if default else len(renewable) - on} of "
            f"{len(renewable)} renewable resources",
        ),
    ]
    differing = [r for r in live if r.auto_renew != default]
    if differing:
        pairs.append(("      resources:", None))
    for r in differing:
        note = _note(r)
        if r.status in NOT_RENEWABLE:
            note += f", {NOT_RENEWABLE[r.status or 0]}: cannot change until it is renewed"
        flag = "true" if r.auto_renew else "false"
        pairs.append((f"        {y.quoted(r.resource_id)}: {flag}", note))
    return pairs, len(live), len(differing)


def undeclared(entries: Sequence[AutoRenewRule]) -> Callable[[Customer], bool]:
    """The customers none of ``entries`` declares."""
    names = {r.customer.account_name for r in entries if r.customer.account_name}
    ids = {r.customer.customer_id for r in entries if r.customer.customer_id}
    return lambda c: c.customer_id not in ids and c.account_name not in names
