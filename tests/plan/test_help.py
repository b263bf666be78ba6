"""Every command has --help with examples, and bad usage is an error, not a traceback."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from reconciler.cli import main


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in sorted(group.commands.items()):
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found += _commands(command, (*prefix, name))
    return found


@pytest.mark.parametrize("path", _commands(main), ids=" ".join)
def test_every_command_has_help_with_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"`reconciler {' '.join(path)} --help` shows no example"


def test_unknown_option_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["plan", "--no-such-flag", "x"])
    assert result.exit_code == 2
    assert "No such option" in result.output
