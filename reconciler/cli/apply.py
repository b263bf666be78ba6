"""``reconciler apply``; the journal it writes is read and settled by hand with the commands of
:mod:`reconciler.cli.journal`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from reconciler.apply.evidence import DEFAULT_RECORDS_SKEW
from reconciler.apply.lease import DEFAULT_TTL
from reconciler.cli.journal import horizon_option, journal_option
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
    PartialApplyError,
    UnreachableStateError,
)

F = TypeVar("F", bound=Callable[..., Any])


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
