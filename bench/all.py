"""Every scale figure of issue 14 from one run: ``python -m bench`` (``make bench``).

The parts run one after the other, each with the load average before and after it:

1. **Virtual clock** (:func:`bench.plan_scale.run`): plan / lower bound at 10,000 and 100,000
   customers, calls / minimum, 429s, utilisation, the fair peer, diff + render. First, while
   this process is small: its worker processes are started from it, and Linux counts the
   parent's resident memory at the fork in a child's peak RSS (``ru_maxrss`` survives
   ``exec``), so after the 100,000-customer part the diff's peak memory per object read 2,355 B
   instead of about 580 B.
2. **Real clock over real HTTP** (:mod:`bench.realclock`): plan / floor of a 1,500-customer
   partner served by ``reconciler emulator serve`` with the API's rate limit; calls made /
   minimum; the most arrivals of one API the server saw in any 1-second window; 429s; and where
   the time over the floor went.
3. **The 100,000-customer partner** (:func:`bench.real_http.big`): the served emulator's
   requests per second, client CPU per request against the official SDK's, and peak memory per
   customer of a real ``reconciler plan`` (the memory part, :mod:`bench.memory_run`).

It prints one table (each figure, its target, a verdict), the load average before and after each
part, writes every figure with ``--json``, and exits 1 when a figure misses its target. Each part
still runs on its own: ``python -m bench.real_http``, ``python -m bench.plan_scale``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import plan_scale, real_http
from .table import Table


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the parts ``args`` asks for; every result, with load averages and timings."""
    results: dict[str, Any] = {"cpus": os.cpu_count(), "load_before": real_http.load_average()}
    started = time.perf_counter()
    if not args.no_virtual:  # first: see the module docstring
        before = real_http.load_average()
        virtual = plan_scale.run(args)
        results["virtual"] = {
            "sizes": plan_scale.sizes_of(args),
            "results": plan_scale.as_json(virtual),
            "load_before": before,
            "load_after": real_http.load_average(),
        }
    if not args.no_real_clock:
        results["real"] = real_http.real_clock(args)
    if not args.no_big:
        results["big"] = real_http.big(args)
    results["load_after"] = real_http.load_average()
    results["wall_seconds"] = time.perf_counter() - started
    return results


def table(results: dict[str, Any]) -> Table:
    """One table of every figure in ``results`` (as :func:`run` returns them, or read back
    from ``--json``)."""
    rows = real_http.table(results)
    virtual = results.get("virtual")
    if virtual is not None:
        by_key = {_key(k): v for k, v in virtual["results"].items()}
        more = plan_scale.table(virtual["sizes"], by_key)
        rows.note(
            f"virtual clock (load average {virtual['load_before']} before, "
            f"{virtual['load_after']} after):"
        )
        rows.rows += more.rows
        rows.failures += more.failures
    big = results.get("big")
    if big is not None:
        rows.note(f"100k part: load average {big['load_before']} before, {big['load_after']} after")
    return rows


def _key(text: str) -> tuple[str, int]:
    kind, _, n = text.partition(":")
    return kind, int(n)


def render(results: dict[str, Any]) -> tuple[str, int]:
    rows = table(results)
    head = (
        f"partner-reconciler scale benchmark: {results['cpus']} CPUs, load average "
        f"{results['load_before']} at the start, {results['load_after']} at the end; "
        f"{results['wall_seconds']:.0f} s"
    )
    foot = f"{rows.failures} figure(s) below target"
    return f"{head}\n{rows.render()}\n{foot}\n", rows.failures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    real_http.add_arguments(parser)
    plan_scale.add_arguments(parser)
    parser.add_argument("--no-virtual", action="store_true", help="skip the virtual-clock runs")
    parser.add_argument("--json", metavar="FILE", help="also write every figure as JSON")
    args = parser.parse_args(argv)
    results = run(args)
    text, failures = render(results)
    print(text, end="")
    if args.json:
        data = json.dumps(results, indent=2, sort_keys=True, default=str)
        Path(args.json).write_text(data + "\n", encoding="utf-8")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
