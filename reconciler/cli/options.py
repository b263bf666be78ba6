"""Options and error handling shared by every command.

Every command turns a :class:`~reconciler.errors.ReconcilerError` into one clear message on
stderr and its documented exit code (see ``docs/architecture.md``); anything else is reported as
an internal error, with the traceback only under ``--debug``.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from reconciler.errors import (
    EXIT_ERROR,
    ManifestError,
    ReconcilerError,
)
from reconciler.kinds import registry

F = TypeVar("F", bound=Callable[..., Any])
FORMATS = ("text", "json", "markdown", "github")
GUARD_NAMES = registry.GUARD_NAMES


NO_COLOR_KEY = "reconciler.no_color"


def use_colour() -> bool:
    """Colour only on a terminal that takes it: never with ``--no-color``, ``NO_COLOR`` or
    ``TERM=dumb`` (rich decides the last)."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.meta.get(NO_COLOR_KEY):
        return False
    if not sys.stdout.isatty() or os.environ.get("NO_COLOR"):
        return False  # the common cases, without importing rich
    from reconciler.render.terminal import colour_for

    return colour_for(sys.stdout)


def _set_no_color(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta[NO_COLOR_KEY] = True


def no_color_option(fn: F) -> F:
    """``--no-color``: on the group (``reconciler --no-color plan``) and on every command."""
    return click.option(
        "--no-color",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_set_no_color,
        help="Never colour the output (also: the NO_COLOR environment variable).",
    )(fn)


def fail(err: ReconcilerError, fmt: str = "text") -> None:
    """Print ``err`` for a person (or as annotations) and exit with its code."""
    from reconciler.cli.output import emit, error

    if isinstance(err, ManifestError) and fmt == "github":
        from reconciler.render.formats import render_problems_github

        emit(render_problems_github(err.problems), medium="github", nl=False)
    error(f"Error: {err}")
    sys.exit(err.exit_code)


def handle_errors(fn: F) -> F:
    """Map exceptions to messages and exit codes; never a traceback without --debug."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        fmt = kwargs.get("fmt", "text")
        try:
            return fn(*args, **kwargs)
        except ReconcilerError as err:
            fail(err, fmt)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except BrokenPipeError:  # `reconciler ... | head`: the reader left; say nothing more
            _quiet_stdout()
            sys.exit(EXIT_ERROR)
        except Exception as err:
            if logging.getLogger("reconciler").isEnabledFor(logging.DEBUG):
                raise
            from reconciler.cli.output import error

            error(
                f"Internal error: {type(err).__name__}: {err}. Rerun with --debug for details "
                "and report it."
            )
            sys.exit(EXIT_ERROR)
        return None

    return wrapper  # type: ignore[return-value]


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (a test runner's): nothing to flush
        pass
    finally:
        os.close(devnull)


def endpoint_options(fn: F) -> F:
    """``--endpoint``, ``--profile`` and ``--allow-insecure-endpoint`` (consumed here: it holds
    for the duration of the command, see :func:`reconciler.connect.insecure_endpoints_allowed`)."""

    command = fn

    @functools.wraps(command)
    def wrapper(*args: Any, allow_insecure_endpoint: bool = False, **kwargs: Any) -> Any:
        from reconciler.connect import insecure_endpoints_allowed

        with insecure_endpoints_allowed(allow_insecure_endpoint):
            return command(*args, **kwargs)

    fn = click.option(  # type: ignore[assignment]
        "--allow-insecure-endpoint",
        is_flag=True,
        envvar="RECONCILER_ALLOW_INSECURE_ENDPOINT",
        help="Use a plain http:// endpoint (BSS or IAM) on a host other than this machine. "
        "Requests, and customers' temporary keys from IAM, then cross the network unencrypted; "
        "without this, http:// is accepted for localhost only. "
        "Env: RECONCILER_ALLOW_INSECURE_ENDPOINT=1.",
    )(wrapper)
    fn = click.option(
        "--profile",
        envvar="RECONCILER_PROFILE",
        help="Credentials profile in the profile file (see README). Env: RECONCILER_PROFILE.",
    )(fn)
    fn = click.option(
        "--endpoint",
        envvar="RECONCILER_ENDPOINT",
        metavar="URL",
        help="Partner API endpoint, e.g. https://bss.myhuaweicloud.com or a served emulator. "
        "Env: RECONCILER_ENDPOINT. Without it: the embedded emulator.",
    )(fn)
    return fn


def agency_check_option(fn: F) -> F:
    return click.option(
        "--skip-agency-check",
        is_flag=True,
        envvar="RECONCILER_SKIP_AGENCY_CHECK",
        help="Do not ask IAM whether customers granted the agency (for credentials that may not "
        "assume agencies, e.g. read-only ones): changes made as the customer are planned with a "
        "note, and apply checks the agency. Env: RECONCILER_SKIP_AGENCY_CHECK=1.",
    )(fn)


class Seconds(click.ParamType[float]):
    """A finite number of seconds of at least ``minimum`` (an option or its environment variable).

    click's ``FloatRange`` lets ``nan`` through (``nan < 10`` is false) and ``inf`` as well: a
    ``nan`` in-flight horizon settles a call that may still land, a ``nan`` lease never expires.
    Both, and anything below the minimum, are usage errors (exit 1) here.
    """

    name = "seconds"

    def __init__(self, minimum: float) -> None:
        self.minimum = minimum

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, float) and math.isfinite(value) and value >= self.minimum:
            return value
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if math.isfinite(number) and number >= self.minimum:
            return number
        problem = (
            f"is below the minimum of {self.minimum:g} seconds"
            if math.isfinite(number)
            else "is not a finite number of seconds (nan and inf are refused)"
        )
        raise click.BadParameter(f"{value!r} {problem}{_from_env(param, ctx)}", ctx, param)


def _from_env(param: click.Parameter | None, ctx: click.Context | None) -> str:
    """`` (from VAR)`` when the value came from the parameter's environment variable."""
    if param is None or ctx is None or param.name is None:
        return ""
    source = ctx.get_parameter_source(param.name)
    if source is click.core.ParameterSource.ENVIRONMENT and isinstance(param.envvar, str):
        return f" (from {param.envvar})"
    return ""


def target_option(fn: F) -> F:
    """``--target KIND/NAME`` (repeatable), as Terraform's ``-target``."""
    return click.option(
        "--target",
        "targets",
        multiple=True,
        metavar="KIND/NAME",
        help="Only the declared entries this selects (repeatable), like Terraform's -target. "
        f"KIND: customer, reseller, {', '.join(registry.IDS)}; NAME: an account name or ID as "
        "written in the manifests (or, with a kind, an ID its entries name, such as a quota "
        "ID). Every output says the run was narrowed.",
    )(fn)
