"""The plan on the real clock, over real HTTP, against ``reconciler emulator serve``.

A generated partner is served with log-normal latency and the API's rate limit; the reconciler's
client plans it at the same rate on the system clock. The figures: plan time / floor (the slowest
API's minimum calls / its rate, plus one median round trip), calls made / minimum, and the most
requests of one API the server saw arrive in any 1-second window (from the served emulator's
call log, stamped as each request was read).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from reconciler.bss.client import BssClient
from reconciler.bss.credentials import Credentials, Secret
from reconciler.emulator.clock import SystemClock
from reconciler.emulator.credentials import DEFAULT_CREDENTIALS, DEFAULT_XACCOUNT_TYPE
from reconciler.emulator.generate import generate_partner
from reconciler.plan.planner import PlanContext, build_plan

from . import served, workload


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most of ``times`` inside any half-open window ``[t, t + window)``."""
    ordered = sorted(times)
    best = start = 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def realclock_task(
    customers: int, seed: int, rate: float, latency: tuple[float, float]
) -> dict[str, Any]:
    """Worker process: serve a generated partner, plan it on the real clock, read the log."""
    gen = generate_partner(customers, seed=seed)
    desired = workload.desired_state(gen)
    minimum = workload.minimum_calls(
        gen,
        desired,
        iam_customers=workload.agency_customers(gen, desired),
        rate=rate,
        fill_seconds=latency[0],
    )
    with tempfile.TemporaryDirectory(prefix="bench-real-") as tmp:
        seed_file = Path(tmp) / "partner.json"
        served.generate(customers, seed_file, seed)
        with served.serve(seed_file, rate_limit=rate, latency=latency) as (url, _):
            plan_seconds, stats, checksum = asyncio.run(_plan(url, desired, rate))
            log = served.calls(url)
    by_operation: dict[str, list[float]] = {}
    for call in log:
        if call.get("operation") and call.get("arrived") is not None:
            by_operation.setdefault(call["operation"], []).append(float(call["arrived"]))
    windows = {op: max_in_window(times) for op, times in by_operation.items()}
    return {
        "customers": customers,
        "rate": rate,
        "latency": list(latency),
        "plan_seconds": plan_seconds,
        "lower_bound": minimum.lower_bound,
        "minimum": dict(minimum.calls),
        "minimum_total": minimum.total,
        "slowest": minimum.slowest,
        "calls": {api: s["calls"] for api, s in stats.items()},
        "throttled": sum(s["throttled"] for s in stats.values()),
        "max_in_window": windows,
        "logged_calls": len(log),
        "plan_checksum": checksum,
    }


async def _plan(url: str, desired: Any, rate: float) -> tuple[float, dict[str, Any], str]:
    creds = DEFAULT_CREDENTIALS
    client = BssClient(
        url,
        Credentials(ak=creds.ak, sk=Secret(creds.sk), domain_id=creds.domain_id),
        rate=rate,
        agency_name=DEFAULT_XACCOUNT_TYPE,
    )
    ctx = PlanContext(endpoint=url, partner_id=creds.domain_id)
    async with client:
        started = time.perf_counter()
        plan = await build_plan(desired, client, ctx, SystemClock())
        took = time.perf_counter() - started
        stats = {
            api: {"calls": s.calls, "throttled": s.throttled} for api, s in client.stats().items()
        }
    return took, stats, plan.checksum
