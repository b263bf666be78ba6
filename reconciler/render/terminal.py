"""Output for an interactive terminal, through rich: colour, the width of the screen, and no
control characters from data.

Used only when a person watches: :func:`colour_for` is false for pipes, files and CI logs, with
``NO_COLOR`` set, or with ``TERM=dumb`` (rich's own detection, which also honours
``FORCE_COLOR``), and then every renderer writes plain text, byte for byte what it wrote before
rich was used.

SECURITY: account names, resource names, notes and paths come from manifests and from live API
data that third parties choose. They never reach rich as markup (only as ``rich.text.Text`` or
through ``Style.render``, with markup, highlighting and emoji off), and :func:`visible` writes
every control character in them as ``\\xNN`` first: rich itself passes ``ESC`` through, so a name
holding ``\\x1b]0;...\\x07`` or ``\\x1b[2J`` would otherwise retitle or clear the terminal.
"""

from __future__ import annotations

from functools import cache
from typing import TextIO

from rich.color import ColorSystem
from rich.console import Console
from rich.progress_bar import ProgressBar
from rich.style import Style
from rich.text import Text

from reconciler.render.escape import terminal_field

__all__ = ["colour_for", "console_for", "paint", "status_line", "visible"]

BAR_WIDTH = 24


def visible(text: str) -> str:
    """``text`` on one line with every control, bidi or invisible character spelled out
    (``\\x1b``, ``\\u202e``; newline included: data cannot start a line). The one terminal
    escaper of :mod:`reconciler.render.escape`."""
    return terminal_field(text)


def console_for(stream: TextIO) -> Console:
    """A rich console on ``stream`` that never interprets strings as markup."""
    return Console(file=stream, highlight=False, markup=False, emoji=False, soft_wrap=False)


def colour_for(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal that should get colour (rich decides, NO_COLOR wins)."""
    try:
        console = console_for(stream)
        return console.is_terminal and not console.no_color and console.color_system is not None
    except (AttributeError, ValueError):  # a closed or odd stream: no colour
        return False


@cache
def _style(colour: str) -> Style:
    return Style.parse(colour)


def paint(text: str, colour: str | None) -> str:
    """One line for a colour terminal: control characters made visible, then coloured."""
    safe = visible(text)
    if not colour:
        return safe
    return _style(colour).render(safe, color_system=ColorSystem.STANDARD)


def status_line(console: Console, head: str, done: int, total: int, rest: str) -> str:
    """``head``, a progress bar like pip's and ``rest``, cut to the console's width."""
    width = max(8, min(BAR_WIDTH, (console.width - 40) // 2))  # narrow screens: a shorter bar
    bar = ProgressBar(total=max(total, 1), completed=done, width=width)
    options = console.options.update(width=width)
    drawn = Text()
    for segment in console.render(bar, options):
        if segment.text != "\n":
            drawn.append(segment.text, segment.style)
    drawn.pad_right(width - drawn.cell_len)  # without colour rich leaves out the background
    line = Text.assemble(visible(head), " ", drawn, " ", visible(rest), no_wrap=True)
    line.truncate(max(console.width - 1, 20), overflow="ellipsis")
    with console.capture() as captured:
        console.print(line, end="", no_wrap=True, crop=False)
    return captured.get()
