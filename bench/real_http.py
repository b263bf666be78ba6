"""The scale figures on the real thing (issue 14): ``python -m bench.real_http`` (``make bench``).

Everything runs over real HTTP on loopback against ``reconciler emulator serve`` in its own
process, started exactly as a user starts it (``reconciler emulator generate`` for the partner):

1. **Served emulator**: requests answered per second by a 100,000-customer partner, in memory
   and with a state file (:mod:`bench.loadgen`: keep-alive connections, pre-signed reads).
2. **Client CPU per request**: ours, the official SDK and bare httpx, in one process, one after
   the other, against the same server (:mod:`bench.client_cpu`).
3. **Peak memory per customer** of ``reconciler plan`` on YAML manifests declaring all 100,000
   customers, in a fresh process (:mod:`bench.memory_run`): peak RSS minus the RSS once its
   modules are imported, divided by the customers. The server has no rate limit and the client
   no pacing to speak of, so the plan takes minutes instead of hours; what it keeps is the same.
4. **Plan / floor on the real clock**: a plan of a 1,500-customer partner served with log-normal
   latency (median 120 ms, p99 300 ms) and the API's rate limit of 10 per second, planned by the
   client at 10 per second on the system clock (:mod:`bench.realclock`); with the most requests
   of one API the server saw arrive in any 1-second window.

Ratios are what to compare across machines: the CPU figures move with the machine's load (the
report starts with ``uptime``'s load average).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reconciler.emulator.generate import generate_partner

from . import loadgen, served, workload
from .realclock import realclock_task
from .table import Table

TARGETS = {"floor": 1.01, "cpu_ratio": 1.0, "bytes_per_customer": 1024.0, "served_rps": 500.0}


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def served_rate(url: str, seed_file: Path, seconds: float, connections: int) -> dict[str, Any]:
    requests = loadgen.signed_requests(url, loadgen.customer_ids_of(seed_file), 4000)
    result = asyncio.run(loadgen.run_load(url, requests, connections=connections, seconds=seconds))
    return {
        "requests_per_second": result.per_second,
        "requests": result.requests,
        "errors": result.errors,
        "latency_median_ms": statistics.median(result.latencies) * 1e3,
        "latency_p99_ms": result.percentile(99) * 1e3,
    }


def big_partner(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """Sections 1-3, on one generated partner of ``args.customers`` customers."""
    out: dict[str, Any] = {"customers": args.customers}
    seed_file = tmp / "partner.json"
    out["generate_seconds"] = served.generate(args.customers, seed_file, args.seed)
    with served.serve(seed_file) as (url, ready):
        out["startup_seconds"] = ready
        out["in_memory"] = served_rate(url, seed_file, args.load_seconds, args.connections)
        out["client_cpu"] = served.run_json(
            ["bench.client_cpu", "--url", url, "--seed-file", str(seed_file),
             "--requests", str(args.cpu_requests)]
        )  # fmt: skip
        if not args.no_memory:
            manifests = tmp / "manifests"
            workload.write_manifests(generate_partner(args.customers, seed=args.seed), manifests)
            env = served.credentials_env(url, rate=1000.0)
            out["memory"] = served.run_json(
                ["bench.memory_run", str(manifests), str(args.customers)], env=env
            )
    with served.serve(seed_file, state_file=tmp / "state.json") as (url, ready):
        out["state_file_startup_seconds"] = ready
        out["state_file"] = served_rate(url, seed_file, args.load_seconds, args.connections)
    return out


def table(results: dict[str, Any]) -> Table:
    """Every figure of the real-HTTP parts, with its target and verdict."""
    rows = Table()
    big = results.get("big")
    if big is not None:
        _big_rows(big, rows)
    real = results.get("real")
    if real is not None:
        _real_rows(real, rows)
    return rows


def _big_rows(big: dict[str, Any], rows: Table) -> None:
    n = big["customers"]
    mem, cpu = big["in_memory"], big["client_cpu"]
    rps = mem["requests_per_second"]
    rows.row(f"served emulator, {n:,} customers, in memory: requests/s",
             f"{rps:,.0f} (p99 {mem['latency_p99_ms']:.0f} ms)", ">= 500",
             rps >= TARGETS["served_rps"])  # fmt: skip
    disk = big["state_file"]
    rows.row(f"served emulator, {n:,} customers, state file: requests/s",
             f"{disk['requests_per_second']:,.0f} (p99 {disk['latency_p99_ms']:.0f} ms)",
             "(report)")  # fmt: skip
    ours, sdk = cpu["ours"]["cpu_ms_per_request"], cpu["official_sdk"]["cpu_ms_per_request"]
    bare = cpu["bare_httpx"]["cpu_ms_per_request"]
    rows.row("client CPU per request, ours / official SDK", f"{ours / sdk:.2f}", "<= 1.0",
             ours / sdk <= TARGETS["cpu_ratio"])  # fmt: skip
    rows.note(f"  ours {ours:.2f} ms, official SDK {sdk:.2f} ms, bare httpx {bare:.2f} ms")
    if "memory" in big:
        per = big["memory"]["per_customer"]
        rows.row(f"peak memory per customer, real plan of {n:,} (YAML, live state)",
                 f"{per:,.0f} B", "<= 1 KB", per <= TARGETS["bytes_per_customer"])  # fmt: skip
        rows.note(f"  peak RSS {big['memory']['peak_bytes'] / 2**20:,.0f} MiB")


def _real_rows(real: dict[str, Any], rows: Table) -> None:
    ratio = real["plan_seconds"] / real["lower_bound"]
    rows.row(f"plan / floor, real clock + HTTP, {real['customers']:,} customers",
             f"{ratio:.4f}", "<= 1.01", ratio <= TARGETS["floor"])  # fmt: skip
    load = (
        f"load average {real.get('load_before', '?')} before, {real.get('load_after', '?')} after"
    )
    rows.note(f"  {real['plan_seconds']:.1f} s / {real['lower_bound']:.1f} s; {load}")
    parts = real.get("breakdown")
    if parts:
        rows.note(
            f"  over the floor {parts['over_floor']:.2f} s: start-up {parts['over_startup']:.2f}, "
            f"first page {parts['over_first_page']:+.2f}, planned margin "
            f"{parts['over_planned_margin']:.2f}, held late {parts['over_late']:.2f}, tail "
            f"{parts['over_tail']:+.2f}, diff {parts['over_diff']:.2f}"
        )
    calls = sum(real["calls"].values())
    rows.row("calls made / minimum", f"{calls:,} / {real['minimum_total']:,}", "= 1",
             calls == real["minimum_total"])  # fmt: skip
    worst = max(real["max_in_window"].values(), default=0)
    rows.row("most arrivals of one API in any 1 s window at the server", str(worst),
             f"<= {real['rate']:g}", worst <= real["rate"])  # fmt: skip
    rows.row("429s received", str(real["throttled"]), "0", real["throttled"] == 0)


def report(results: dict[str, Any]) -> tuple[str, int]:
    """The table, and how many figures miss their target."""
    rows = table(results)
    return rows.render() + "\n", rows.failures


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the real-HTTP parts (also :mod:`bench.all`'s)."""
    parser.add_argument("--customers", type=int, default=100_000, help="the large partner")
    parser.add_argument("--real-customers", type=int, default=1_500, help="the real-clock plan")
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--latency", default="0.12,0.3", help="median,p99 seconds")
    parser.add_argument("--load-seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--cpu-requests", type=int, default=3000)
    parser.add_argument("--no-memory", action="store_true", help="skip the 100k plan")
    parser.add_argument("--no-real-clock", action="store_true", help="skip the real-clock plan")
    parser.add_argument("--no-big", action="store_true", help="skip sections 1-3")


def real_clock(args: argparse.Namespace) -> dict[str, Any]:
    """Section 4, with the load average when it started and ended."""
    median, p99 = (float(x) for x in args.latency.split(","))
    before = load_average()
    real = realclock_task(args.real_customers, args.seed, args.rate, (median, p99))
    real.update(load_before=before, load_after=load_average())
    print("  done: real-clock plan", file=sys.stderr)
    return real


def big(args: argparse.Namespace) -> dict[str, Any]:
    """Sections 1-3, with the load average when they started and ended."""
    before = load_average()
    with tempfile.TemporaryDirectory(prefix="bench-real-") as tmp:
        out = big_partner(args, Path(tmp))
    out.update(load_before=before, load_after=load_average())
    print(f"  done: {args.customers:,}-customer partner", file=sys.stderr)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.real_http", description=__doc__)
    add_arguments(parser)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", metavar="FILE", help="also write every figure as JSON")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results: dict[str, Any] = {"load_before": load_average(), "cpus": os.cpu_count()}
    if not args.no_real_clock:  # first: the figure the machine's load moves most
        results["real"] = real_clock(args)
    if not args.no_big:
        results["big"] = big(args)
    results["load_after"] = load_average()
    results["wall_seconds"] = time.perf_counter() - started
    text, failures = report(results)
    print(
        f"bench.real_http: {results['cpus']} CPUs, load average {results['load_before']} before, "
        f"{results['load_after']} after; {results['wall_seconds']:.0f} s\n{text}"
        f"{failures} figure(s) below target"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
