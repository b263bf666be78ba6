"""Every write: issue (§7.9), reclaim (§7.10), auto-renew on/off (§7.4, §7.5), renew config
(§7.6) and renewal (§7.7), with their documented errors, in both modes.

The emulator's own state (through its control plane) is the judge of what was committed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest

from reconciler.bss import BssClient, IssuedQuota, IssueResult, ItemError, ReclaimResult
from reconciler.errors import ApiError, AuthError

from .harness import AGENCY, Contract
from .seeded import (
    CHILD_PENGCHENG,
    CHILD_QINLING,
    CHILD_RECLAIMED,
    CHILD_TIANFU,
    HAINA,
    HAINA_FEATURE_CACHE,
    HAINA_TRAIN_01,
    HUAXIA,
    HUAXIA_OLD_LMS,
    JINQIAO,
    JQ_TMS_APP,
    JQ_TMS_APP_DISKS,
    LINGYUN,
    LINGYUN_GAME_SERVER,
    NOT_OURS,
    PENGCHENG,
    QINLING,
    QUOTA_MAIN,
    QUOTA_SECOND,
    TIANFU,
    XINGHE,
    XINGHE_ORDERS_DB,
    XINGHE_WEB_01,
    XINGHE_WEB_01_ATTACHED,
    XINGHE_WEB_01_DISK,
)

D = Decimal
SEEDED_RECORDS = 5


def balance(contract: Contract, quota_id: str) -> Decimal:
    return Decimal(contract.control.state()["quotas"][quota_id]["balance"])


def records(contract: Contract) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = contract.control.state()["records"]
    return found


def policies(contract: Contract, customer_id: str, *resource_ids: str) -> list[int | None]:
    """``expire_policy`` as the partner reads it (§7.3); attached resources show their main's."""
    found = contract.call(lambda c: c.all_customer_resources(customer_id))
    by_id = {r.resource_id: r.expire_policy for r in found}
    return [by_id[r] for r in resource_ids]


# --- issue (update_coupon_quotas) --------------------------------------------------------------
def test_issue_creates_child_quotas_and_records(contract: Contract) -> None:
    amount = D("1234.56")

    async def issue(c: BssClient) -> tuple[IssueResult, list[IssuedQuota]]:
        result = await c.update_coupon_quotas(QUOTA_MAIN, [TIANFU, QINLING], amount)
        children = [
            (await c.list_issued_coupon_quotas(quota_id=child)).items[0]
            for child in result.successes.values()
        ]
        return result, children

    result, children = contract.call(issue)
    assert set(result.successes) == {TIANFU, QINLING}
    assert (result.failures, result.unaccounted) == ((), ())
    assert {c.quota_id for c in children} == set(result.successes.values())
    for reseller, child in zip(result.successes, children, strict=True):
        assert (child.parent_quota_id, child.indirect_partner_id) == (QUOTA_MAIN, reseller)
        assert (child.quota_value, child.balance, child.quota_status) == (amount, amount, 0)
        assert str(child.balance) == "1234.56"
    assert balance(contract, QUOTA_MAIN) == D("445000.00") - 2 * amount == D("442530.88")
    new = records(contract)[SEEDED_RECORDS:]
    assert [
        (r["operation_type"], r["amount"], r["result"], r["indirect_partner_id"]) for r in new
    ] == [
        ("10", "1234.56", "0", TIANFU),
        ("10", "1234.56", "0", QINLING),
    ]
    (logged,) = contract.control.calls("update_coupon_quotas")
    assert logged["body"] == (
        f'{{"quota_id": "{QUOTA_MAIN}", "indirect_partner_ids": ["{TIANFU}", "{QINLING}"], '
        '"quota_amount": 1234.56}'
    )


ISSUE_ERRORS = [
    pytest.param(None, QUOTA_MAIN, [TIANFU], D("445000.01"), "CBC.99000013",
                 id="insufficient-balance"),
    pytest.param(None, QUOTA_MAIN, [TIANFU, NOT_OURS], D("1.00"), "CBC.99000037",
                 id="unknown-reseller"),
    pytest.param(None, NOT_OURS, [TIANFU], D("1.00"), "CBC.99000012", id="unknown-parent-quota"),
    pytest.param({"quota_status": 5}, QUOTA_MAIN, [TIANFU], D("1.00"), "CBC.99000015",
                 id="parent-frozen"),
    pytest.param({"expire_time": "2025-12-31T15:59:59Z"}, QUOTA_MAIN, [TIANFU], D("1.00"),
                 "CBC.99000017", id="parent-expired"),
]  # fmt: skip


@pytest.mark.parametrize(("patch", "quota_id", "resellers", "amount", "code"), ISSUE_ERRORS)
def test_issue_errors_commit_nothing(
    contract: Contract,
    patch: dict[str, Any] | None,
    quota_id: str,
    resellers: list[str],
    amount: Decimal,
    code: str,
) -> None:
    if patch:
        contract.control.set_quota(QUOTA_MAIN, **patch)
    before = contract.control.state()["quotas"]
    with pytest.raises(ApiError) as info:
        contract.call(lambda c: c.update_coupon_quotas(quota_id, resellers, amount))
    error = info.value
    assert (type(error), error.status, error.error_code) == (ApiError, 400, code)
    (logged,) = contract.control.calls("update_coupon_quotas")  # not retried
    assert (logged["status"], logged["error_code"], logged["mutated"]) == (400, code, False)
    assert error.request_id == logged["request_id"]
    assert f"-> 400 {code}: " in str(error)
    assert str(error).endswith(f"(request id {logged['request_id']})")
    assert contract.control.state()["quotas"] == before
    assert len(records(contract)) == SEEDED_RECORDS


def test_issue_per_item_failure_is_reported_in_the_result(contract: Contract) -> None:
    contract.control.add_fault(
        "update_coupon_quotas", "item_error", ids=[QINLING], error_code="CBC.50010105"
    )
    result = contract.call(
        lambda c: c.update_coupon_quotas(QUOTA_MAIN, [TIANFU, QINLING, PENGCHENG], D("10.00"))
    )
    assert set(result.successes) == {TIANFU, PENGCHENG}
    assert [(f.id, f.error_code) for f in result.failures] == [(QINLING, "CBC.50010105")]
    assert result.unaccounted == ()
    assert balance(contract, QUOTA_MAIN) == D("444980.00")
    new = records(contract)[SEEDED_RECORDS:]
    assert sorted((r["indirect_partner_id"], r["result"]) for r in new) == sorted(
        [(TIANFU, "0"), (QINLING, "-1"), (PENGCHENG, "0")]
    )


# --- reclaim (reclaim_coupon_quotas) -----------------------------------------------------------
RECLAIMS = [
    pytest.param(None, CHILD_TIANFU, QUOTA_MAIN, D("30000.00"), D("475000.00"), id="whole-balance"),
    pytest.param(None, CHILD_QINLING, QUOTA_MAIN, D("18500.00"), D("463500.00"),
                 id="spent-part-never-returns"),
    pytest.param("2500.01", CHILD_PENGCHENG, QUOTA_SECOND, D("12499.99"), D("197499.99"),
                 id="after-a-spend"),
]  # fmt: skip


@pytest.mark.parametrize(("spend", "child", "parent", "amount", "parent_after"), RECLAIMS)
def test_reclaim_returns_the_remaining_balance(
    contract: Contract,
    spend: str | None,
    child: str,
    parent: str,
    amount: Decimal,
    parent_after: Decimal,
) -> None:
    if spend:
        contract.control.spend_quota(child, spend)

    async def reclaim(c: BssClient) -> tuple[ReclaimResult, IssuedQuota]:
        result = await c.reclaim_coupon_quotas([child], remark="contract test")
        return result, (await c.list_issued_coupon_quotas(quota_id=child)).items[0]

    result, after = contract.call(reclaim)
    assert result == ReclaimResult({child: D("0.00")}, (), ())
    assert (after.quota_status, after.reclaimed, after.balance) == (6, True, D("0.00"))
    assert balance(contract, parent) == parent_after
    (record,) = records(contract)[SEEDED_RECORDS:]
    assert (record["operation_type"], record["quota_id"], record["parent_quota_id"]) == (
        "11",
        child,
        parent,
    )
    assert (D(record["amount"]), record["result"], record["remark"]) == (
        amount,
        "0",
        "contract test",
    )


def test_reclaim_reports_non_reclaimable_quotas_per_item(contract: Contract) -> None:
    result = contract.call(
        lambda c: c.reclaim_coupon_quotas([CHILD_TIANFU, CHILD_RECLAIMED, NOT_OURS, QUOTA_MAIN])
    )
    assert result.successes == {CHILD_TIANFU: D("0.00")}
    assert sorted((f.id, f.error_code) for f in result.failures) == sorted(
        [
            (CHILD_RECLAIMED, "CBC.99000012"),
            (NOT_OURS, "CBC.99000012"),
            (QUOTA_MAIN, "CBC.99000012"),
        ]
    )
    assert result.unaccounted == ()
    assert contract.statuses("reclaim_coupon_quotas") == [200]


def test_reclaim_item_error_fault(contract: Contract) -> None:
    contract.control.add_fault("reclaim_coupon_quotas", "item_error", ids=[CHILD_QINLING])
    result = contract.call(lambda c: c.reclaim_coupon_quotas([CHILD_TIANFU, CHILD_QINLING]))
    assert set(result.successes) == {CHILD_TIANFU}
    assert result.failures == (ItemError(CHILD_QINLING, "CBC.0999", result.failures[0].error_msg),)
    assert contract.control.state()["quotas"][CHILD_QINLING]["quota_status"] == 0


# --- auto-renew (customer credentials through the agency) --------------------------------------
def test_enable_auto_renew_covers_attached_resources(contract: Contract) -> None:
    assert policies(contract, JINQIAO, JQ_TMS_APP, *JQ_TMS_APP_DISKS) == [0, 0, 0]

    async def enable(c: BssClient) -> list[bool]:
        await c.auto_renewal_resources(JINQIAO, JQ_TMS_APP, auto_renew_times=3, period_type="YEAR")
        found = await c.all_customer_resources(JINQIAO)
        return [r.auto_renew for r in found if JQ_TMS_APP in (r.resource_id, r.parent_resource_id)]

    assert contract.call(enable) == [True, True, True]
    state = contract.control.state()["resources"][JQ_TMS_APP]
    assert (state["expire_policy"], state["auto_renew_times"], state["period_type"]) == (
        3,
        3,
        "YEAR",
    )
    (iam,) = contract.control.calls("iam_create_temporary_access_key")
    (call,) = contract.control.calls("auto_renewal_resources")
    assert (iam["status"], iam["caller"]["kind"]) == (201, "partner")
    assert (call["status"], call["caller"]["kind"], call["caller"]["account_id"]) == (
        204,
        "customer",
        JINQIAO,
    )
    assert contract.client.iam_calls == 1


def test_cancel_auto_renew_then_cancel_again(contract: Contract) -> None:
    async def cancel_twice(c: BssClient) -> tuple[bool, bool]:
        first = await c.cancel_auto_renewal_resources(XINGHE, XINGHE_WEB_01)
        second = await c.cancel_auto_renewal_resources(XINGHE, XINGHE_WEB_01)
        return first, second

    assert contract.call(cancel_twice) == (True, False)
    assert policies(contract, XINGHE, XINGHE_WEB_01, *XINGHE_WEB_01_ATTACHED) == [0, 0, 0]
    logged = contract.control.calls("cancel_auto_renewal_resources")
    assert [(c["status"], c["error_code"]) for c in logged] == [
        (204, None),
        (400, "CBC.99003605"),
    ]
    assert contract.client.iam_calls == 1  # the customer's credentials are cached


def test_enable_is_set_to_state(contract: Contract) -> None:
    contract.call(lambda c: c.auto_renewal_resources(XINGHE, XINGHE_WEB_01))
    assert policies(contract, XINGHE, XINGHE_WEB_01, XINGHE_WEB_01_DISK) == [3, 3]
    assert contract.statuses("auto_renewal_resources") == [204]


Action = Callable[[BssClient], Awaitable[Any]]

AUTO_RENEW_ERRORS = [
    pytest.param(lambda c: c.auto_renewal_resources(HUAXIA, HUAXIA_OLD_LMS),
                 400, "CBC.99003602", id="enable-expired"),
    pytest.param(lambda c: c.auto_renewal_resources(HAINA, HAINA_FEATURE_CACHE),
                 400, "CBC.99003602", id="enable-frozen"),
    pytest.param(lambda c: c.auto_renewal_resources(XINGHE, NOT_OURS),
                 400, "CBC.99003012", id="enable-unknown-resource"),
    pytest.param(lambda c: c.auto_renewal_resources(JINQIAO, XINGHE_WEB_01),
                 400, "CBC.99003012", id="enable-another-customers-resource"),
    pytest.param(lambda c: c.cancel_auto_renewal_resources(XINGHE, NOT_OURS),
                 400, "CBC.99003012", id="cancel-unknown-resource"),
    pytest.param(lambda c: c.auto_renewal_resources(XINGHE, XINGHE_WEB_01_DISK),
                 400, "CBC.0100", id="enable-attached-resource"),
]  # fmt: skip


@pytest.mark.parametrize(("action", "status", "code"), AUTO_RENEW_ERRORS)
def test_auto_renew_errors(contract: Contract, action: Action, status: int, code: str) -> None:
    before = contract.control.state()["resources"]
    with pytest.raises(ApiError) as info:
        contract.call(action)
    assert (type(info.value), info.value.status, info.value.error_code) == (ApiError, status, code)
    iam, call = contract.control.calls()  # credentials from IAM, then the one refused call
    assert (iam["operation"], iam["status"]) == ("iam_create_temporary_access_key", 201)
    assert call["operation"].endswith("auto_renewal_resources")
    assert (call["status"], call["error_code"], call["caller"]["kind"]) == (
        status,
        code,
        "customer",
    )
    assert contract.control.state()["resources"] == before


@pytest.mark.parametrize(
    ("revoke", "customer_id", "resource_id"),
    [
        pytest.param(False, LINGYUN, LINGYUN_GAME_SERVER, id="never-granted"),
        pytest.param(True, XINGHE, XINGHE_WEB_01, id="revoked"),
    ],
)
def test_customer_without_the_agency(
    contract: Contract, revoke: bool, customer_id: str, resource_id: str
) -> None:
    if revoke:
        contract.control.set_agency(customer_id, False)
    with pytest.raises(AuthError) as info:
        contract.call(lambda c: c.auto_renewal_resources(customer_id, resource_id))
    error = info.value
    assert (error.status, error.error_code) == (403, "IAM.0002")
    assert (
        f"IAM refused temporary credentials for customer {customer_id} "
        f"through the agency {AGENCY!r}" in str(error)
    )
    (iam,) = contract.control.calls()  # IAM refused; no BSS call was attempted
    assert (iam["operation"], iam["status"]) == ("iam_create_temporary_access_key", 403)


# --- account-wide renew config and manual renewal ----------------------------------------------
@pytest.mark.parametrize(
    ("name", "value"),
    [("DEDUCTION_DATE", "3"), ("EXPIRE_DATE", "-1"), ("EXPIRE_DATE", "28")],
    ids=["charge-day", "last-day-of-month", "day-28"],
)
def test_set_resources_renew_config(contract: Contract, name: str, value: str) -> None:
    assert contract.call(lambda c: c.set_resources_renew_config(XINGHE, name, value)) is None
    assert contract.control.state()["customers"][XINGHE]["renew_config"] == {name: value}
    (call,) = contract.control.calls("set_resources_renew_config")
    assert (call["status"], call["caller"]["account_id"]) == (200, XINGHE)


def test_renewal_orders_and_per_resource_failures(contract: Contract) -> None:
    result = contract.call(
        lambda c: c.renewal_resources(
            HAINA, [HAINA_TRAIN_01, HAINA_FEATURE_CACHE], period_type=2, period_num=1
        )
    )
    assert len(result.order_ids) == 1
    assert [(f.id, f.error_code) for f in result.failures] == [
        (HAINA_FEATURE_CACHE, "CBC.99003602")
    ]
    assert contract.statuses("renewal_resources") == [200]
    # is_auto_pay=0: an unpaid order; nothing was extended
    resources = contract.control.state()["resources"]
    assert resources[HAINA_TRAIN_01]["expire_time"] == "2027-04-01T15:59:59Z"
    assert resources[XINGHE_ORDERS_DB]["expire_policy"] == 0
