"""``python -m bench`` (``make bench``): every part runs in one go, small, and the one table's
verdicts follow the figures (not the figures themselves: those are the bench's)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from bench import all as bench_all

pytestmark = pytest.mark.slow

SMALL = [
    "--real-customers", "20", "--customers", "200", "--cpu-requests", "20",
    "--load-seconds", "0.5", "--connections", "4",
    "--sizes", "200", "--objects-customers", "100", "--no-baseline", "--jobs", "1",
]  # fmt: skip


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, dict[str, Any]]:
    out = tmp_path_factory.mktemp("bench") / "figures.json"
    code = bench_all.main([*SMALL, "--json", str(out)])
    results = json.loads(out.read_text())
    text, _ = bench_all.render(results)
    return code, text, results


def _verdict(text: str, figure: str) -> str:
    line = next(line for line in text.splitlines() if line.strip().startswith(figure))
    return line.split()[-1]


def test_one_run_prints_every_figure_of_the_issue(small_run: tuple[int, str, Any]) -> None:
    code, text, results = small_run
    for figure in (
        "plan / floor, real clock + HTTP, 20 customers",
        "calls made / minimum",
        "most arrivals of one API in any 1 s window at the server",
        "429s received",
        "served emulator, 200 customers, in memory: requests/s",
        "client CPU per request, ours / official SDK",
        "peak memory per customer, real plan of 200",
        "plan time / lower bound [N=200]",
        "calls made / minimum calls [N=200]",
        "diff + render CPU",
    ):
        assert figure in text, figure
    assert "over the floor" in text and "load average" in text
    failures = text.count("  FAIL")
    assert f"{failures} figure(s) below target" in text
    assert code == (1 if failures else 0)
    assert {"real", "big", "virtual"} <= results.keys()


def test_the_verdicts_follow_the_figures(small_run: tuple[int, str, dict[str, Any]]) -> None:
    _, _, results = small_run
    good = copy.deepcopy(results)
    real = good["real"]
    real["plan_seconds"] = real["lower_bound"] * 1.009
    real["max_in_window"] = dict.fromkeys(real["max_in_window"], 10)
    text, _ = bench_all.render(good)
    assert _verdict(text, "plan / floor, real clock") == "pass"
    assert _verdict(text, "most arrivals of one API") == "pass"
    bad = copy.deepcopy(good)
    bad["real"]["plan_seconds"] = real["lower_bound"] * 1.011
    bad["real"]["max_in_window"]["list_sub_customers"] = 11
    bad["real"]["calls"]["list_sub_customers"] += 1
    text_bad, failures_bad = bench_all.render(bad)
    _, failures_good = bench_all.render(good)
    assert _verdict(text_bad, "plan / floor, real clock") == "FAIL"
    assert _verdict(text_bad, "most arrivals of one API") == "FAIL"
    assert _verdict(text_bad, "calls made / minimum ") == "FAIL"
    assert failures_bad >= failures_good + 3


def test_the_json_reads_back_into_the_same_table(
    small_run: tuple[int, str, dict[str, Any]], tmp_path: Path
) -> None:
    _, text, results = small_run
    again = json.loads(json.dumps(results, default=str))
    assert bench_all.render(again)[0] == text
