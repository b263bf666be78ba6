"""The real-HTTP benchmark's pieces work end to end (not its figures: those are the bench's):
``emulator generate`` + ``serve --in-memory`` in their own processes, the load generator, the
three clients of the CPU comparison, and the report's verdicts."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bench import client_cpu, loadgen, real_http, served
from bench.realclock import max_in_window

pytestmark = pytest.mark.slow


def test_a_generated_partner_served_in_memory_answers_every_client(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_file = tmp_path / "partner.json"
    served.generate(300, seed_file, seed=3)
    with served.serve(seed_file) as (url, _ready):
        requests = loadgen.signed_requests(url, loadgen.customer_ids_of(seed_file), 50)
        load = asyncio.run(loadgen.run_load(url, requests, connections=4, seconds=1.0))
        assert load.requests > 0 and load.errors == 0 and set(load.statuses) == {200}
        code = client_cpu.main(["--url", url, "--seed-file", str(seed_file), "--requests", "20"])
        assert code == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for name in ("ours", "official_sdk", "bare_httpx"):
        assert figures[name]["requests"] == 20
        assert figures[name]["cpu_ms_per_request"] > 0


def test_max_in_window_counts_a_half_open_second() -> None:
    assert max_in_window([0.0, 0.5, 0.999, 1.0, 1.5]) == 3
    assert max_in_window([n * 0.1 for n in range(11)]) == 10  # 0.0 .. 1.0: 1.0 starts anew
    assert max_in_window([]) == 0


def test_the_report_marks_each_miss() -> None:
    cpu = {"cpu_ms_per_request": 1.0, "requests_per_second": 1.0, "requests": 1}
    rate = {"requests_per_second": 400.0, "latency_p99_ms": 10.0}
    results = {
        "big": {
            "customers": 100,
            "in_memory": rate,
            "state_file": rate,
            "client_cpu": {
                "ours": cpu,
                "official_sdk": {**cpu, "cpu_ms_per_request": 2.0},
                "bare_httpx": cpu,
            },
            "memory": {"per_customer": 900.0, "peak_bytes": 2**20},
        },
        "real": {
            "customers": 10,
            "plan_seconds": 10.2,
            "lower_bound": 10.0,
            "calls": {"a": 5},
            "minimum_total": 5,
            "max_in_window": {"a": 11},
            "rate": 10.0,
            "throttled": 0,
        },
    }
    text, misses = real_http.report(results)
    assert misses == 3  # 400/s < 500, 1.02 > 1.01, 11 > 10
    assert "ours / official SDK" in text and "0.50" in text
    assert text.count("FAIL") == 3


def test_the_breakdown_adds_up_to_the_plan_and_its_excess_to_the_time_over_the_floor() -> None:
    from bench.realclock import breakdown
    from reconciler.bss.ratelimit import PLAN_MARGIN

    rate, fill, n = 10.0, 0.12, 101
    times = {"start": 100.0, "read": 100.0 + 0.05 + 0.3 + 10.0 * (1 + PLAN_MARGIN) + 0.4 + 0.2}
    times["end"] = times["read"] + 0.07
    first = 100.05 + 0.3
    last = first + 10.0 * (1 + PLAN_MARGIN) + 0.4  # 0.4 s held late
    stats = {
        "customers": {"calls": 2, "first_call": 100.05, "last_call": 100.15},
        "resources": {"calls": n, "first_call": first, "last_call": last},
        "iam": {"calls": 1, "first_call": last + 0.1, "last_call": last + 0.1},
    }
    parts = breakdown(times, stats, "resources", rate, fill)
    assert parts["startup"] == pytest.approx(0.05)
    assert parts["first_page"] == pytest.approx(0.3)
    assert parts["planned_margin"] == pytest.approx(10.0 * PLAN_MARGIN)
    assert parts["late"] == pytest.approx(0.4)
    assert parts["tail"] == pytest.approx(0.2)
    assert parts["diff"] == pytest.approx(0.07)
    assert parts["other_api_after_last_slot"] == pytest.approx(0.1)
    consecutive = ("startup", "first_page", "slots_ideal", "planned_margin", "late", "tail", "diff")
    plan = times["end"] - times["start"]
    assert sum(parts[k] for k in consecutive) == pytest.approx(plan)
    assert parts["over_floor"] == pytest.approx(plan - (n / rate + fill))
