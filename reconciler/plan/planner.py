"""From desired state and the live account to a :class:`~reconciler.plan.model.Plan`.

The pipeline (octoDNS's, with money guards): read only what the manifests mention
(:mod:`reconciler.plan.reader`), check which customers' agencies can be used for the changes
found that act as the customer (kinds with ``uses_agency``), diff each kind
(:mod:`reconciler.kinds`), report every semantic problem at once, evaluate the guards, and
return the plan in canonical order. Nothing here writes.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler import __version__
from reconciler.errors import (
    AgencyDeniedError,
    ApiError,
    AuthError,
    ConfigError,
    ManifestError,
    ManifestProblem,
)
from reconciler.kinds import registry
from reconciler.kinds.base import KindResult, LiveState
from reconciler.manifests.load import cyclic_gc_paused
from reconciler.memory import release_free_memory
from reconciler.plan import shared
from reconciler.plan.declared import Wanted, managers_named
from reconciler.plan.guards import evaluate
from reconciler.plan.model import Plan, make_plan
from reconciler.plan.pools import pool_map, workers_for
from reconciler.plan.progress import Progress
from reconciler.plan.reader import Reader
from reconciler.plan.scope import Narrowing, Target, narrow

if TYPE_CHECKING:
    from reconciler.bss.client import BssClient
    from reconciler.emulator.clock import Clock
    from reconciler.kinds.spec import Kind
    from reconciler.manifests.desired import DesiredState

IAM_RATE_OPERATION = "iam.create_temporary_access_key_by_agency"


@dataclass(frozen=True)
class PlanContext:
    endpoint: str
    partner_id: str
    allow: Collection[str] = ()
    #: False: plan changes made as the customer without asking IAM whether each customer's
    #: agency can be used (for credentials that may not assume agencies, e.g. read-only ones)
    verify_agencies: bool = True
    #: ``--target KIND/NAME``: only the declared entries they select are read and planned
    targets: tuple[Target, ...] = ()
    #: True when the changes will be made with this client (apply): the customers' temporary
    #: credentials the agency checks obtain stay cached for them. Otherwise (plan, drift)
    #: none is kept once checked (:meth:`~reconciler.bss.client.BssClient.customer_credentials`)
    keep_credentials: bool = False


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


async def build_plan(
    desired: DesiredState,
    client: BssClient,
    ctx: PlanContext,
    clock: Clock,
    *,
    progress: Progress | None = None,
) -> Plan:
    """Read, diff and guard. Raises :class:`ManifestError` listing every semantic problem.

    The agency of a customer with a change made as the customer is checked (one IAM call) as soon as
    its resources are read, alongside the remaining reads, not after them.
    """
    desired, narrowing = narrow(desired, ctx.targets)
    live, problems = await read_live(
        desired,
        client,
        progress=progress,
        verify_agencies=ctx.verify_agencies,
        keep_credentials=ctx.keep_credentials,
        clock=clock,
    )
    return assemble_plan(desired, live, problems, ctx, clock.time(), narrowing=narrowing)


async def read_live(
    desired: DesiredState,
    client: BssClient,
    *,
    progress: Progress | None = None,
    verify_agencies: bool = True,
    check_managers: bool = True,
    keep_credentials: bool,
    clock: Clock | None = None,
) -> tuple[LiveState, list[ManifestProblem]]:
    """Everything the diff needs, read once: the live objects the (scoped) manifests mention,
    and the agency of every customer with a change made as the customer; plus the reader's problems.

    ``check_managers``: a manager neither in the roster nor on a customer read is looked for
    on every customer before the diff calls it unknown (drift, which accepts any manager,
    skips it). ``keep_credentials``: see :attr:`PlanContext.keep_credentials` (no default: a
    caller that then acts as the customers with ``client`` must keep them, or ask IAM twice)."""
    no_agency = missing_agency_name(desired, client.agency_name)
    reader = Reader(client, progress=progress, clock=clock)
    agencies: _AgencyChecks | None = None
    if no_agency is not None or not verify_agencies:
        live = await reader.read(desired)
        live.agency_verified = False
        problems = [*reader.problems, *([no_agency] if no_agency else [])]
    else:
        agencies = _AgencyChecks(client, desired, reader, keep=keep_credentials)
        live = await reader.read(desired, on_customer=agencies.consider)
        needed = {cid for k in _agency_kinds(desired) for cid in k.agency_customers(desired, live)}
        await check_agencies(
            client, needed - live.agency.keys(), live, desired, keep=keep_credentials
        )
        problems = reader.problems
    if check_managers:
        wanted = managers_named(desired)
        await reader.check_managers(wanted - set(desired.settings.account_managers))
    # The reader's bookkeeping (its pools' jobs refer back to it: a cycle; the agency checks
    # hold it too) goes now, not at some later full collection while the diff builds the plan
    # beside it.
    del reader, agencies
    release_free_memory(collect=True)
    return live, problems


def assemble_plan(
    desired: DesiredState,
    live: LiveState,
    read_problems: Sequence[ManifestProblem],
    ctx: PlanContext,
    now: float,
    *,
    narrowing: Narrowing | None = None,
) -> Plan:
    """Diff every kind against ``live``, check problems and guards, order the plan (no I/O).

    ``narrowing``: how ``desired`` was narrowed (:func:`reconciler.plan.scope.narrow`); by
    default, only by its Settings scope."""
    if narrowing is None:
        desired, narrowing = narrow(desired)
    with cyclic_gc_paused():
        return _assemble(desired, live, read_problems, ctx, now, narrowing)


def diff_kinds(desired: DesiredState, live: LiveState) -> dict[str, KindResult]:
    """Every kind's changes, notices and problems against ``live`` (pure)."""
    return {k.id: k.diff(desired, live) for k in registry.KINDS}


def _assemble(
    desired: DesiredState,
    live: LiveState,
    read_problems: Sequence[ManifestProblem],
    ctx: PlanContext,
    now: float,
    narrowing: Narrowing,
) -> Plan:
    results = diff_kinds(desired, live)
    problems = list(read_problems)
    for result in results.values():
        problems += result.problems
    changes = [c for r in results.values() for c in r.changes]
    problems += shared.check(changes, live)  # what several kinds draw on one pool together
    if problems:
        raise ManifestError(sorted(set(problems)))
    in_scope = {kind: r.in_scope for kind, r in results.items() if r.in_scope}
    guards = evaluate(changes, in_scope, desired.settings.guards, set(ctx.allow), registry.GUARDS)
    return make_plan(
        changes=changes,
        order=registry.ORDER,
        notices=[n for r in results.values() for n in r.notices],
        guards=guards,
        in_scope=in_scope,
        manifest_checksum=desired.checksum,
        endpoint=ctx.endpoint,
        partner_id=ctx.partner_id,
        tool_version=__version__,
        created_at=iso(now),
        expires_at=iso(now + desired.settings.plan_ttl.total_seconds()),
        scope=narrowing.to_dict(),
        targets=narrowing.targets,
    )


def _agency_kinds(desired: DesiredState) -> list[Kind[Any]]:
    """The kinds with entries whose changes call the API as the customer (``uses_agency``)."""
    return [k for k in registry.KINDS if k.uses_agency and k.entries(desired)]


class _AgencyChecks:
    """Checks a customer's agency as soon as its reads show a change that needs it."""

    def __init__(
        self, client: BssClient, desired: DesiredState, reader: Reader, *, keep: bool
    ) -> None:
        self.client = client
        self.keep = keep
        self.reader = reader
        self.live = reader.live
        self.kinds = {k.id for k in _agency_kinds(desired)}
        self.started: set[str] = set()

    def consider(self, customer_id: str) -> None:
        agency = self.client.agency_name
        if not agency or customer_id in self.started:
            return  # without an agency name, check_agencies explains why, with no call
        if not any(self._needs(want, customer_id) for want in self.reader.wanted):
            return
        self.started.add(customer_id)

        async def job() -> None:
            self.live.agency[customer_id] = await agency_problem(
                self.client, customer_id, agency, keep=self.keep
            )

        self.reader.pool(IAM_RATE_OPERATION).submit(job)

    def _needs(self, want: Wanted, customer_id: str) -> bool:
        if want.kind.id not in self.kinds:
            return False
        entries = self.reader.entries(want, "customer", customer_id, resolved=True)
        return bool(entries) and want.kind.needs_agency(entries, customer_id, self.live)


def missing_agency_name(desired: DesiredState, agency: str | None) -> ManifestProblem | None:
    """A kind acting as the customer needs the agency customers granted: a problem when its
    name is not configured.

    Never guessed, never filled in (not even by the embedded emulator): a plan that cannot
    obtain customer credentials would otherwise end in "No changes" while nothing can be done.
    """
    kinds = _agency_kinds(desired)
    if agency or not kinds:
        return None
    kind = kinds[0]
    first = kind.entries(desired)[0]
    ref = kind.references(first).customer
    named = f" of {ref.text}" if ref is not None else ""
    where = f" (the Settings document is at {desired.settings.source})"
    return ManifestProblem(
        first.source,
        "",
        f"{kind.manifest_kind}{named} needs the IAM agency your customers granted you, "
        "and no agency name is configured: set Settings spec.agencyName"
        f"{where if desired.settings.source else ''} or the environment variable "
        "RECONCILER_AGENCY_NAME",
    )


def require_agency_name(desired: DesiredState, agency: str | None) -> None:
    """Raise :func:`missing_agency_name`'s problem, if there is one."""
    problem = missing_agency_name(desired, agency)
    if problem is not None:
        raise ManifestError([problem])


async def check_agencies(
    client: BssClient,
    customer_ids: set[str],
    live: LiveState,
    desired: DesiredState,
    *,
    keep: bool,
) -> None:
    """Fill ``live.agency``: None when the customer's temporary credentials can be had
    (``keep``: and keep them cached, for changes made with this client)."""
    agency = client.agency_name
    if not customer_ids:
        return
    require_agency_name(desired, agency)
    assert agency is not None  # require_agency_name raised otherwise

    async def check(cid: str) -> tuple[str, str | None]:
        return cid, await agency_problem(client, cid, agency, keep=keep)

    ids = sorted(customer_ids)
    rate = client.rate_for(IAM_RATE_OPERATION)
    for cid, why in await pool_map(ids, check, workers_for(rate)):
        live.agency[cid] = why


def _agency_manifests() -> str:
    """The manifest kinds whose changes act as the customer, in words: ``AutoRenew``."""
    return " or ".join(k.manifest_kind for k in registry.KINDS if k.uses_agency)


async def agency_problem(
    client: BssClient, customer_id: str, agency: str, *, keep: bool
) -> str | None:
    """Why the customer's temporary credentials cannot be had, or ``None`` when they can
    (``keep``: and keep them cached)."""
    try:
        await client.customer_credentials(customer_id, keep=keep)
    except AgencyDeniedError as err:
        return (
            f"IAM refused the customer's temporary credentials through the agency {agency!r} "
            f"({err.status} {err.error_code}: {err.iam_message}). Either the customer has not "
            "granted this agency to the partner (ask them to authorise it, or leave them out of "
            f"the {_agency_manifests()} manifests), or the credentials running the plan may not "
            "assume agencies (plan with credentials that may)"
        )
    except AuthError as err:
        return f"customer credentials could not be obtained: {err}"
    except (ApiError, ConfigError) as err:
        return f"customer credentials could not be obtained: {err}"
    return None
