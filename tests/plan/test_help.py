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


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["plan", "--no-such-flag", "x"], id="unknown-option"),
        pytest.param(["plan", "x", "--formt", "json"], id="misspelt-option"),
        pytest.param(["plan", "x", "--format", "yaml"], id="bad-choice"),
        pytest.param(["plan"], id="missing-argument"),
        pytest.param(["no-such-command"], id="unknown-command"),
        pytest.param(["--no-such-flag", "plan"], id="unknown-group-option"),
        pytest.param([], id="no-command"),
        pytest.param(["journal", "settle", "op-1"], id="usage-error-raised-by-a-command"),
        pytest.param(["emulator", "serve", "--ak", "X"], id="usage-error-in-the-emulator-group"),
        pytest.param(["apply", "--plan", "/nonexistent/plan.json"], id="bad-path"),
    ],
)
def test_usage_errors_exit_1_never_2(args: list[str]) -> None:
    """2 means "changes present" to scripts and CI: a typo must never look like that."""
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert "Usage:" in result.output or "Error" in result.output
    assert "Traceback" not in result.output


def test_misspelt_option_suggests_the_right_one() -> None:
    result = CliRunner().invoke(main, ["plan", "x", "--formt", "json"])
    assert "No such option '--formt'" in result.output
    assert "--format" in result.output
