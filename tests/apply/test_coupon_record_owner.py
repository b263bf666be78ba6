"""CustomerCoupons under the rules of ``test_record_owner.py``: a record proves only what it
carries. A coupon record names no operator, so its owner is unknown: it never settles a lost
answer (not even as "not committed"), and it is this journal's only when an answer of ours
named its coupon and it is stamped within that call's window; an identical record of another
writer (same customer, face value and time) stays another writer's."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest

from reconciler.apply.journal import Journal
from reconciler.emulator import coupons, quotas

from .conftest import Env
from .coupons import (
    ISSUE,
    LINGYUN,
    LINGYUN_500,
    QUOTA,
    RECLAIM,
    XINGHE_REPLACED,
    assert_coupon_money,
    coupon_manifests,
    coupon_writes,
    new_records,
    settle_by_hand,
)

SHORT = {"RECONCILER_IN_FLIGHT_HORIZON": "3"}


def _items(env: Env) -> list[tuple[str, str, str | None, str | None]]:
    jrnl = Journal.open(env.journal_file)
    try:
        return [
            (op.operation, i.state, i.quota_id, i.record_id)
            for op in jrnl.operations()
            for i in op.items
        ]
    finally:
        jrnl.close()


@pytest.mark.parametrize("operation", [ISSUE, RECLAIM])
def test_a_coupon_record_never_settles_a_lost_answer_as_not_committed(
    env: Env, operation: str
) -> None:
    """The call took effect and its answer was lost; past the horizon only the records could
    decide, and its record names no operator: frozen, never "not committed" (which would make
    the call again), until a person settles it."""
    manifests = coupon_manifests(env, XINGHE_REPLACED)
    env.emu.add_fault(operation, "commit_then_drop")
    first = env.cli("apply", manifests, "--auto-approve", extra_env=SHORT)
    assert first.exit_code == 5, first.output
    time.sleep(3.5)  # past the horizon: nothing can still land

    seq = env.last_seq()
    rerun = env.cli("apply", manifests, "--auto-approve", extra_env=SHORT)
    assert rerun.exit_code == 5, rerun.output
    assert "without an operator" in rerun.output and "unknown owner" in rerun.output
    assert coupon_writes(env, since=seq) == []
    assert [s for o, s, _, _ in _items(env) if o == operation] == ["unknown"]

    settle_by_hand(env, SHORT)
    done = env.cli("apply", manifests, "--auto-approve", extra_env=SHORT)
    assert done.exit_code == 0, done.output
    assert len(env.calls(operation)) == 1
    kind = "1" if operation == ISSUE else "2"
    assert len(new_records(env, kind)) == 1
    assert_coupon_money(env)


def _issue_as_someone_else(env: Env, customer: str, face_value: str) -> None:
    """A person in Partner Center issues the very coupon this reconciler issued."""
    emu = env.emu

    def act(state: Any) -> None:
        writer = quotas.Writer("ops.li", emu.clock.time(), 0.0, 0, {})
        req = coupons.IssueRequest(
            QUOTA, [customer], Decimal(face_value), expire_time="2027-12-31T15:59:59Z"
        )
        coupons.issue(state, req, writer)

    emu._mutate(act)


def test_an_issue_explains_only_the_record_of_the_coupon_its_answer_named(env: Env) -> None:
    """Run 1 is killed after recording its answer, before linking the record. Someone issues
    the same coupon to the same customer. Run 2 links run 1's item to the record of the coupon
    the answer named, and takes the other one (same customer, face value, minute) for another
    writer's: the customer is frozen, nothing is written to it."""
    first = env.process(
        "apply", coupon_manifests(env, LINGYUN_500), "--auto-approve",
        extra_env={"RECONCILER_CRASH_AT": "after-outcome"},
    )  # fmt: skip
    assert first.returncode == 137, first.stderr
    [(_, state, coupon, record)] = _items(env)
    assert (state, record) == ("committed", None) and coupon
    _issue_as_someone_else(env, LINGYUN, "500.00")

    more = LINGYUN_500 + '        - {faceValue: "600.00", expireTime: "2027-12-31T15:59:59Z"}\n'
    seq = env.last_seq()
    second = env.cli("apply", coupon_manifests(env, more, name="more"), "--auto-approve")
    assert second.exit_code == 5, second.output
    assert "another writer is active" in second.output
    assert coupon_writes(env, since=seq) == []
    [ours] = [r for r in new_records(env, "1", LINGYUN) if r["coupon_id"] == coupon]
    assert [(s, r) for _, s, _, r in _items(env)] == [("committed", ours["id"])]
    assert_coupon_money(env, external={(ISSUE, LINGYUN, QUOTA): Decimal("500.00")})
