"""``reconciler apply``: make the live account match the manifests, each write exactly once.

::

    saved plan?  -> intact, not expired, same manifests          (else exit 4, nothing read)
    lease        -> held by someone else?                        (LockHeldError, no write)
    settle       -> every open operation of earlier runs, from the API's records; what is
                    still in flight (or undecided) freezes its pair; --wait waits it out
    fresh plan   -> equal to the saved plan?                     (else exit 4, no write)
    show, guards (exit 3), confirmation (a TTY, or --auto-approve / --plan)
    execute      -> each kind's groups of changes, concurrently (its executor: calls,
                    batching, order), but kinds drawing on one pool in turn (plan/shared.py);
                    frozen keys untouched; manual changes listed; every
                    write journalled (each attempt fenced), checked for other writers, verified
    report       -> applied / failed / manual / unknown / skipped / frozen, money moved

Only :mod:`reconciler.cli.apply` prints; this module reports through the hooks.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.apply.evidence import DEFAULT_HORIZON, DEFAULT_RECORDS_SKEW
from reconciler.apply.in_turn import abandon, in_turn
from reconciler.apply.journal import Journal, Operation, iso, journal_location, new_id
from reconciler.apply.lease import DEFAULT_TTL, Lease, identity
from reconciler.apply.ops import ChangeResult, CrashHook, ExecContext
from reconciler.apply.report import build_report
from reconciler.apply.settle import (
    Settlement,
    describe_item,
    settle_open,
    settle_operation,
    unsettled_message,
)
from reconciler.connect import Connection, connect, resolve_target
from reconciler.emulator.clock import Clock, SystemClock, VirtualClock
from reconciler.errors import (
    EXIT_INTERRUPTED,
    ConfigError,
    LockHeldError,
    PlanBlockedError,
    ReconcilerError,
    StalePlanError,
)
from reconciler.kinds import registry
from reconciler.kinds.spec import Group
from reconciler.manifests.desired import DesiredState
from reconciler.manifests.load import load_desired
from reconciler.memory import run as run_coroutine
from reconciler.plan import shared
from reconciler.plan.model import Change, Plan
from reconciler.plan.planfile import SavedPlan
from reconciler.plan.planner import PlanContext, build_plan
from reconciler.plan.scope import parse_targets

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApplyRequest:
    paths: Sequence[Path] = ()
    plan_file: Path | None = None
    auto_approve: bool = False
    allow: Sequence[str] = ()
    #: ``--target KIND/NAME`` (with a saved plan: the plan's own targets are used)
    targets: Sequence[str] = ()
    endpoint: str | None = None
    profile: str | None = None
    journal: str | Path | None = None
    lock_ttl: float = DEFAULT_TTL
    horizon: float = DEFAULT_HORIZON
    records_skew: float = DEFAULT_RECORDS_SKEW
    wait: bool = False


class ApplyCancelled(ConfigError):
    """The person at the terminal did not confirm."""


class ApplyInterrupted(ReconcilerError):
    """Ctrl-C (SIGINT) during apply; the message says what the next apply does about it."""

    exit_code = EXIT_INTERRUPTED


def interrupted(req: ApplyRequest, run_id: str) -> ApplyInterrupted:
    """Name the writes of the interrupted run that are still open, and what happens next."""
    journal = Journal.open(journal_location(req.journal))
    try:
        ops = journal.operations(run_id=run_id, open_only=True)
    finally:
        journal.close()
    if not ops:
        return ApplyInterrupted(
            f"Interrupted (run {run_id}); no write was in flight. Run apply again to go on."
        )
    lines = [f"Interrupted (run {run_id}) with {len(ops)} write(s) not answered:"]
    for op in ops:
        for item in (i for i in op.items if i.open):
            what = describe_item(op, item)
            if op.state == "intent":
                lines.append(f"  - {what} [{op.op_id}]: never sent; the next apply settles it "
                             "as not committed")  # fmt: skip
                continue
            until = iso((op.last_attempt or op.intent_at) + req.horizon)
            lines.append(
                f"  - {what} [{op.op_id}], sent {iso(op.last_attempt or op.intent_at)}: it may "
                "have taken effect. The next apply settles it from the API's records; with no "
                f"record of it, it stays in flight (its pair frozen) until {until}, the in-flight "
                "horizon (apply --wait waits for it)"
            )
    lines.append("No other write was made after the interruption.")
    return ApplyInterrupted("\n".join(lines))


def _ignore(_text: str) -> None:
    return None


@dataclass
class ApplyHooks:
    """How apply talks to a person; the CLI fills these in."""

    show_plan: Callable[[Plan], None] = lambda _plan: None
    confirm: Callable[[Plan], bool] = lambda _plan: False
    progress: Callable[[str], None] = _ignore
    notice: Callable[[str], None] = _ignore
    change_done: Callable[[str], None] = _ignore


@dataclass
class ApplyOutcome:
    run_id: str
    plan: Plan
    results: list[ChangeResult]
    report: dict[str, Any]
    error: ReconcilerError | None = None
    settled: list[dict[str, Any]] = field(default_factory=list)
    #: open operations left after settlement (in flight or undecided): op id -> what to do
    still_open: dict[str, str] = field(default_factory=dict)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def complete(self) -> bool:
        done = all(r.status in ("applied", "manual") for r in self.results)
        return self.error is None and done and not self.still_open


def run_apply(req: ApplyRequest, hooks: ApplyHooks, *, clock: Clock | None = None) -> ApplyOutcome:
    """Plan, check, confirm, execute and verify; see the module docstring.

    ``clock`` defaults to the system clock; tests pass a :class:`VirtualClock` to run on
    virtual time against the embedded emulator.
    """
    crash = CrashHook.from_env()
    clock = clock or SystemClock()
    saved = SavedPlan.load(req.plan_file) if req.plan_file else None
    parse_targets(req.targets)  # a bad --target fails before anything is read
    paths: Sequence[str | Path] = list(req.paths) or (saved.manifest_paths if saved else [])
    if not paths:
        raise ConfigError(
            "no manifests given: pass the manifest paths (the saved plan does not name them)"
        )
    desired = load_desired(paths)
    if saved is not None:
        saved.check_static(
            desired.checksum, clock.time(), desired.settings.plan_ttl.total_seconds()
        )
    run_id = new_id("run")
    main = _apply(desired, saved, req, hooks, crash, clock, run_id)
    if isinstance(clock, VirtualClock):
        return clock.run(main)
    try:
        return run_coroutine(main)
    except KeyboardInterrupt:
        raise interrupted(req, run_id) from None


async def _apply(
    desired: DesiredState,
    saved: SavedPlan | None,
    req: ApplyRequest,
    hooks: ApplyHooks,
    crash: CrashHook,
    clock: Clock,
    run_id: str,
) -> ApplyOutcome:
    target = resolve_target(req.endpoint, req.profile or desired.settings.endpoint_profile)
    journal = Journal.open(journal_location(req.journal), clock_time=clock.time)
    try:
        async with connect(target, agency_name=desired.settings.agency_name, clock=clock) as conn:
            lease = Lease.acquire(
                journal, conn.partner_id, run_id, ttl=req.lock_ttl, notify=hooks.notice
            )
            with lease:
                journal.start_run(
                    run_id,
                    partner_id=conn.partner_id,
                    endpoint=target.label,
                    owner=identity()[0],
                    token=lease.token,
                )
                status = "failed"
                try:
                    outcome = await _locked(conn, journal, lease, run_id, desired, saved, req,
                                            hooks, crash, clock)  # fmt: skip
                    status = outcome.report["status"]
                    return outcome
                except ReconcilerError as err:
                    status = _status_of(err)
                    raise
                except (KeyboardInterrupt, asyncio.CancelledError):
                    status = "interrupted"
                    raise
                finally:
                    journal.update_run(run_id, status=status, finished_at=iso(journal.now()))
    finally:
        journal.close()


def _status_of(err: ReconcilerError) -> str:
    if isinstance(err, StalePlanError):
        return "stale"
    if isinstance(err, PlanBlockedError):
        return "blocked"
    return "cancelled" if isinstance(err, ApplyCancelled) else "failed"


async def _locked(
    conn: Connection,
    journal: Journal,
    lease: Lease,
    run_id: str,
    desired: DesiredState,
    saved: SavedPlan | None,
    req: ApplyRequest,
    hooks: ApplyHooks,
    crash: CrashHook,
    clock: Clock,
) -> ApplyOutcome:
    learned = journal.operator(conn.partner_id)
    ctx = ExecContext(
        client=conn.client,
        journal=journal,
        run_id=run_id,
        partner_id=conn.partner_id,
        token=lease.token,
        started_at=journal.now(),
        progress=hooks.progress,
        crash=crash,
        notice=hooks.notice,
        change_done=hooks.change_done,
        horizon=req.horizon,
        records_skew=req.records_skew,
        settings_operator=desired.settings.operator,
        operator=learned[0] if learned else None,
    )
    ctx.settle_now = functools.partial(_settle_now, ctx)
    settlement = await _settle(ctx, req.wait, hooks, clock)
    allow = tuple(req.allow)  # never from the saved plan: a file cannot widen an apply
    targets = parse_targets(saved.targets if saved is not None else req.targets)
    ctx_plan = PlanContext(
        endpoint=conn.target.label,
        partner_id=conn.partner_id,
        allow=allow,
        targets=targets,
        keep_credentials=True,  # the changes are made as the customers it checks
    )
    plan = await build_plan(desired, conn.client, ctx_plan, clock)
    journal.update_run(run_id, manifest_checksum=desired.checksum, plan_checksum=plan.checksum)
    _approve(plan, saved, req, hooks)
    ctx.frozen = {key: f.detail for key, f in settlement.frozen.items()}
    error = await execute(ctx, plan)
    results = [ctx.result(c) for c in plan.changes]
    still_open = {f.op_id: f.detail for f in settlement.frozen.values()}
    report = build_report(ctx, plan, results, started=ctx.started_at, error=error, open=still_open)
    return ApplyOutcome(run_id, plan, results, report, error, still_open=still_open)


async def _settle_now(ctx: ExecContext, op: Operation) -> Operation:
    """Right after an unknown answer: settle what proves a commit; the rest stays open."""
    settled = await settle_operation(
        ctx.client, ctx.journal, op, final=False, by=f"run {ctx.run_id}", ev=ctx.evidence()
    )
    return settled.op


async def _settle(ctx: ExecContext, wait: bool, hooks: ApplyHooks, clock: Clock) -> Settlement:
    """Settle the open operations of earlier runs; with ``wait``, wait out those in flight."""
    settled = 0
    while True:
        settlement = await settle_open(
            ctx.client, ctx.journal, ctx.partner_id, by=f"run {ctx.run_id}", ev=ctx.evidence()
        )
        settled += settlement.settled
        until = settlement.in_flight_until
        if not wait or until is None:
            break
        hooks.notice(
            f"Waiting until {iso(until)} (--wait): {len(settlement.frozen)} change(s) have a "
            "call that may still be in flight; they are settled from the API's records then."
        )
        await clock.sleep(max(0.0, until - ctx.journal.now()) + 1.0)
    if settled:
        hooks.notice(f"Settled {settled} open operation(s) of earlier runs from the API's records.")
    for op in settlement.unsettled:
        hooks.notice(unsettled_message(op))
    for frozen in settlement.frozen.values():
        hooks.notice(f"{frozen.key}: {frozen.detail}.")
    return settlement


def _approve(plan: Plan, saved: SavedPlan | None, req: ApplyRequest, hooks: ApplyHooks) -> None:
    """The saved plan still holds, the plan is shown, no guard blocks it, a person agreed."""
    if saved is not None:
        saved.check_fresh(plan)
    hooks.show_plan(plan)
    if plan.blocked:
        blocking = "; ".join(g.message() for g in plan.guards if g.blocks)
        hint = saved.allow_hint(plan) if saved is not None else ""
        raise PlanBlockedError(f"{blocking}. Nothing was written.{hint}")
    writes = [c for c in plan.changes if not c.manual]
    if writes and saved is None and not req.auto_approve and not hooks.confirm(plan):
        raise ApplyCancelled("Apply cancelled; nothing was written.")


async def execute(ctx: ExecContext, plan: Plan) -> ReconcilerError | None:
    """Run every change; each kind's groups concurrently, those of kinds drawing on one pool in
    turn (:func:`reconciler.plan.shared.sequences`). Returns a run-stopping error."""
    by_kind: dict[str, list[Change]] = {}
    for change in plan.changes:
        if change.key in ctx.frozen:
            ctx.conclude(change, "frozen", ctx.frozen[change.key], crash=False)
        elif change.manual:
            ctx.conclude(change, "manual", *change.notes, crash=False)
        if not change.manual:  # a frozen change stays in its sequence: a premise of later steps
            by_kind.setdefault(change.kind, []).append(change)
    free, chains = shared.sequences([c for k in registry.KINDS for c in by_kind.get(k.id, [])])
    free = [c for c in free if c.key not in ctx.frozen]
    groups: list[Group] = [g for k in registry.KINDS for g in k.groups(_of(free, k.id))]
    groups += [in_turn(steps) for steps in chains]
    outcomes = await asyncio.gather(*(g.run(ctx) for g in groups), return_exceptions=True)
    stop: ReconcilerError | None = None
    for group, outcome in zip(groups, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            if not isinstance(outcome, ReconcilerError):
                raise outcome
            abandon(ctx, group.changes, outcome)
            if isinstance(outcome, LockHeldError):
                stop = outcome
    return stop


def _of(changes: Sequence[Change], kind_id: str) -> list[Change]:
    return [c for c in changes if c.kind == kind_id]
