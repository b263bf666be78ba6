"""Evidence that cannot be someone else's, the in-flight horizon, --wait, and who we are."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from reconciler.apply.journal import Journal
from reconciler.emulator import quotas

from .conftest import MAIN, PENGCHENG, TIANFU, Env, assert_money_invariant

ISSUE = "update_coupon_quotas"
LONG = {"RECONCILER_IN_FLIGHT_HORIZON": "600"}


def _issue_as(env: Env, operator: str, reseller: str, amount: str) -> None:
    """Another operator (an IAM user of the same account) issues in Partner Center."""

    emu = env.emu

    def act(state: Any) -> None:
        writer = quotas.Writer(operator, emu.clock.time(), 0.0, 0, {})
        quotas.issue(state, MAIN, [reseller], Decimal(amount), writer)

    emu._mutate(act)


def _items(env: Env) -> list[tuple[str, str | None]]:
    jrnl = Journal.open(env.journal_file)
    try:
        return [(i.state, i.record_id) for op in jrnl.operations() for i in op.items]
    finally:
        jrnl.close()


def test_another_operators_record_never_settles_our_call(env: Env) -> None:
    manifests = env.manifests({MAIN: {TIANFU: "45000.00"}})
    env.emu.add_fault(ISSUE, "http_500")  # our issue never ran
    first = env.cli("apply", manifests, "--auto-approve")
    assert first.exit_code == 5, first.output
    _issue_as(env, "ops.li", TIANFU, "15000.00")  # same reseller, parent and amount

    # The record is not ours (another operator): no evidence, and within the horizon the call
    # may still land, so the pair stays frozen.
    frozen = env.cli("apply", manifests, "--auto-approve", extra_env=LONG)
    assert frozen.exit_code == 5, frozen.output
    assert "may still be in flight" in frozen.output
    assert "(15000.00 of it by other issues)" in frozen.output

    settled = env.cli("apply", manifests, "--auto-approve", "--wait")
    assert settled.exit_code == 0, settled.output
    assert _items(env) == [("settled-not-committed", None)]
    assert env.balance(TIANFU, MAIN) == Decimal("45000.00")
    assert_money_invariant(env, external={(TIANFU, MAIN): Decimal("15000.00")})


def test_an_outside_write_freezes_only_its_pair(env: Env) -> None:
    manifests = env.manifests({MAIN: {TIANFU: "45000.00", PENGCHENG: "1000.00"}})
    env.emu.add_fault(ISSUE, "http_500", skip=1)  # tianfu's 15,000.00 (issues go by amount)
    first = env.cli("apply", manifests, "--auto-approve")
    assert first.exit_code == 5, first.output
    _issue_as(env, "ops.li", TIANFU, "1.00")
    env.emu.spend_quota(_child_of(env, PENGCHENG), "400.00")  # pengcheng needs 400.00 again

    again = env.cli("apply", manifests, "--auto-approve", extra_env=LONG)
    assert again.exit_code == 5, again.output
    assert "1 applied, 0 failed, 0 manual, 0 unknown, 1 frozen" in again.output
    assert env.balance(PENGCHENG, MAIN) == Decimal("1000.00")
    assert env.balance(TIANFU, MAIN) == Decimal("30001.00")


def _child_of(env: Env, reseller: str) -> str:
    [quota] = [
        q["quota_id"]
        for q in env.state()["quotas"].values()
        if q["indirect_partner_id"] == reseller and q["parent_quota_id"] == MAIN
    ]
    return str(quota)


def test_the_operator_is_learned_from_a_record_that_can_only_be_ours(env: Env) -> None:
    manifests = env.manifests({MAIN: {TIANFU: "40000.00"}})
    settings = manifests / "settings.yaml"
    settings.write_text(settings.read_text().replace("  operator: demo-distributor\n", ""))
    first = env.cli("apply", manifests, "--auto-approve")
    assert first.exit_code == 0, first.output
    jrnl = Journal.open(env.journal_file)
    learned = jrnl.operator("0a1b2c3d4e5f40718293a4b5c6d7e8f9")
    jrnl.close()
    assert learned is not None
    assert learned[0] == "demo-distributor"
    assert learned[1].startswith("issue record ")

    # Now a lost answer is settled from our operator's record, without Settings saying who we
    # are.
    (manifests / "quotas.yaml").write_text(
        (manifests / "quotas.yaml").read_text().replace("40000.00", "45000.00")
    )
    env.emu.add_fault(ISSUE, "commit_then_drop")
    second = env.cli("apply", manifests, "--auto-approve")
    assert second.exit_code == 0, second.output
    assert [s for s, _ in _items(env)] == ["committed", "settled-committed"]
    assert_money_invariant(env)


def test_a_wrong_settings_operator_is_reported(env: Env) -> None:
    manifests = env.manifests({MAIN: {TIANFU: "40000.00"}})
    settings = manifests / "settings.yaml"
    settings.write_text(settings.read_text().replace("demo-distributor", "someone-else"))
    result = env.cli("apply", manifests, "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "Settings spec.operator is 'someone-else'" in result.output
    assert "records this reconciler's calls as 'demo-distributor'" in result.output


def test_wait_waits_out_the_horizon_in_process(env: Env) -> None:
    manifests = env.manifests({MAIN: {TIANFU: "45000.00"}})
    env.emu.add_fault(ISSUE, "drop_before_commit")
    first = env.cli("apply", manifests, "--auto-approve")
    assert first.exit_code == 5, first.output
    horizon = {"RECONCILER_IN_FLIGHT_HORIZON": "4"}
    waited = env.cli("apply", manifests, "--auto-approve", "--wait", extra_env=horizon)
    assert waited.exit_code == 0, waited.output
    assert "Waiting until" in waited.output
    assert "(--wait): 1 change(s) have a call that may still be in flight" in waited.output
    assert env.balance(TIANFU, MAIN) == Decimal("45000.00")
    assert len(env.issue_records(TIANFU)) == 1
    assert_money_invariant(env)
