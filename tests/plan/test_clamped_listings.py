"""A whole-partner listing whose pages the API clamps is never taken for the whole partner: the
references it did not show are looked up one by one, not reported unknown."""

from __future__ import annotations

import json

import pytest

from reconciler.bss.models import Page
from reconciler.errors import IncompleteListingError
from reconciler.plan.references import whole

from .conftest import WRITES, Env


def test_a_clamped_customer_listing_still_finds_every_customer(env: Env) -> None:
    folder = env.copy_examples()
    plain = env.run("plan", str(folder), "--format", "json")
    assert plain.exit_code == 0, plain.output
    emu = env.emulator()
    emu.add_fault("list_sub_customers", "page_limit", count=10_000, value=10)
    clamped = env.run("plan", str(folder), "--format", "json")
    assert clamped.exit_code == 0, clamped.output
    assert json.loads(clamped.output)["checksum"] == json.loads(plain.output)["checksum"]
    assert "unknown customer" not in clamped.output
    assert not [c for c in emu.call_log() if c["operation"] in WRITES]


def test_whole_keeps_a_listing_that_adds_up_and_names_one_that_does_not() -> None:
    def page(n: int, start: int, total: int) -> Page[str]:
        return Page(tuple(f"i{k}" for k in range(start, start + n)), total)

    assert len(whole("list_x", 100, [page(100, 0, 150), page(50, 100, 150)], str)) == 150
    with pytest.raises(IncompleteListingError) as err:
        whole("list_x", 100, [page(100, 0, 150), page(40, 100, 140)], str)
    assert "list_x returned 140 of the 150 items" in str(err.value)
    assert "the set changed while it was read" in str(err.value)
