"""``reconciler show PLAN.json``: render a saved plan again, in any output format."""

from __future__ import annotations

import time
from pathlib import Path

import click

from reconciler.cli.options import FORMATS, handle_errors, no_color_option, use_colour
from reconciler.cli.output import emit, error


@click.command()
@click.argument("plan_file", metavar="PLAN.json", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Output on stdout, as `reconciler plan --format` would print it.",
)
@no_color_option
@handle_errors
def show(plan_file: Path, fmt: str) -> None:
    """Render a plan saved with `reconciler plan --out FILE`. Reads nothing else.

    The file must be intact (its checksum matches its content). An expired plan is shown with
    a note on stderr: `apply --plan` would refuse it.

    \b
    Exit codes: 0 shown, 1 error (unreadable, modified or not a plan).

    \b
    Examples:
      reconciler show plan.json
      reconciler show plan.json --format markdown > plan.md
      reconciler show plan.json --format json
    """
    from reconciler.cli.plan import render
    from reconciler.plan.planfile import SavedPlan, parse_time
    from reconciler.plan.restore import plan_from_dict

    saved = SavedPlan.load(plan_file)
    plan = plan_from_dict(saved.data, where=str(plan_file))
    emit(render(plan, fmt), medium=fmt, nl=False, colour=fmt == "text" and use_colour())
    if parse_time(plan.expires_at) <= time.time():
        error(
            f"Note: this plan expired at {plan.expires_at}; `reconciler apply --plan` refuses "
            "it. Make a new plan to apply."
        )
