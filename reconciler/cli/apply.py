"""``reconciler apply``, ``reconciler journal list|settle`` and ``reconciler unlock``."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from reconciler.apply.evidence import DEFAULT_HORIZON, DEFAULT_RECORDS_SKEW
from reconciler.apply.lease import DEFAULT_TTL
from reconciler.cli.options import (
    GUARD_NAMES,
    Seconds,
    endpoint_options,
    handle_errors,
    no_color_option,
    target_option,
    use_colour,
)
from reconciler.cli.output import emit, error
from reconciler.errors import (
    ConfigError,
    LockHeldError,
    PartialApplyError,
    UnreachableStateError,
    UnsettledOperationError,
)

F = TypeVar("F", bound=Callable[..., Any])


def journal_option(fn: F) -> F:
    return click.option(
        "--journal",
        "journal_file",
        metavar="FILE|URL",
        help="The apply journal and lease: a SQLite file, or a shared PostgreSQL database "
        "(postgresql://user@host/db) for applies from several machines. "
        "Env: RECONCILER_JOURNAL_URL (a postgresql:// URL), RECONCILER_JOURNAL (a file). "
        "Default: $RECONCILER_STATE_DIR/journal.sqlite (.reconciler/ when unset).",
    )(fn)


def horizon_option(fn: F) -> F:
    return click.option(
        "--in-flight-horizon",
        "horizon",
        envvar="RECONCILER_IN_FLIGHT_HORIZON",
        type=Seconds(0),
        metavar="SECONDS",
        default=DEFAULT_HORIZON,
        show_default=True,
        help="How long a sent call with no evidence of its effect may still be in flight (held "
        "by the gateway, a proxy or a retransmit); its pair is frozen until then. Do not lower "
        "it against the real API (docs/apply.md). Env: RECONCILER_IN_FLIGHT_HORIZON.",
    )(fn)


def records_skew_option(fn: F) -> F:
    return click.option(
        "--records-clock-skew",
        "records_skew",
        envvar="RECONCILER_RECORDS_CLOCK_SKEW",
        type=Seconds(0),
        metavar="SECONDS",
        default=DEFAULT_RECORDS_SKEW,
        show_default=True,
        help="How far the clock that stamps the API's records may be from the clock in its "
        "answers' Date header: every records window (the check for other writers before each "
        "money write, settlement) is widened by it. Do not lower it against the real API "
        "(docs/apply.md). Env: RECONCILER_RECORDS_CLOCK_SKEW.",
    )(fn)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Apply this saved plan (`reconciler plan --out FILE`) only if it is still valid: "
    "intact (sealed with RECONCILER_PLAN_KEY when that is set), same manifests, same live "
    "objects, not expired. Exit 4 otherwise. No prompt. Guard overrides are never read from "
    "the file: pass --allow here.",
)
@click.option("--auto-approve", is_flag=True, help="Apply without asking for confirmation.")
@click.option(
    "--allow",
    multiple=True,
    type=click.Choice(GUARD_NAMES),
    metavar="GUARD",
    help=f"Let a tripped guard pass: {', '.join(GUARD_NAMES)}. Repeatable.",
)
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the JSON report of the run here.",
)
@click.option(
    "--manual-steps",
    "manual_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the Partner Center steps for manual changes here (Markdown).",
)
@click.option(
    "--lock-ttl",
    type=Seconds(10),
    metavar="SECONDS",
    default=DEFAULT_TTL,
    show_default=True,
    help="Seconds the partner account's lease lasts without a heartbeat.",
)
@horizon_option
@records_skew_option
@click.option(
    "--wait",
    is_flag=True,
    help="When an earlier call may still be in flight, wait until it can be settled, then "
    "apply everything (instead of applying the rest and exiting 5).",
)
@target_option
@journal_option
@endpoint_options
@no_color_option
@handle_errors
def apply(
    paths: Sequence[Path],
    plan_file: Path | None,
    auto_approve: bool,
    allow: Sequence[str],
    targets: Sequence[str],
    report_file: Path | None,
    manual_file: Path | None,
    lock_ttl: float,
    horizon: float,
    records_skew: float,
    wait: bool,
    journal_file: str | None,
    endpoint: str | None,
    profile: str | None,
) -> None:
    """Make the partner account match the manifests; every write exactly once.

    Plans, shows the plan and asks for confirmation (type `yes`; without a terminal pass
    --auto-approve). With --plan FILE it applies a reviewed saved plan instead, and refuses
    (exit 4) if anything changed since. Every write is journalled before it is sent; a
    write whose outcome is unknown is settled from the API's records before anything else.

    \b
    Exit codes: 0 all applied (manual steps may remain), 1 error, 3 blocked by a guard,
    4 stale saved plan, 5 partial (something failed, is unknown, or is frozen because an
    earlier call may still be in flight), 6 nothing to apply but declared states cannot be
    reached, 130 interrupted.

    \b
    Examples:
      reconciler apply examples/manifests
      reconciler apply manifests/ --auto-approve --report apply.json
      reconciler plan manifests/ --out plan.json && reconciler apply --plan plan.json
      reconciler apply manifests/ --target customer/xinghe-net
    """
    from reconciler.apply.executor import ApplyHooks, ApplyRequest, run_apply

    if plan_file is not None and targets:
        raise click.UsageError("--target is taken from the saved plan; make the plan with it")
    request = ApplyRequest(
        paths=paths,
        plan_file=plan_file,
        auto_approve=auto_approve,
        allow=allow,
        targets=tuple(targets),
        endpoint=endpoint,
        profile=profile,
        journal=journal_file,
        lock_ttl=lock_ttl,
        horizon=horizon,
        records_skew=records_skew,
        wait=wait,
    )
    hooks = ApplyHooks(
        show_plan=_show_plan,
        confirm=_confirm,
        # Each call on a terminal; one line per change as it completes everywhere (a CI log
        # shows progress while the run goes on, not only at the end).
        progress=_progress if sys.stdout.isatty() else (lambda _t: None),
        notice=_notice,
        change_done=_progress,
    )
    outcome = run_apply(request, hooks)
    _finish(outcome, report_file, manual_file)


def _show_plan(plan: Any) -> None:
    from reconciler.render.formats import render_text

    colour = use_colour()
    emit(render_text(plan, colour=colour), colour=colour)


def _progress(text: str) -> None:
    """One progress line; it may quote a name, so it stays one line whatever the name holds."""
    from reconciler.render.escape import terminal_field

    emit(terminal_field(text))


def _notice(text: str) -> None:
    from reconciler.render.escape import terminal_field

    error(terminal_field(text))


def _interactive() -> bool:
    return sys.stdin.isatty()


def _confirm(plan: Any) -> bool:
    if not _interactive():
        raise ConfigError(
            "apply asks for confirmation, but stdin is not a terminal. Review the plan and pass "
            "--auto-approve, or apply a reviewed saved plan with --plan FILE. Nothing was written."
        )
    answer: str = click.prompt(
        "Apply these changes? Only 'yes' will be accepted", default="", show_default=False
    )
    return answer.strip() == "yes"


def _finish(outcome: Any, report_file: Path | None, manual_file: Path | None) -> None:
    from reconciler.apply.report import (
        manual_steps_markdown,
        manual_steps_text,
        problem_lines,
        summary_line,
    )
    from reconciler.bss.redact import scrub
    from reconciler.files import write_private
    from reconciler.render.escape import for_output

    lines = problem_lines(outcome.results)
    if lines:
        emit("\n".join(lines))
    steps = manual_steps_text(outcome.results)
    if steps:
        emit(steps)
    if report_file is not None:
        text = json.dumps(outcome.report, indent=2, sort_keys=True) + "\n"
        write_private(report_file, for_output(scrub(text), "json"))
    if manual_file is not None:
        text = manual_steps_markdown(outcome.results, outcome.run_id)
        write_private(manual_file, for_output(scrub(text), "markdown"))
    emit(summary_line(outcome.report))
    if outcome.error is not None:
        raise outcome.error
    if not outcome.complete:
        where = f"; details in {report_file}" if report_file else ""
        still = ""
        if outcome.still_open:
            ids = ", ".join(sorted(outcome.still_open))
            still = f"; operations still open from earlier runs: {ids}"
        raise PartialApplyError(
            "some changes were not applied (see above); rerun apply once the cause is fixed: "
            f"it settles anything unknown first{still}{where}"
        )
    if outcome.plan.status == "unreachable":
        raise UnreachableStateError(
            "nothing was applied, and declared states cannot be reached (listed above): a "
            "customer has not granted the agency, a resource expired, or entries are outside "
            "Settings spec.scope; fix that, or take them out of the manifests"
        )


# -- journal ---------------------------------------------------------------------------------


def _open_journal(journal_file: str | None) -> Any:
    from reconciler.apply.journal import Journal, journal_location

    location = journal_location(journal_file)
    if isinstance(location, Path) and not location.exists():
        raise ConfigError(f"no apply journal at {location}: nothing was applied with it yet")
    return Journal.open(location)


@click.group("journal")
def journal() -> None:
    """Inspect the apply journal, and settle an operation by hand.

    \b
    Examples:
      reconciler journal list --open
      reconciler journal settle op-3f9a1c2b7d4e --committed
    """


@journal.command("list")
@click.option("--open", "open_only", is_flag=True, help="Only operations still to be settled.")
@click.option("--run", "run_id", help="Only operations of this run.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per operation.")
@journal_option
@no_color_option
@handle_errors
def journal_list(
    open_only: bool, run_id: str | None, limit: int, as_json: bool, journal_file: str | None
) -> None:
    """List the latest write operations, their state and their items.

    \b
    Examples:
      reconciler journal list --open
      reconciler journal list --run run-3f9a1c2b7d4e --json
    """
    from reconciler.apply.journal import iso
    from reconciler.render.escape import terminal_field

    jrnl = _open_journal(journal_file)
    ops = jrnl.operations(open_only=open_only, run_id=run_id, limit=limit)
    if not ops and not as_json:
        emit("No operations." if not open_only else "No open operations.")
    t = terminal_field
    for op in ops:
        if as_json:
            emit(json.dumps(op.to_dict(), sort_keys=True), medium="json")
            continue
        lines = [
            f"{t(op.op_id)}  {iso(op.intent_at)}  {t(op.state):<9} {t(op.operation)} "
            f"{t(op.target)}  run {t(op.run_id)}"
            + (f"  request {t(op.request_id)}" if op.request_id else "")
        ]
        for item in op.items:
            extra = " ".join(
                t(p) for p in (item.amount, item.quota_id, item.error_code, item.detail) if p
            )
            lines.append(f"    {t(item.item_id)}  {t(item.state)}  {extra}".rstrip())
        emit("\n".join(lines))


@journal.command("settle")
@click.argument("op_id")
@click.option(
    "--committed/--not-committed",
    "committed",
    default=None,
    help="What you found in Partner Center: the call took effect, or it did not.",
)
@click.option("--item", "items", multiple=True, help="Only this item (reseller/quota id).")
@click.option(
    "--checked-api-records",
    "checked",
    is_flag=True,
    help="Settle even though the call was sent less than the in-flight horizon ago: you have "
    "checked the API's records (the message says which) and know it took effect, or that it "
    "can no longer land.",
)
@horizon_option
@journal_option
@no_color_option
@handle_errors
def journal_settle(
    op_id: str,
    committed: bool | None,
    items: Sequence[str],
    checked: bool,
    horizon: float,
    journal_file: str | None,
) -> None:
    """Record by hand whether an unsettled operation took effect.

    Use it when apply stopped with "may or may not have taken effect" and you have checked the
    records in Partner Center. It only changes the journal: the next plan is computed from
    live state either way. A call sent less than the in-flight horizon ago may still land, so
    it is refused then unless you pass --checked-api-records.

    \b
    Examples:
      reconciler journal settle op-3f9a1c2b7d4e --committed
      reconciler journal settle op-3f9a1c2b7d4e --not-committed --item 23162efcb2a5...
    """
    from reconciler.apply.lease import identity, live_holder
    from reconciler.apply.settle import in_flight_message

    if committed is None:
        raise click.UsageError("say what you found: --committed or --not-committed")
    jrnl = _open_journal(journal_file)
    op = jrnl.operation(op_id)
    if op is None:
        raise ConfigError(
            f"no operation {op_id} in {jrnl.location} (see `reconciler journal list`)"
        )
    holder = live_holder(jrnl, op.partner_id)
    if holder is not None:
        raise LockHeldError(f"an apply is running ({holder.describe()}); settle after it ends")
    todo = [i for i in op.items if i.open and (not items or i.item_id in items)]
    if not todo:
        emit(f"{op_id} has nothing open to settle.")
        return
    until = op.in_flight_until(horizon)
    if until is not None and jrnl.now() < until and not checked:
        raise UnsettledOperationError(in_flight_message(op, until, horizon))
    word = "committed" if committed else "not committed"
    for item in todo:
        jrnl.settle_item(
            op_id,
            item.item_id,
            committed=committed,
            by=f"operator {identity()[0]}",
            detail=f"settled by hand as {word}",
        )
    emit(f"{op_id}: {len(todo)} item(s) settled as {word}.")


# -- unlock ----------------------------------------------------------------------------------


@click.command()
@click.option("--force", is_flag=True, help="Break the lease even if it looks alive.")
@click.option("--partner", help="Partner account id (when the journal has several).")
@journal_option
@no_color_option
@handle_errors
def unlock(force: bool, partner: str | None, journal_file: str | None) -> None:
    """Free the partner account's apply lease.

    Without --force only a lease that expired, or whose process on this host is gone, is freed.
    Open operations of the broken run are settled by the next apply before it writes.

    \b
    Examples:
      reconciler unlock
      reconciler unlock --force
    """
    from reconciler.apply.lease import break_lease, lease_rows

    jrnl = _open_journal(journal_file)
    held = [r["partner_id"] for r in lease_rows(jrnl) if r["owner"]]
    if partner is None:
        if not held:
            emit("No lease is held.")
            return
        if len(held) > 1:
            raise ConfigError(f"several partner accounts are locked; pass --partner ({held})")
        partner = held[0]
    holder = break_lease(jrnl, partner, force=force)
    if holder is None:
        emit(f"No lease is held on partner account {partner}.")
        return
    emit(f"Released the lease on partner account {partner} held by {holder.describe()}.")
