"""The ``reconciler`` command: a thin click layer over the library.

Every command turns a :class:`~reconciler.errors.ReconcilerError` into one clear message on
stderr and its documented exit code (see ``docs/architecture.md``); anything else is reported as
an internal error, with the traceback only under ``--debug``.
"""

from __future__ import annotations

import logging
import sys

import click

from reconciler import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="reconciler")
@click.option("--debug", is_flag=True, help="Log every API call to stderr (never secrets).")
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
    from reconciler.cli.apply import apply, journal, unlock
    from reconciler.cli.drift import drift
    from reconciler.cli.export import export
    from reconciler.cli.plan import plan, validate
    from reconciler.emulator.cli import emulator

    for command in (validate, plan, apply, journal, unlock, drift, export, emulator):
        main.add_command(command)


_mount_commands()


if __name__ == "__main__":  # pragma: no cover
    main()
