"""The plan on the real clock, over real HTTP, against ``reconciler emulator serve``.

A generated partner is served with log-normal latency and the API's rate limit; the reconciler's
client plans it at the same rate on the system clock. The figures: plan time / floor (the slowest
API's minimum calls / its rate, plus one median round trip), calls made / minimum, and the most
requests of one API the server saw arrive in any 1-second window (from the served emulator's
call log: on Linux the kernel's receive time of each request, ``reconciler/emulator/server.py``).

:func:`breakdown` says where the time over the floor went, from the client's own timestamps:
before the first call (start-up), waiting for the first customer page before the slowest API
could start, that API's slots (the planned margin, and slots or writes held late), the tail
after its last slot (its answer, a further page, an agency check), and the diff.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from reconciler.bss.client import BssClient
from reconciler.bss.credentials import Credentials, Secret
from reconciler.bss.ratelimit import PLAN_MARGIN
from reconciler.emulator.clock import SystemClock
from reconciler.emulator.credentials import DEFAULT_CREDENTIALS, DEFAULT_XACCOUNT_TYPE
from reconciler.emulator.generate import generate_partner
from reconciler.plan.planner import PlanContext, assemble_plan, read_live
from reconciler.plan.scope import narrow

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
            times, stats, checksum = asyncio.run(_plan(url, desired, rate))
            log = served.calls(url)
    by_operation: dict[str, list[float]] = {}
    for call in log:
        if call.get("operation") and call.get("arrived") is not None:
            by_operation.setdefault(call["operation"], []).append(float(call["arrived"]))
    windows = {op: max_in_window(arrivals) for op, arrivals in by_operation.items()}
    return {
        "customers": customers,
        "rate": rate,
        "latency": list(latency),
        "plan_seconds": times["end"] - times["start"],
        "breakdown": breakdown(times, stats, minimum.slowest, rate, latency[0]),
        "lower_bound": minimum.lower_bound,
        "minimum": dict(minimum.calls),
        "minimum_total": minimum.total,
        "slowest": minimum.slowest,
        "calls": {api: s["calls"] for api, s in stats.items()},
        "gated_seconds": sum(s["gated_seconds"] for s in stats.values()),
        "throttled": sum(s["throttled"] for s in stats.values()),
        "max_in_window": windows,
        "logged_calls": len(log),
        "plan_checksum": checksum,
    }


async def _plan(
    url: str, desired: Any, rate: float
) -> tuple[dict[str, float], dict[str, dict[str, Any]], str]:
    """``build_plan``'s two steps, timed apart: the read, then the diff (assemble_plan)."""
    creds = DEFAULT_CREDENTIALS
    client = BssClient(
        url,
        Credentials(ak=creds.ak, sk=Secret(creds.sk), domain_id=creds.domain_id),
        rate=rate,
        agency_name=DEFAULT_XACCOUNT_TYPE,
    )
    ctx = PlanContext(endpoint=url, partner_id=creds.domain_id)
    clock = SystemClock()
    async with client:
        times = {"start": clock.monotonic()}
        desired, narrowing = narrow(desired, ctx.targets)  # as build_plan does
        live, problems = await read_live(desired, client, keep_credentials=False, clock=clock)
        times["read"] = clock.monotonic()
        plan = assemble_plan(desired, live, problems, ctx, clock.time(), narrowing=narrowing)
        times["end"] = clock.monotonic()
        stats = {
            api: {
                "calls": s.calls,
                "throttled": s.throttled,
                "first_call": s.first_call,
                "last_call": s.last_call,
                "gated_seconds": s.gated_seconds,
            }
            for api, s in client.stats().items()
        }
    return times, stats, plan.checksum


def breakdown(
    times: dict[str, float],
    stats: dict[str, dict[str, Any]],
    slowest: str,
    rate: float,
    fill: float,
) -> dict[str, float]:
    """Plan time in consecutive parts (seconds), and how far each is over its share of the
    floor (``over``: they add up to plan time - floor, where the floor is ``n / rate + fill``).

    The slowest API's ``n`` slots span ``(n - 1) / rate`` at best; the pacer plans them
    ``PLAN_MARGIN`` further apart; the rest of the span is slots or writes held late."""
    firsts = [s["first_call"] for s in stats.values() if s["first_call"] is not None]
    main = stats[slowest]
    n = main["calls"]
    ideal = (n - 1) / rate
    margin = (n - 1) * PLAN_MARGIN / rate
    span = main["last_call"] - main["first_call"]
    parts = {
        "startup": min(firsts) - times["start"],
        "first_page": main["first_call"] - min(firsts),
        "slots_ideal": ideal,
        "planned_margin": margin,
        "late": span - ideal - margin,
        "tail": times["read"] - main["last_call"],
        "diff": times["end"] - times["read"],
    }
    others = [s["last_call"] for api, s in stats.items() if api != slowest and s["last_call"]]
    parts["other_api_after_last_slot"] = max(0.0, max(others, default=0.0) - main["last_call"])
    over = dict(parts)
    over.pop("slots_ideal")
    over.pop("other_api_after_last_slot")
    over["first_page"] -= fill  # the floor's one round trip
    over["tail"] -= 1 / rate  # the floor counts n intervals, the span n - 1
    return {**parts, "over_floor": sum(over.values()), **{f"over_{k}": v for k, v in over.items()}}
