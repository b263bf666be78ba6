"""The plan-at-scale benchmark (issue #6): ``python -m bench.plan_scale`` (or ``make bench``).

For each partner size N (default 10,000 and 100,000 customers) it generates a partner
(:mod:`reconciler.emulator.generate`, fixed seed), the manifests that declare all of it
(:mod:`bench.workload`), and plans on the embedded emulator at 10 requests per second per API
with log-normal latency (median 120 ms, p99 1.5 s) on a virtual clock, so hours of API time take
minutes of CPU. It prints:

* plan time / lower bound, where the lower bound is the slowest API's minimum calls / its rate,
  plus one round trip (the latency median) to fill the pipeline;
* calls made / minimum calls, 429s received, and each API's utilisation (achieved rate while it
  had queued work, as a share of its rate);
* the same reads by the fair peer (:mod:`bench.peer`: bounded-concurrency ``gather`` phases over
  the same client), as a ratio of times (and a
  check that both give the very same plan);
* a manifest naming 10 customers on the largest partner: the calls it costs;
* diff + render CPU seconds and memory per object for 500,000 managed objects (no I/O).

Targets (benchmark output, not timed tests): plan time <= 1.10 x lower bound, calls <= 1.02 x
minimum, no 429, utilisation >= 0.9, diff + render <= 2 s CPU, <= 1 KB per object, first output
line < 2 s. The tasks run in ``--jobs`` worker processes (default 2).
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from reconciler.bss.client import BssClient
from reconciler.bss.credentials import Credentials, Secret
from reconciler.emulator import Emulator, LatencyModel, VirtualClock
from reconciler.emulator.credentials import DEFAULT_CREDENTIALS, DEFAULT_XACCOUNT_TYPE
from reconciler.emulator.generate import GeneratedPartner, PartnerShape, generate_partner
from reconciler.manifests.desired import DesiredState
from reconciler.plan.model import Plan
from reconciler.plan.planner import PlanContext, assemble_plan, build_plan
from reconciler.plan.progress import Progress, ReadCounters

from . import workload
from .diff_render import measure as measure_diff_render
from .peer import peer_read
from .sequential import sequential_read
from .table import Table

RATE = 10.0
LATENCY = LatencyModel(median=0.12, p99=1.5)
SIZES = (10_000, 100_000)
SCOPED_CUSTOMERS = 10
HEAVY_SHARE = PartnerShape(0).heavy_share
TARGETS = {
    "plan_ratio": 1.10,
    "calls_ratio": 1.02,
    "utilisation": 0.9,
    "diff_render_cpu": 2.0,
    "bytes_per_object": 1024.0,
    "first_line": 2.0,
}


class FirstLine(Progress):
    """Records when the first line would have reached a terminal (real time)."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.first: float | None = None
        self.text: str | None = None
        self.updates = 0

    def line(self, text: str) -> None:
        if self.first is None:
            self.first = time.perf_counter() - self.started
            self.text = text

    def update(self, counters: ReadCounters) -> None:
        self.updates += 1


def _client(emu: Emulator, clock: VirtualClock, seed: int) -> BssClient:
    creds = DEFAULT_CREDENTIALS
    return BssClient(
        "https://bss.myhuaweicloud.com",
        Credentials(ak=creds.ak, sk=Secret(creds.sk), domain_id=creds.domain_id),
        iam_endpoint="https://iam.myhuaweicloud.com",
        transport=emu.async_transport(),
        clock=clock,
        rate=RATE,
        agency_name=DEFAULT_XACCOUNT_TYPE,
        rng_seed=seed,
    )


def run_plan(
    gen: GeneratedPartner,
    desired: DesiredState,
    seed: int,
    mode: str,
    *,
    latency: LatencyModel = LATENCY,
) -> dict[str, Any]:
    """One plan on a fresh emulator and virtual clock: ``pipelined`` (the reconciler's reader)
    ``peer`` (bounded-concurrency phases, :mod:`bench.peer`) or ``sequential`` (a plain loop)."""
    clock = VirtualClock()
    emu = Emulator(
        clock=clock,
        state_factory=lambda: gen.state,
        latency=latency,
        rate_limit=RATE,
        rng_seed=seed,
    )
    ctx = PlanContext(endpoint="emulator", partner_id=DEFAULT_CREDENTIALS.domain_id)
    started = time.perf_counter()
    progress = FirstLine(started)
    cpu = time.process_time()

    async def main() -> tuple[Plan, dict[str, Any]]:
        async with _client(emu, clock, seed) as client:
            if mode == "pipelined":
                plan = await build_plan(desired, client, ctx, clock, progress=progress)
            else:
                read = peer_read if mode == "peer" else sequential_read
                live = await read(client, desired)
                plan = assemble_plan(desired, live, [], ctx, clock.time())
            return plan, {api: asdict(s) for api, s in client.stats().items()}

    plan, stats = clock.run(main())
    return {
        "mode": mode,
        "virtual_seconds": clock.monotonic(),
        "cpu_seconds": time.process_time() - cpu,
        "wall_seconds": time.perf_counter() - started,
        "first_line_seconds": progress.first,
        "first_line": progress.text,
        "stats": stats,
        "calls": sum(s["calls"] for s in stats.values()),
        "throttled": sum(s["throttled"] for s in stats.values()),
        "plan_checksum": plan.checksum,
        "changes": len(plan.changes),
        "notices": len(plan.notices),
        "in_scope": dict(plan.in_scope),
        "blocked": plan.blocked,
    }


def _partner(
    n: int, seed: int, heavy_share: float
) -> tuple[GeneratedPartner, DesiredState, dict[str, Any]]:
    started = time.perf_counter()
    gen = generate_partner(n, seed=seed, heavy_share=heavy_share)
    # The emulator's millions of objects are not the reconciler's: keep them out of the cyclic
    # collector's full passes (the reconciler's own objects are still collected as usual).
    gc.collect()
    gc.freeze()
    desired = workload.desired_state(gen)
    counts = gen.resource_counts()
    info = {
        "customers": n,
        "resources": gen.n_resources,
        "resellers": len(gen.state.resellers),
        "issued_quotas": sum(gen.issued_counts().values()),
        "paged_customers": sum(1 for c in counts.values() if c > workload.RESOURCE_PAGE),
        "drifted_resources": gen.drifted_resources,
        "drifted_quotas": gen.drifted_quotas,
        "generate_seconds": time.perf_counter() - started,
    }
    return gen, desired, info


def minimum_for(gen: GeneratedPartner, desired: DesiredState) -> dict[str, Any]:
    iam = workload.agency_customers(gen, desired)
    minimum = workload.minimum_calls(
        gen, desired, iam_customers=iam, rate=RATE, fill_seconds=LATENCY.median
    )
    return {
        "calls": dict(minimum.calls),
        "total": minimum.total,
        "slowest": minimum.slowest,
        "lower_bound": minimum.lower_bound,
        "fill_seconds": minimum.fill_seconds,
    }


def plan_task(
    n: int, seed: int, mode: str, scoped: bool, heavy_share: float = HEAVY_SHARE
) -> dict[str, Any]:
    """Worker process: generate the partner, plan it; optionally the 10-customer manifest."""
    gen, desired, info = _partner(n, seed, heavy_share)
    out: dict[str, Any] = {"n": n, "partner": info, "minimum": minimum_for(gen, desired)}
    out["run"] = run_plan(gen, desired, seed, mode)
    if scoped:
        small = workload.small_desired_state(gen, SCOPED_CUSTOMERS)
        out["scoped"] = {
            "minimum": minimum_for(gen, small),
            "run": run_plan(gen, small, seed, "pipelined"),
            "customers": len(small.entries_of("auto-renew")),
            "resellers": len(
                {
                    (t.reseller.reseller_id, t.reseller.account_name)
                    for t in small.entries_of("reseller-quota")
                }
            ),
        }
    return out


def diff_render_task(customers: int, resources_per_customer: int, seed: int) -> dict[str, Any]:
    result = measure_diff_render(customers, resources_per_customer, seed)
    return asdict(result)


# -- the report --------------------------------------------------------------------------------


def _size_section(n: int, pipe: dict[str, Any], seq: dict[str, Any] | None, table: Table) -> None:
    info, minimum, run = pipe["partner"], pipe["minimum"], pipe["run"]
    lb = minimum["lower_bound"]
    slowest = minimum["slowest"]
    table.note(
        f"N = {n:,} customers: {info['resources']:,} resources (over {workload.RESOURCE_PAGE} for "
        f"{info['paged_customers']} customers), {info['resellers']} resellers, "
        f"{info['issued_quotas']:,} issued quotas; drift: {info['drifted_resources']:,} auto-renew "
        f"flags, {info['drifted_quotas']} quota balances"
    )
    ratio = run["virtual_seconds"] / lb
    table.row(
        f"plan time / lower bound [N={n:,}]",
        f"{ratio:.4f}",
        f"<= {TARGETS['plan_ratio']:.2f}",
        ratio <= TARGETS["plan_ratio"],
    )
    table.note(
        f"  plan {run['virtual_seconds']:,.1f} s virtual; lower bound "
        f"{minimum['calls'][slowest]:,} {slowest} calls / {RATE:g} per s + "
        f"{minimum['fill_seconds']:.2f} s fill = {lb:,.1f} s"
    )
    calls_ratio = run["calls"] / minimum["total"]
    table.row(
        f"calls made / minimum calls [N={n:,}]",
        f"{calls_ratio:.4f}",
        f"<= {TARGETS['calls_ratio']:.2f}",
        calls_ratio <= TARGETS["calls_ratio"],
    )
    per_api = ", ".join(
        f"{api} {run['stats'].get(api, {}).get('calls', 0):,}/{want:,}"
        for api, want in minimum["calls"].items()
    )
    table.note(f"  made/minimum per API: {per_api}")
    table.row(f"429s received [N={n:,}]", f"{run['throttled']}", "0", run["throttled"] == 0)
    for api, stats in sorted(run["stats"].items()):
        util = _utilisation(stats)
        if util is None or stats["calls"] < 20:
            continue  # a handful of calls says nothing about keeping a bucket busy
        table.row(
            f"utilisation {api} [N={n:,}]",
            f"{util:.3f}",
            f">= {TARGETS['utilisation']:.1f}",
            util >= TARGETS["utilisation"],
        )
    if seq is not None:
        srun = seq["run"]
        same = srun["plan_checksum"] == run["plan_checksum"]
        table.row(
            f"peer (bounded gather) / pipelined, time [N={n:,}]",
            f"{srun['virtual_seconds'] / run['virtual_seconds']:.2f}x",
            "(report)",
        )
        table.note(
            f"  peer {srun['virtual_seconds']:,.1f} s virtual, {srun['calls']:,} calls; "
            f"same plan: {'yes' if same else 'NO'}"
        )
        if not same:
            table.failures += 1
    first = run["first_line_seconds"]
    table.row(
        f"first output line [N={n:,}]",
        f"{first:.3f} s" if first is not None else "none",
        f"< {TARGETS['first_line']:.0f} s",
        first is not None and first < TARGETS["first_line"],
    )
    table.note(
        f"  plan: {run['changes']:,} changes, {run['notices']:,} not applicable; "
        f"real {run['wall_seconds']:.1f} s, CPU {run['cpu_seconds']:.1f} s "
        f"({run['cpu_seconds'] / max(1, run['calls']) * 1e3:.2f} ms per call, client and "
        f"emulator); partner generated in {info['generate_seconds']:.1f} s"
    )


def _utilisation(stats: dict[str, Any]) -> float | None:
    busy, rate = stats.get("busy_seconds") or 0.0, stats.get("rate") or 0.0
    return None if not busy or not rate else stats["calls"] / (rate * busy)


def _scoped_section(n: int, scoped: dict[str, Any], table: Table) -> None:
    run, minimum = scoped["run"], scoped["minimum"]
    table.row(
        f"{scoped['customers']} customers + {scoped['resellers']} resellers on N={n:,}: calls",
        f"{run['calls']}",
        f"minimum {minimum['total']}",
        run["calls"] <= minimum["total"] + 1,
    )
    per_api = ", ".join(
        f"{api} {run['stats'].get(api, {}).get('calls', 0)}/{want}"
        for api, want in minimum["calls"].items()
        if want or run["stats"].get(api)
    )
    table.note(f"  made/minimum per API: {per_api} (the +1 allowed is the probe page)")


def _diff_section(dr: dict[str, Any], table: Table) -> None:
    objects = dr["objects"]
    table.row(
        f"diff + render CPU, {objects:,} objects",
        f"{dr['cpu_seconds']:.2f} s",
        f"<= {TARGETS['diff_render_cpu']:.0f} s",
        dr["cpu_seconds"] <= TARGETS["diff_render_cpu"],
    )
    per_object = dr["rss_bytes"] / objects
    table.row(
        "peak memory per object (RSS)",
        f"{per_object:.0f} B",
        f"<= {TARGETS['bytes_per_object']:.0f} B",
        per_object <= TARGETS["bytes_per_object"],
    )
    table.note(
        f"  live + desired objects {dr['state_bytes'] / objects:.0f} B/object (sizeof walk); "
        f"diff + render transient {dr['transient_bytes'] / objects:.0f} B/object (tracemalloc); "
        f"{dr['changes']:,} changes; runs {', '.join(f'{t:.2f}' for t in dr['cpu_runs'])} s"
    )


def table(sizes: Sequence[int], results: dict[tuple[str, int], dict[str, Any]]) -> Table:
    """Every figure of the virtual-clock runs, with its target and verdict."""
    rows = Table()
    for n in sizes:
        pipe = results[("pipelined", n)]
        _size_section(n, pipe, results.get(("peer", n)), rows)
        if "scoped" in pipe:
            _scoped_section(n, pipe["scoped"], rows)
    if ("diff", 0) in results:
        _diff_section(results[("diff", 0)], rows)
    return rows


def report(
    sizes: Sequence[int],
    results: dict[tuple[str, int], dict[str, Any]],
    seed: int,
    wall: float,
) -> tuple[str, int]:
    rows = table(sizes, results)
    head = (
        f"partner-reconciler plan benchmark (seed {seed}; emulator at {RATE:g} requests/s per "
        f"API, latency log-normal median {LATENCY.median * 1000:.0f} ms p99 {LATENCY.p99:g} s; "
        "virtual clock)"
    )
    foot = f"finished in {wall:.0f} s real; {rows.failures} figure(s) below target"
    return f"{head}\n{rows.render()}\n{foot}\n", rows.failures


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the virtual-clock runs (also :mod:`bench.all`'s)."""
    parser.add_argument(
        "--sizes",
        default=",".join(str(n) for n in SIZES),
        help="comma-separated numbers of customers (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=1, help="dataset seed (default: %(default)s)")
    parser.add_argument(
        "--heavy-share",
        type=float,
        default=HEAVY_SHARE,
        help="share of customers with 600-2,000 resources (default: %(default)s)",
    )
    parser.add_argument(
        "--objects-customers",
        type=int,
        default=100_000,
        help="customers of the diff + render state (x 5 objects each; default: %(default)s)",
    )
    parser.add_argument("--no-baseline", action="store_true", help="skip the peer baseline")
    parser.add_argument("--no-diff", action="store_true", help="skip diff + render")
    parser.add_argument(
        "--jobs", type=int, default=min(2, os.cpu_count() or 1), help="worker processes"
    )


def sizes_of(args: argparse.Namespace) -> list[int]:
    return sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})


def run(args: argparse.Namespace) -> dict[tuple[str, int], dict[str, Any]]:
    """Every task of the virtual-clock runs, in ``args.jobs`` fresh worker processes."""
    sizes = sizes_of(args)
    tasks: list[tuple[tuple[str, int], Callable[..., dict[str, Any]], tuple[Any, ...]]] = []
    largest = max(sizes)
    for n in sorted(sizes, reverse=True):  # longest first: better packing on the workers
        pipelined = (n, args.seed, "pipelined", n == largest, args.heavy_share)
        tasks.append((("pipelined", n), plan_task, pipelined))
        if not args.no_baseline:
            peer = (n, args.seed, "peer", False, args.heavy_share)
            tasks.append((("peer", n), plan_task, peer))
        if n == largest and not args.no_diff:
            tasks.append((("diff", 0), diff_render_task, (args.objects_customers, 4, args.seed)))
    print(f"running {len(tasks)} tasks on {args.jobs} worker process(es)...", file=sys.stderr)
    results: dict[tuple[str, int], dict[str, Any]] = {}
    # A fresh process per task: memory figures are per process, and no task inherits another's
    # heap (or its garbage collector state).
    with multiprocessing.get_context("spawn").Pool(max(1, args.jobs), maxtasksperchild=1) as pool:
        pending = [(key, pool.apply_async(fn, fn_args)) for key, fn, fn_args in tasks]
        for key, result in pending:
            results[key] = result.get()
            print(f"  done: {key[0]} {key[1] or ''}".rstrip(), file=sys.stderr)
    return results


def as_json(results: dict[tuple[str, int], dict[str, Any]]) -> dict[str, Any]:
    return {f"{k[0]}:{k[1]}": v for k, v in results.items()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.plan_scale", description=__doc__)
    add_arguments(parser)
    parser.add_argument("--json", metavar="FILE", help="also write every figure as JSON")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = run(args)
    text, failures = report(sizes_of(args), results, args.seed, time.perf_counter() - started)
    print(text, end="")
    if args.json:
        text = json.dumps(as_json(results), indent=2, sort_keys=True, default=str)
        Path(args.json).write_text(text + "\n", encoding="utf-8")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
