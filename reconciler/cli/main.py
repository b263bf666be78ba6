"""The ``reconciler`` command: a thin click layer over the library.

Every command turns a :class:`~reconciler.errors.ReconcilerError` into one clear message on
stderr and its documented exit code (see ``docs/architecture.md``); anything else is reported as
an internal error, with the traceback only under ``--debug``.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from reconciler import __version__
from reconciler.cli.options import no_color_option
from reconciler.errors import EXIT_ERROR


class ReconcilerGroup(click.Group):
    """The ``reconciler`` group: a usage error (unknown option, bad value, missing argument)
    exits 1 like every other error; click's default of 2 would read as "changes present"."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:  # fmt: skip
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as err:
            setattr(err, "exit_code", EXIT_ERROR)  # noqa: B010 (a ClassVar in the stubs)
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as err:
            setattr(err, "exit_code", EXIT_ERROR)  # noqa: B010 (a ClassVar in the stubs)
            raise


@click.group(
    cls=ReconcilerGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="reconciler")
@click.option("--debug", is_flag=True, help="Log every API call to stderr (never secrets).")
@no_color_option
def main(debug: bool) -> None:
    """GitOps for a Huawei Cloud partner account.

    Declare account managers, auto-renew and reseller coupon quota in YAML; `plan` shows what
    would change, `apply` makes it so, exactly once.

    \b
    Examples:
      reconciler validate examples/manifests
      reconciler plan examples/manifests
      reconciler plan examples/manifests --format markdown --out plan.json
      reconciler apply examples/manifests --auto-approve
      reconciler --no-color plan examples/manifests

    \b
    Exit codes: 0 ok, 1 error (including usage errors), 2 changes or drift, 3 blocked by a
    guard, 4 stale saved plan, 5 partial apply, 6 declared states that cannot be reached.
    Shell completion: eval "$(_RECONCILER_COMPLETE=bash_source reconciler)" (README).
    """
    from reconciler.bss.redact import install_log_filter

    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("reconciler").setLevel(logging.DEBUG if debug else logging.WARNING)
    install_log_filter()


def _mount_commands() -> None:
    """Each command lives in its own module under reconciler/cli/."""
    from reconciler.cli.apply import apply
    from reconciler.cli.drift import drift
    from reconciler.cli.export import export
    from reconciler.cli.journal import journal, unlock
    from reconciler.cli.plan import plan, validate
    from reconciler.cli.show import show
    from reconciler.emulator.cli import emulator

    for command in (validate, plan, show, apply, journal, unlock, drift, export, emulator):
        main.add_command(command)


_mount_commands()


if __name__ == "__main__":  # pragma: no cover
    main()
