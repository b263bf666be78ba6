"""Our hand-written pieces against the maintained libraries that do the same job, side by side,
in one run: ``make bench-libraries`` (about 4 minutes on 2 cores). Prints one table per piece
with ratios against the first row; docs/architecture.md keeps the figures and the decisions.

* fast manifest check: bench/libs_schema.py (closures, fastjsonschema, jsonschema-rs, jsonschema)
* terminal output: bench/libs_terminal.py (plain status line and click colours, rich)
* retries: bench/libs_retry.py (our loop, tenacity, stamina)
* pacing: bench/libs_pacing.py (our Pacer, aiolimiter)
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from bench import libs_pacing, libs_retry, libs_schema, libs_terminal


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(c) for c in header], *[[_fmt(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [title, "-" * len(title)]
    for row in cells:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines) + "\n"


def _fmt(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:,.3g}" if value < 100 else f"{value:,.0f}"
    return str(value)


def schema_table() -> str:
    figures = libs_schema.measure()
    base = figures[0].us_per_entry
    rows = [
        (
            f.name,
            f.us_per_entry,
            f"{base / f.us_per_entry:.2f}x",
            f.compile_ms,
            f"{f.unsafe}/{f.verdicts}",
            f"{f.slow_path}/{f.verdicts}",
            f.messages_identical,
        )
        for f in figures
    ]
    header = (
        "check",
        "us/entry",
        "speed vs ours",
        "compile ms",
        "unsafe",
        "slow path",
        "same msgs",
    )
    title = f"Fast manifest check, {figures[0].entries:,} list entries (best of 3)"
    return table(title, header, rows)


def terminal_table() -> str:
    f = libs_terminal.measure()
    rows = [
        ("status line width at 80 columns", f.status_width_plain, f.status_width_rich, ""),
        ("terminal rows it occupies", f.rows_plain, f.rows_rich, ""),
        (
            "CPU per redraw, us",
            f.redraw_us_plain,
            f.redraw_us_rich_line,
            f"{f.redraw_us_rich_line / f.redraw_us_plain:.1f}x (rich Live: "
            f"{f.redraw_us_rich_progress:,.0f} us)",
        ),
        (
            "coloured plan, 10,000 changes, ms",
            f.plan_ms_click,
            f.plan_ms_rich,
            f"{f.plan_ms_rich / f.plan_ms_click:.2f}x",
        ),
        ("control characters from data reaching the terminal", f.hostile_plain, f.hostile_rich, ""),
        ("import time added, ms", 0, f.import_ms_rich, "only on a terminal"),
    ]
    return table("Terminal output", ("figure", "ours before", "rich", "ratio"), rows)


def retry_table() -> str:
    figures = libs_retry.measure()
    base = figures[0].us_per_call
    rows = [
        (
            f.name,
            f"{f.same_behaviour}/{f.scenarios}",
            f"{f.same_waits}/{f.scenarios}",
            f.replays,
            f.us_per_call,
            f"{f.us_per_call / base:.2f}x",
            f.lines,
        )
        for f in figures
    ]
    header = ("retry loop", "same outcome", "same waits", "replays", "us/call", "vs ours", "lines")
    return table("Retries, the corpus of tests/bss/test_retry.py", header, rows)


def pacing_table() -> str:
    figures = libs_pacing.measure()
    base = figures[0].us_per_slot
    rows = [
        (
            f.name,
            f.time_over_floor,
            f.throttled,
            f.max_starts_per_second,
            f.us_per_slot,
            f"{f.us_per_slot / base:.2f}x",
            f.virtual_time,
        )
        for f in figures
    ]
    header = ("pacer", "time/floor", "429s", "max/1s", "us/slot", "vs ours", "virtual clock")
    title = f"Pacing, {libs_pacing.CALLS} reads by {libs_pacing.WORKERS} workers at 10/s"
    return table(title, header, rows)


def main() -> None:
    logging.disable(logging.WARNING)  # retries log at INFO; the table is the output
    for make in (schema_table, terminal_table, retry_table, pacing_table):
        sys.stdout.write(make() + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
