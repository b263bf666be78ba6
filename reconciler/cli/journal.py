"""``reconciler journal list|settle`` and ``reconciler unlock``: the apply journal and lease,
read and settled by hand; and the options every command that opens the journal shares."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from reconciler.apply.evidence import DEFAULT_HORIZON
from reconciler.cli.options import Seconds, handle_errors, no_color_option
from reconciler.cli.output import emit
from reconciler.errors import ConfigError, LockHeldError, UnsettledOperationError

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
