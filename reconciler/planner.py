"""From desired state and the live account to a :class:`~reconciler.plan.Plan`.

The pipeline (octoDNS's, with money guards): read only what the manifests mention
(:mod:`reconciler.reader`), check which customers' agencies can be used for the auto-renew
changes found, diff each kind (:mod:`reconciler.kinds`), report every semantic problem at once,
evaluate the guards, and return the plan in canonical order. Nothing here writes.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from reconciler import __version__
from reconciler.errors import ApiError, AuthError, ConfigError, ManifestError
from reconciler.guards import evaluate
from reconciler.kinds import account_managers, auto_renew, reseller_quota
from reconciler.kinds.base import KindResult, LiveState
from reconciler.plan import Plan, make_plan
from reconciler.reader import Reader, pool_map, workers_for

if TYPE_CHECKING:
    from reconciler.bss.client import BssClient
    from reconciler.desired import CustomerRef, DesiredState
    from reconciler.emulator.clock import Clock

IAM_RATE_OPERATION = "iam.create_temporary_access_key_by_agency"


@dataclass(frozen=True)
class PlanContext:
    endpoint: str
    partner_id: str
    allow: Collection[str] = ()


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


async def build_plan(
    desired: DesiredState, client: BssClient, ctx: PlanContext, clock: Clock
) -> Plan:
    """Read, diff and guard. Raises :class:`ManifestError` listing every semantic problem."""
    desired = scoped(desired)
    reader = Reader(client)
    live = await reader.read(desired)
    found, _ = auto_renew.candidates(desired, live)
    await check_agencies(client, auto_renew.customers_needing_agency(found), live, desired)
    results: dict[str, KindResult] = {
        reseller_quota.KIND: reseller_quota.diff(desired, live),
        auto_renew.KIND: auto_renew.diff(desired, live),
        account_managers.KIND: account_managers.diff(desired, live),
    }
    problems = list(reader.problems)
    for result in results.values():
        problems += result.problems
    if problems:
        raise ManifestError(sorted(set(problems)))
    changes = [c for r in results.values() for c in r.changes]
    in_scope = {kind: r.in_scope for kind, r in results.items() if r.in_scope}
    guards = evaluate(changes, in_scope, desired.settings.guards, set(ctx.allow))
    now = clock.time()
    return make_plan(
        changes=changes,
        notices=[n for r in results.values() for n in r.notices],
        guards=guards,
        in_scope=in_scope,
        manifest_checksum=desired.checksum,
        endpoint=ctx.endpoint,
        partner_id=ctx.partner_id,
        tool_version=__version__,
        created_at=iso(now),
        expires_at=iso(now + desired.settings.plan_ttl.total_seconds()),
        scope=scope_dict(desired),
    )


def scoped(desired: DesiredState) -> DesiredState:
    """Drop everything outside Settings ``spec.scope`` (absent scope = everything declared)."""
    scope = desired.settings.scope
    if scope.customers is None and scope.resellers is None:
        return desired

    def customer(ref: CustomerRef) -> bool:
        return scope.includes_customer(ref.customer_id, ref.account_name)

    return replace(
        desired,
        managers=tuple(m for m in desired.managers if customer(m.customer)),
        auto_renew=tuple(r for r in desired.auto_renew if customer(r.customer)),
        quotas=tuple(
            q
            for q in desired.quotas
            if scope.includes_reseller(q.reseller.reseller_id, q.reseller.account_name)
        ),
    )


def scope_dict(desired: DesiredState) -> dict[str, object]:
    scope = desired.settings.scope
    return {
        "customers": None if scope.customers is None else sorted(r.value for r in scope.customers),
        "resellers": None if scope.resellers is None else sorted(r.value for r in scope.resellers),
    }


async def check_agencies(
    client: BssClient, customer_ids: set[str], live: LiveState, desired: DesiredState
) -> None:
    """Fill ``live.agency``: None when the customer's temporary credentials can be had."""
    agency = client.agency_name
    if not customer_ids:
        return
    if not agency:
        reason = (
            "no agency name is configured, so customer credentials cannot be obtained; "
            "set Settings spec.agencyName or RECONCILER_AGENCY_NAME"
        )
        live.agency.update(dict.fromkeys(customer_ids, reason))
        return

    async def check(cid: str) -> tuple[str, str | None]:
        try:
            await client.customer_credentials(cid)
        except AuthError as err:
            return cid, (
                f"the customer has not granted the agency {agency!r} to this partner "
                f"(IAM answered {err.status} {err.error_code}); ask them to authorise it, or "
                "leave this customer out of the AutoRenew manifests"
            )
        except (ApiError, ConfigError) as err:
            return cid, f"customer credentials could not be obtained: {err}"
        return cid, None

    ids = sorted(customer_ids)
    rate = client.rate_for(IAM_RATE_OPERATION)
    for cid, why in await pool_map(ids, check, workers_for(rate)):
        live.agency[cid] = why
