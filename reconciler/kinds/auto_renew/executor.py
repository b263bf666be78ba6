"""Executing auto-renew changes, with each customer's temporary credentials.

Per customer: one read of the planned resources (``resource_ids``, 50 per call) to check they
still look as planned, one journalled call per resource, then one read to verify
``expire_policy``. Customers run concurrently (one :class:`Group` for every change), paced by the
client per API. Switching auto-renew is set-to-state, so an unknown outcome is settled by that
verification read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reconciler.apply.journal import ItemOutcome, ItemSpec, OpSpec
from reconciler.apply.ops import ExecContext, Sent, journalled
from reconciler.kinds.auto_renew.diff import RENEW_OFF, RENEW_ON, live_object
from reconciler.kinds.spec import Group
from reconciler.plan.model import fingerprint
from reconciler.plan.pools import pool_map, workers_for

if TYPE_CHECKING:
    from reconciler.bss.models import Resource
    from reconciler.plan.model import Change

RESOURCE_IDS_PER_CALL = 50


@dataclass
class RenewWork:
    change: Change
    customer_id: str
    resource_id: str
    enable: bool
    renew_times: int | None = None
    period_type: str | None = None
    state: str | None = None
    op_id: str | None = None


def groups(changes: Sequence[Change]) -> list[Group]:
    """Every auto-renew change in one group (its customers run concurrently inside it)."""
    if not changes:
        return []
    found = tuple(changes)

    async def run(ctx: ExecContext) -> None:
        await run_renewals(ctx, [parse_work(c) for c in found])

    return [Group(found, run)]


def parse_work(change: Change) -> RenewWork:
    _, customer_id, resource_id = change.key.split("/", 2)
    body = (change.calls[0].body or {}) if change.calls else {}
    times = body.get("auto_renew_times")
    return RenewWork(
        change=change,
        customer_id=customer_id,
        resource_id=resource_id,
        enable=change.action == "enable",
        renew_times=int(times) if times is not None else None,
        period_type=body.get("period_type"),
    )


async def run_renewals(ctx: ExecContext, works: Sequence[RenewWork]) -> None:
    by_customer: dict[str, list[RenewWork]] = {}
    for work in works:
        by_customer.setdefault(work.customer_id, []).append(work)

    async def one(customer_id: str) -> None:
        await _run_customer(ctx, customer_id, by_customer[customer_id])

    rate = ctx.client.rate_for(RENEW_ON)
    await pool_map(sorted(by_customer), one, workers_for(rate))


async def _read(ctx: ExecContext, customer_id: str, ids: Sequence[str]) -> dict[str, Resource]:
    found: dict[str, Resource] = {}
    for start in range(0, len(ids), RESOURCE_IDS_PER_CALL):
        batch = list(ids[start : start + RESOURCE_IDS_PER_CALL])
        for res in await ctx.client.all_customer_resources(customer_id, resource_ids=batch):
            found[res.resource_id] = res
    return found


async def _run_customer(ctx: ExecContext, customer_id: str, works: list[RenewWork]) -> None:
    live = await _read(ctx, customer_id, [w.resource_id for w in works])
    ready = []
    for work in works:
        res = live.get(work.resource_id)
        if res is not None and fingerprint(live_object(res)) == work.change.fingerprint:
            ready.append(work)
            continue
        ctx.conclude(
            work.change,
            "skipped",
            "changed since the plan was made; nothing was written for it: run plan again",
        )
    for work in ready:
        await _switch(ctx, work, live[work.resource_id])
    live = await _read(ctx, customer_id, [w.resource_id for w in ready])
    for work in ready:
        await _verify(ctx, work, live.get(work.resource_id))


async def _switch(ctx: ExecContext, work: RenewWork, res: Resource) -> Sent:
    operation = RENEW_ON if work.enable else RENEW_OFF
    request: dict[str, object] = {"resource_id": work.resource_id}
    if work.enable:
        request.update(auto_renew_times=work.renew_times, period_type=work.period_type)
    spec = OpSpec(
        operation=operation,
        target=work.customer_id,
        request=request,
        pre_state={"resource": live_object(res)},
        items=[ItemSpec(work.resource_id, work.change.key)],
    )

    async def call(_op: str) -> bool:
        if work.enable:
            await ctx.client.auto_renewal_resources(
                work.customer_id,
                work.resource_id,
                auto_renew_times=work.renew_times,
                period_type=work.period_type,
            )
            return True
        return await ctx.client.cancel_auto_renewal_resources(work.customer_id, work.resource_id)

    def interpret(changed: bool) -> dict[str, ItemOutcome]:
        detail = None if changed else "auto-renew was already off"
        return {work.resource_id: ItemOutcome("committed", detail=detail)}

    sent = await journalled(ctx, spec, call, interpret, money=False)
    work.state, work.op_id = sent.state, sent.op_id
    if sent.state == "failed":
        out = sent.items[work.resource_id]
        ctx.result(work.change).detail.append(
            f"{operation} failed: {' '.join(p for p in (out.error_code, out.detail) if p)}"
        )
    return sent


async def _verify(ctx: ExecContext, work: RenewWork, res: Resource | None) -> None:
    want = "on" if work.enable else "off"
    if work.state == "unknown" and work.op_id:
        op = ctx.journal.operation(work.op_id)
        assert op is not None
        settled = await ctx.settle_now(op)
        if not settled.open:
            work.state = "committed"
    if res is not None and res.auto_renew == work.enable and work.state != "unknown":
        ctx.conclude(work.change, "applied", f"auto-renew is {want} [{work.op_id}]")
    elif work.state == "unknown":
        ctx.conclude(
            work.change,
            "unknown",
            f"outcome unknown [{work.op_id}]: the next apply settles it before writing",
        )
    else:
        now = "missing" if res is None else ("on" if res.auto_renew else "off")
        ctx.conclude(work.change, "failed", f"auto-renew is {now} after the call, want {want}")
