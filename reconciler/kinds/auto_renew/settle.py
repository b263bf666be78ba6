"""Settling an unknown outcome of switching auto-renew: a set-to-state call, so live state
decides (the resource's ``expire_policy`` is what the call sets, or it is not)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from reconciler.apply.evidence import Evidence, Verdict, state_verdict
from reconciler.kinds.auto_renew.diff import RENEW_OFF, RENEW_ON
from reconciler.kinds.spec import OperationSpec

if TYPE_CHECKING:
    from reconciler.apply.journal import Item, Journal, Operation
    from reconciler.bss.client import BssClient


def renew_verdict(want: bool, auto_renew: bool | None) -> Verdict:
    state = "on" if auto_renew else "off"
    matches = None if auto_renew is None else auto_renew == want
    return state_verdict(matches, f"auto-renew is {state}", "the resource is no longer listed")


async def renew_verdicts(
    client: BssClient, journal: Journal, op: Operation, items: Sequence[Item], ev: Evidence
) -> dict[str, Verdict]:
    want = op.operation == RENEW_ON
    ids = [i.item_id for i in items]
    found = {
        r.resource_id: r for r in await client.all_customer_resources(op.target, resource_ids=ids)
    }
    out: dict[str, Verdict] = {}
    for item in items:
        res = found.get(item.item_id)
        out[item.item_id] = renew_verdict(want, res.auto_renew if res is not None else None)
    return out


def describe(op: Operation, item: Item) -> str:
    return f"{op.operation} of resource {item.item_id} (customer {op.target})"


def where_to_look(op: Operation) -> str:
    return (
        f"Check the resource's renewal setting in the customer's console (customer {op.target}), "
        "or its expire_policy in `reconciler plan` (3 = auto-renew)."
    )


OPERATIONS = (
    OperationSpec(RENEW_ON, renew_verdicts, describe, where_to_look),
    OperationSpec(RENEW_OFF, renew_verdicts, describe, where_to_look),
)
