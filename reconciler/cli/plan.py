"""``reconciler validate`` and ``reconciler plan``."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import click

from reconciler.cli.options import (
    FORMATS,
    GUARD_NAMES,
    agency_check_option,
    endpoint_options,
    handle_errors,
    no_color_option,
    target_option,
    use_colour,
)
from reconciler.cli.output import emit, emit_pieces
from reconciler.errors import (
    EXIT_BLOCKED,
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    EXIT_UNREACHABLE,
    ReconcilerError,
)
from reconciler.kinds import registry


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="github: errors as workflow annotations; json: one object on stdout "
    "(schemas/validate.schema.json), also when there are errors.",
)
@no_color_option
@handle_errors
def validate(paths: Sequence[Path], fmt: str) -> None:
    """Check manifests offline: YAML, schemas and local rules, every error at once.

    \b
    Exit codes: 0 valid, 1 errors.

    \b
    Examples:
      reconciler validate examples/manifests
      reconciler validate manifests/ --format github
      reconciler validate manifests/ --format json
    """
    from reconciler.errors import ManifestError
    from reconciler.manifests.load import load_desired

    if fmt != "json":
        desired = load_desired(paths)
        n = registry.entry_count(desired)
        emit(f"OK: {len(desired.files)} file(s), {n} entries; manifests {desired.checksum}")
        return
    try:
        report = validation_json(paths, load_desired(paths))
    except ManifestError as err:
        report = validation_json(paths, None, err)
    emit(json.dumps(report, indent=2, sort_keys=True), medium="json")
    if not report["valid"]:
        sys.exit(EXIT_ERROR)


def validation_json(paths: Sequence[Path], desired: Any, err: Any = None) -> dict[str, Any]:
    """``validate --format json``: the object schemas/validate.schema.json describes."""
    problems = [] if err is None else err.problems
    return {
        "format_version": "1.0",
        "valid": err is None,
        "paths": [str(p) for p in paths],
        "files": list(desired.files) if desired is not None else [],
        "entries": registry.entry_count(desired) if desired is not None else 0,
        "manifest_checksum": desired.checksum if desired is not None else None,
        "problems": [
            {
                "file": p.position.file,
                "line": p.position.line,
                "col": p.position.col,
                "path": p.path,
                "message": p.message,
            }
            for p in problems
        ],
    }


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Output on stdout.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also save the plan as JSON (for `reconciler apply --plan FILE`).",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when there are changes (0 none, 1 error, 3 blocked by a guard, 6 nothing to "
    "apply but declared states cannot be reached).",
)
@click.option(
    "--allow",
    multiple=True,
    type=click.Choice(GUARD_NAMES),
    metavar="GUARD",
    help=f"Let a tripped guard pass: {', '.join(GUARD_NAMES)}. Repeatable.",
)
@target_option
@agency_check_option
@endpoint_options
@no_color_option
@handle_errors
def plan(
    paths: Sequence[Path],
    fmt: str,
    out: Path | None,
    detailed_exitcode: bool,
    allow: Sequence[str],
    targets: Sequence[str],
    skip_agency_check: bool,
    endpoint: str | None,
    profile: str | None,
) -> None:
    """Show what apply would change. Never writes.

    \b
    Exit codes: 0 no changes (or changes without --detailed-exitcode), 1 error,
    2 changes with --detailed-exitcode, 3 blocked by a guard, 6 nothing to apply but
    declared states cannot be reached (customer without the agency, expired resource).

    \b
    Examples:
      reconciler plan examples/manifests
      reconciler plan manifests/ --format json --out plan.json
      reconciler plan manifests/ --format markdown --out plan.json > plan.md
      reconciler plan manifests/ --allow max-issue-per-run
      reconciler plan manifests/ --target customer/xinghe-net --target reseller/tianfu-cloud
      reconciler plan manifests/ --skip-agency-check     # read-only credentials
    """
    from reconciler.cli.workflow import compute_plan, write_plan
    from reconciler.render.progress import tty_progress

    try:
        result = compute_plan(
            paths,
            endpoint=endpoint,
            profile=profile,
            allow=allow,
            progress=tty_progress(sys.stderr),
            verify_agencies=not skip_agency_check,
            targets=targets,
        )
    except ReconcilerError as err:
        if fmt == "markdown":  # the comment says so, with the error where it cannot escape
            from reconciler.bss.redact import scrub
            from reconciler.render.markdown import render_failure

            emit(render_failure(scrub(str(err))), medium="markdown", nl=False)
        raise
    emit_pieces(
        render_pieces(result, fmt), medium=fmt, nl=False, colour=fmt == "text" and use_colour()
    )
    if out is not None:
        write_plan(result, out, manifest_paths=paths)
    sys.exit(plan_exit_code(result, detailed_exitcode))


def plan_exit_code(plan_: Any, detailed_exitcode: bool) -> int:
    """3 blocked; 6 nothing to apply but declared states cannot be reached (with or without
    --detailed-exitcode: never "no changes"); 2 changes with --detailed-exitcode; else 0."""
    if plan_.blocked:
        return EXIT_BLOCKED
    if plan_.status == "unreachable":
        return EXIT_UNREACHABLE
    return EXIT_CHANGES if detailed_exitcode and plan_.has_changes else EXIT_OK


def render_pieces(plan_: Any, fmt: str) -> Iterable[str]:
    """:func:`render` in pieces: the text a line at a time (a plan of 100,000 customers is not
    held as one string), the other formats whole."""
    if fmt == "text":
        from reconciler.render.formats import text_lines

        return text_lines(plan_, colour=use_colour())
    return (render(plan_, fmt),)


def render(plan_: Any, fmt: str) -> str:
    from reconciler.render import formats as r

    if fmt == "json":
        return r.render_json(plan_)
    if fmt == "markdown":
        from reconciler.render.markdown import render_markdown

        return render_markdown(plan_)
    if fmt == "github":
        return r.render_github(plan_)
    return r.render_text(plan_, colour=use_colour())
