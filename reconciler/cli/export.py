"""``reconciler export``: write the live account as manifests, to adopt it."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from reconciler.cli.options import endpoint_options, handle_errors, no_color_option
from reconciler.cli.output import emit, error
from reconciler.gitops.export_read import KINDS


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(KINDS),
    help="Export only this kind (repeatable). Default: all. settings.yaml is always written.",
)
@click.option(
    "--customer",
    "customers",
    multiple=True,
    metavar="NAME|ID",
    help="Export only this customer (account name or ID; repeatable). Default: all.",
)
@click.option(
    "--reseller",
    "resellers",
    multiple=True,
    metavar="NAME|ID",
    help="Export only this reseller (account name or ID; repeatable). Default: all.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace the files export wrote before and nobody edited since (said per file). "
    "Hand-written or edited files, and Settings, are always merged, never replaced.",
)
@endpoint_options
@no_color_option
@handle_errors
def export(
    directory: Path,
    kinds: Sequence[str],
    customers: Sequence[str],
    resellers: Sequence[str],
    force: bool,
    endpoint: str | None,
    profile: str | None,
) -> None:
    """Write the live partner account as manifests in DIRECTORY, to adopt it.

    Writes one file per kind (--kind) and settings.yaml in the documented format, IDs and
    balances in comments. `reconciler plan DIRECTORY` then shows no changes. --customer filters
    the kinds about customers, --reseller those about resellers. Reads only.

    Into a directory that holds manifests already, export merges: live entries the directory
    does not declare are appended as a new document, every hand-written line stays, and the
    Settings roster only grows (agencyName is added if missing). --force replaces only files
    export wrote and nobody edited; the output names what was written, replaced or merged.

    \b
    Exit codes: 0 written, 1 error.

    \b
    Examples:
      reconciler export manifests/
      reconciler export manifests/ --kind reseller-quota --reseller tianfu-cloud
      reconciler export adopted/ --kind auto-renew --customer xinghe-net --force
    """
    from reconciler.gitops.export import run_export
    from reconciler.gitops.export_read import ExportScope
    from reconciler.render.escape import terminal_field
    from reconciler.render.progress import tty_progress

    scope = ExportScope(
        kinds=frozenset(kinds or KINDS), customers=tuple(customers), resellers=tuple(resellers)
    )
    result = run_export(
        directory,
        scope,
        force=force,
        endpoint=endpoint,
        profile=profile,
        progress=tty_progress(sys.stderr),
    )
    t = terminal_field
    for warning in result.warnings:
        error(f"Warning: {t(warning)}")
    lines = [
        f"Exported partner {t(result.partner_id)} from {t(result.endpoint)} into {directory}/:"
    ]
    width = max(len(o.name) for o in result.outcomes)
    lines += [f"  {o.name:<{width}}  {o.action:<9}  {t(o.what)}" for o in result.outcomes]
    lines.append(next_step(result, scope, directory))
    emit("\n".join(lines))


def next_step(result: Any, scope: Any, directory: Path) -> str:
    """What to run after an export, and what to expect from it."""
    from reconciler.kinds import registry

    agency = any(k.uses_agency for k in registry.KINDS if k.id in scope.kinds)
    if agency and not result.agency_name:
        return (
            "Next: set spec.agencyName in the Settings (the IAM agency your customers granted; "
            f"the API cannot tell it), then: reconciler plan {directory}"
        )
    if any(o.action == "merged" and o.name != "settings.yaml" for o in result.outcomes):
        return (
            f"Next: reconciler plan {directory}   (entries that were already declared are kept "
            "as written: the plan shows where they differ from live)"
        )
    return f"Next: reconciler plan {directory}   (expect: No changes)"
