"""Terminal output: our plain status line and click colours against rich.

* the status line of a 100,000-customer read on an 80-column terminal: its width (a line wider
  than the screen wraps, and "carriage return, erase line" then leaves the wrapped rows behind on
  every redraw) and the CPU per redraw: ours (bench/replaced/progress_plain.py), the rich line
  of reconciler.plan.progress, and rich's own ``Progress`` display refreshed by hand;
* a coloured text plan of 10,000 changes: click.style on the change lines (ours before) against
  rich (reconciler.render.terminal.paint on every line);
* hostile data: control characters from live names that reach the terminal in each;
* the import time rich adds to a command that draws on a terminal (CLI runs in pipes never
  import it).
"""

from __future__ import annotations

import dataclasses
import io
import math
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from unittest import mock

import click
from rich.console import Console
from rich.progress import Progress as RichProgress

from bench.replaced import progress_plain
from reconciler.kinds.auto_renew.reads import RESOURCES
from reconciler.plan.progress import ReadCounters
from reconciler.render import formats as render
from reconciler.render.progress import TtyProgress
from tests.plan.test_render import plan_of
from tests.plan.test_terminal import big_read

HOSTILE = "\x1b]0;pwned\x07\x1b[2J\x9b31m"
WIDTH = 80


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@dataclass
class TerminalFigures:
    status_width_plain: int
    status_width_rich: int
    rows_plain: int
    rows_rich: int
    redraw_us_plain: float
    redraw_us_rich_line: float
    redraw_us_rich_progress: float
    plan_ms_click: float
    plan_ms_rich: float
    hostile_plain: int
    hostile_rich: int
    import_ms_rich: float


def _per_call_us(fn: Callable[[], object], n: int = 2_000) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - start) / n * 1e6)
    return best


def _rich_progress_us(counters: ReadCounters) -> float:
    console = Console(file=_Tty(), force_terminal=True, width=WIDTH)
    progress = RichProgress(console=console, auto_refresh=False, transient=True)
    tasks = [progress.add_task(name, total=100_000) for name in ("customers", "resources")]
    progress.start()
    try:

        def redraw() -> None:
            progress.update(tasks[0], completed=counters.customers_found)
            progress.update(tasks[1], completed=counters.reads[RESOURCES.name].done)
            progress.refresh()

        return _per_call_us(redraw, 500)
    finally:
        progress.stop()


def _visible_width(text: str) -> int:
    return len(re.sub(r"\x1b\[[0-9;]*[mK]|\r", "", text))


def _status(columns: str) -> tuple[int, int, float, float]:
    counters = big_read()
    with mock.patch.dict("os.environ", {"COLUMNS": columns}):
        plain, rich = _Tty(), _Tty()
        progress_plain.TtyProgress(plain, interval=0).update(counters)
        TtyProgress(rich, interval=0).update(counters)
        plain_tty = progress_plain.TtyProgress(_Tty(), interval=0)
        plain_us = _per_call_us(lambda: plain_tty.update(counters))
        rich_tty = TtyProgress(_Tty(), interval=0)
        rich_us = _per_call_us(lambda: rich_tty.update(counters), 500)
    return _visible_width(plain.getvalue()), _visible_width(rich.getvalue()), plain_us, rich_us


def _plan_render_ms(styler: Callable[[bool], Callable[[str, str], str]], plan: object) -> float:
    with mock.patch.object(render, "styler", styler):
        start = time.perf_counter()
        render.render_text(plan, colour=True)  # type: ignore[arg-type]
        return (time.perf_counter() - start) * 1000


def _click_styler(colour: bool) -> Callable[[str, str], str]:
    """The styler before rich: click.style on the lines that have a mark."""
    return lambda text, mark: click.style(text, fg=render.COLOURS.get(mark)) if mark else text


def _hostile_chars(styler: Callable[[bool], Callable[[str, str], str]]) -> int:
    plan = plan_of(20)
    changes = [dataclasses.replace(c, subject=c.subject + HOSTILE) for c in plan.changes]
    plan = dataclasses.replace(plan, changes=tuple(changes))
    with mock.patch.object(render, "styler", styler):
        text = render.render_text(plan, colour=True)
    return len(re.findall(r"[\x07\x9b]|\x1b(?!\[[0-9;]*m)", text))


def _import_ms() -> float:
    """``-X importtime`` of reconciler.render.terminal after click (already loaded by the CLI)."""
    runs = []
    for _ in range(5):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import click, reconciler.render.terminal"],
            check=True,
            capture_output=True,
            text=True,
        )
        line = next(
            x for x in done.stderr.splitlines() if x.endswith("| reconciler.render.terminal")
        )
        runs.append(int(line.split("|")[1]) / 1000)
    return min(runs)


def measure() -> TerminalFigures:
    width_plain, width_rich, plain_us, rich_us = _status(str(WIDTH))
    plan = plan_of(10_000)
    return TerminalFigures(
        status_width_plain=width_plain,
        status_width_rich=width_rich,
        rows_plain=math.ceil(width_plain / WIDTH),
        rows_rich=math.ceil(width_rich / WIDTH),
        redraw_us_plain=plain_us,
        redraw_us_rich_line=rich_us,
        redraw_us_rich_progress=_rich_progress_us(big_read()),
        plan_ms_click=_plan_render_ms(_click_styler, plan),
        plan_ms_rich=_plan_render_ms(render.styler, plan),
        hostile_plain=_hostile_chars(_click_styler),
        hostile_rich=_hostile_chars(render.styler),
        import_ms_rich=_import_ms(),
    )
