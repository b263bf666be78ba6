"""AccountFunds end to end through the CLI, in process, against the embedded demo emulator."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from .funds_env import (
    FUND_CUSTOMER,
    FUND_RESELLER,
    HAINA,
    HUASHAN,
    LINGYUN,
    MINGYUAN,
    PARTNER,
    QINLING,
    RECLAIM_CUSTOMER,
    RECLAIM_RESELLER,
    RUIXIN,
    SHU,
    TIANFU,
    XINGHE,
    Env,
    Want,
    assert_cash_invariant,
    cash,
    manifests,
    writes,
)

D = Decimal
CUSTOMERS = [
    Want(RUIXIN, floor="5000.00"),  # 800.00 -> transfer 4200.00
    Want(LINGYUN, floor="1000.00"),  # 0.00, debt 150.00 -> transfer 1150.00
    Want(HAINA, cap="15000.00"),  # 20000.00 -> reclaim 5000.00
    Want(XINGHE, "5000.00", "20000.00"),  # 12000.00: inside
    Want(SHU, floor="5000.00", reseller=TIANFU),  # 3000.00 -> 2000.00 from tianfu
]
RESELLERS = [
    Want(TIANFU, floor="60000.00"),  # 57000.00 - 2000.00 -> transfer 5000.00
    Want(QINLING, cap="20000.00"),  # 23800.00 -> reclaim 3800.00
]


def test_plan_apply_plan_converges_in_the_order_money_allows(env: Env) -> None:
    folder = manifests(env, CUSTOMERS, RESELLERS)
    plan = env.cli("plan", folder, "--detailed-exitcode")
    assert plan.exit_code == 2, plan.output
    for line in (
        "net cash 800.00 -> 5000.00",
        "net cash -150.00 -> 1000.00 (cash 0.00, debt 150.00)",
        "allocatable 57000.00 -> 60000.00",
        "allocatable 23800.00 -> 20000.00 (5000.00 designated)",
    ):
        assert line in plan.output, plan.output
    applied = env.cli("apply", folder, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "6 applied, 0 failed" in applied.output
    order = [(c["operation"], c["body"]) for c in writes(env)]
    assert [op for op, _ in order] == [
        RECLAIM_CUSTOMER, RECLAIM_RESELLER, FUND_RESELLER, FUND_CUSTOMER, FUND_CUSTOMER,
        FUND_CUSTOMER,
    ]  # fmt: skip
    live = cash(env.state())
    assert (live[RUIXIN], live[LINGYUN], live[HAINA], live[XINGHE], live[SHU]) == (
        D("5000.00"), D("1000.00"), D("15000.00"), D("12000.00"), D("5000.00"))  # fmt: skip
    assert (live[TIANFU], live[QINLING]) == (D("60000.00"), D("20000.00"))
    again = env.cli("plan", folder, "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert_cash_invariant(env)


def test_a_customer_that_is_not_resale_is_an_error_at_its_line(env: Env) -> None:
    folder = manifests(env, [Want(MINGYUAN, floor="10.00")])
    result = env.cli("plan", folder)
    assert result.exit_code == 1, result.output
    assert "funds.yaml:6:" in result.output
    assert "is not a resale customer of the partner" in result.output
    assert writes(env) == []


def test_a_resellers_customer_must_be_named_with_its_reseller(env: Env) -> None:
    wrong = manifests(env, [Want(HUASHAN, floor="10.00", reseller=TIANFU)])
    result = env.cli("plan", wrong)
    assert result.exit_code == 1, result.output
    assert "is not a resale customer of reseller tianfu-cloud" in result.output


def test_the_partner_must_cover_the_run(env: Env) -> None:
    partner = next(a for a in env.state()["accounts"].values()
                   if a["account_type"] == 8 and a["owner"] is None)  # fmt: skip
    env.emu.set_account(partner["account_id"], designated_amount="798000.00")
    folder = manifests(env, [Want(RUIXIN, floor="2800.02"), Want(HAINA, cap="19999.99")])
    result = env.cli("plan", folder)
    assert result.exit_code == 1, result.output
    assert "short by 0.01" in result.output
    assert writes(env) == []


@pytest.mark.parametrize(
    ("guard", "limit", "flag"),
    [("maxCashPerRecipient", "4199.99", "max-cash-per-recipient"),
     ("maxCashPerRun", "4199.99", "max-cash-per-run"),
     ("maxCashReclaimPerRun", "4999.99", "max-cash-reclaim-per-run")],
)  # fmt: skip
def test_guards_block_until_allowed(env: Env, guard: str, limit: str, flag: str) -> None:
    folder = manifests(env, [Want(RUIXIN, floor="5000.00"), Want(HAINA, cap="15000.00")],
                       guards={guard: limit})  # fmt: skip
    blocked = env.cli("apply", folder, "--auto-approve")
    assert blocked.exit_code == 3, blocked.output
    assert f"--allow {flag}" in blocked.output
    assert writes(env) == []
    allowed = env.cli("apply", folder, "--auto-approve", "--allow", flag)
    assert allowed.exit_code == 0, allowed.output
    assert_cash_invariant(env)


def test_a_change_since_the_plan_is_skipped_not_written(env: Env) -> None:
    folder = manifests(env, [Want(RUIXIN, floor="5000.00")])
    saved = env.root / "plan.json"
    assert env.cli("plan", folder, "--out", saved).exit_code == 0
    env.emu.spend_cash(RUIXIN, "100.00")
    stale = env.cli("apply", "--plan", saved)
    assert stale.exit_code == 4, stale.output
    assert writes(env) == []
    fresh = env.cli("apply", folder, "--auto-approve")
    assert fresh.exit_code == 0, fresh.output
    assert cash(env.state())[RUIXIN] == D("5000.00")
    assert_cash_invariant(env, external={RUIXIN: D("-100.00")})


def test_an_item_failure_inside_200_fails_only_that_change(env: Env) -> None:
    folder = manifests(env, [Want(RUIXIN, floor="5000.00"), Want(XINGHE, floor="13000.00")])
    env.emu.add_fault(FUND_CUSTOMER, "item_error", ids=[RUIXIN], error_code="CBC.99001234")
    first = env.cli("apply", folder, "--auto-approve")
    assert first.exit_code == 5, first.output
    assert "1 applied, 1 failed" in first.output
    assert "CBC.99001234" in first.output
    again = env.cli("apply", folder, "--auto-approve")
    assert again.exit_code == 0, again.output
    assert cash(env.state())[RUIXIN] == D("5000.00")
    assert_cash_invariant(env)


def test_designated_cash_above_the_cap_is_a_state_apply_cannot_reach(env: Env) -> None:
    folder = manifests(env, resellers=[Want(QINLING, cap="1000.00")])
    applied = env.cli("apply", folder, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert cash(env.state())[QINLING] == D("5000.00")
    plan = env.cli("plan", folder)
    assert plan.exit_code == 6, plan.output
    assert "4000.00 above atMost 1000.00 cannot be reclaimed" in plan.output
    assert cash(env.state())[PARTNER] == D("818800.00")
    assert_cash_invariant(env)


def test_drift_shows_cash_apply_heals_it_and_export_adopts_it(env: Env) -> None:
    folder = manifests(env, CUSTOMERS, RESELLERS)
    drift = env.cli("drift", folder, "--format", "json", "--out", env.root / "drift.json")
    assert drift.exit_code == 2, drift.output
    report = json.loads((env.root / "drift.json").read_text(encoding="utf-8"))
    items = [i for i in report["items"] if i["kind"] == "account-funds"]
    assert sorted(i["action"] for i in items) == ["fund"] * 4 + ["reclaim"] * 2
    assert {i["heal"] for i in items} == {"apply"}
    assert writes(env) == [], "drift only reads"
    assert env.cli("apply", folder, "--auto-approve").exit_code == 0
    env.emu.spend_cash(RUIXIN, "300.00")  # the customer spends: below its floor again
    again = env.cli("drift", folder)
    assert again.exit_code == 2, again.output
    assert "wants net cash 5000.00, live net cash 4700.00" in again.output, again.output
    assert "heal: apply transfers 300.00 CNY" in again.output
    assert "Drift: 1 object differs (1 healable by apply, 0 manual)" in again.output
    adopted = env.root / "adopted"
    exported = env.cli("export", "--kind", "account-funds", adopted)
    assert exported.exit_code == 0, exported.output
    text = (adopted / "account-funds.yaml").read_text(encoding="utf-8")
    assert '{customer: ruixin-media, topUpTo: "4700.00"}' in text
    assert '{customer: shu-brocade, reseller: tianfu-cloud, topUpTo: "5000.00"}' in text
    assert '{reseller: qinling-digital, topUpTo: "20000.00"}' in text
    plan = env.cli("plan", adopted, "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output
    assert "No changes." in plan.output
    assert_cash_invariant(env, external={RUIXIN: D("-300.00")})
