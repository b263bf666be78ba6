"""What the ``reconciler emulator`` commands share: the state file they default to, the one way
they report a failure (one line on stderr, exit status 1), and how third-party text is shown
(every line passes :func:`reconciler.render.escape.terminal_field`)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from reconciler.emulator.errors import ControlError, SeedError
from reconciler.emulator.state import StateFileError
from reconciler.render.escape import terminal_field

STATE_FILE_NAME = "emulator-state.json"


def default_state_path() -> Path:
    return Path(os.environ.get("RECONCILER_STATE_DIR") or ".reconciler") / STATE_FILE_NAME


@contextmanager
def clean_errors() -> Iterator[None]:
    """Turn expected failures into one line on stderr and exit status 1."""
    try:
        yield
    except SeedError as err:
        click.echo(
            f"error: {err.source}: " + "; ".join(one_line(p) for p in err.problems), err=True
        )
        sys.exit(1)
    except (StateFileError, ControlError) as err:
        click.echo(f"error: {one_line(str(err))}", err=True)
        sys.exit(1)
    except OSError as err:
        click.echo(f"error: {one_line(err.strerror or err)}", err=True)
        sys.exit(1)


def one_line(text: object) -> str:
    return terminal_field(" ".join(str(text).split()))


state_option = click.option(
    "--state",
    "state_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"State file (default: $RECONCILER_STATE_DIR/{STATE_FILE_NAME}).",
)


def with_emulator(state_file: Path | None, action: Callable[[Any], None]) -> None:
    from reconciler.emulator.core import Emulator

    with clean_errors():
        action(Emulator(state_file=state_file or default_state_path()))
