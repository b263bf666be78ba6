"""``reconciler drift``: does the live account still match the manifests?"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from reconciler.cli.options import (
    FORMATS,
    agency_check_option,
    endpoint_options,
    handle_errors,
    no_color_option,
    target_option,
    use_colour,
)
from reconciler.cli.output import emit
from reconciler.errors import EXIT_CHANGES, EXIT_OK


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Output on stdout. markdown: the drift issue body; github: workflow annotations.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also save the report as JSON (schemas/drift.schema.json).",
)
@target_option
@agency_check_option
@endpoint_options
@no_color_option
@handle_errors
def drift(
    paths: Sequence[Path],
    fmt: str,
    out: Path | None,
    targets: Sequence[str],
    skip_agency_check: bool,
    endpoint: str | None,
    profile: str | None,
) -> None:
    """Report where live state differs from the manifests, and whether apply can heal it.

    Every difference is reported, with the manifest's value, the live value, the money healing
    would move and how it heals: by apply, by hand in Partner Center (account managers), or not
    at all (expired or frozen resources, customers without the agency). Guards never hide drift.
    Never writes to the partner account.

    \b
    Exit codes: 0 no drift, 2 drift, 1 error.

    \b
    Examples:
      reconciler drift manifests/
      reconciler drift manifests/ --format markdown --out drift.json > drift.md
      reconciler drift manifests/ --format github
      reconciler drift manifests/ --target reseller/tianfu-cloud
    """
    from reconciler.gitops.drift import detect_drift
    from reconciler.render import drift as r

    report = detect_drift(
        paths,
        endpoint=endpoint,
        profile=profile,
        verify_agencies=not skip_agency_check,
        targets=targets,
    )
    if fmt == "json":
        text = r.render_json(report)
    elif fmt == "markdown":
        text = r.render_markdown(report)
    elif fmt == "github":
        text = r.render_github(report)
    else:
        text = r.render_text(report, colour=use_colour())
    emit(text, medium=fmt, nl=False, colour=fmt == "text" and use_colour())
    if out is not None:
        from reconciler.files import write_private
        from reconciler.render.escape import for_output

        write_private(out, for_output(r.render_json(report), "json"))
    sys.exit(EXIT_OK if report.in_sync else EXIT_CHANGES)
