"""The /_emulator/ control plane, unknown routes (501), request ids and the response envelope."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from reconciler.emulator import Emulator, EmulatorRequest, SystemClock, VirtualClock

from . import demo
from .client import Api

SUB = "/v2/partners/sub-customers/query"


def control(
    emu: Emulator, method: str, path: str, body: Any = None, query: str = ""
) -> tuple[int, Any]:
    raw = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    response = emu.handle(EmulatorRequest(method, path, query, {}, raw))
    assert response.headers["X-Request-Id"]
    return response.status, json.loads(response.body) if response.body else None


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v2/partners/sub-customers/query"),
        ("POST", "/v2/bills/ratings/period-resources/renew-rate"),
        ("POST", "/v2/accounts/partner-accounts/balances"),
        ("GET", "/v2/accounts/partner-accounts/adjust-records"),
        ("POST", "/v2/orders/subscriptions/resources/query"),
        ("POST", "/v2/partners/sub-customers/query/"),
        ("GET", "/"),
    ],
    ids=[
        "wrong-method",
        "out-of-scope",
        "balances-wrong-method",
        "adjust-records-on-v2",
        "correctly-spelt-path",
        "trailing-slash",
        "root",
    ],
)
def test_unknown_and_out_of_scope_routes_are_501(api: Api, method: str, path: str) -> None:
    reply = api.request(method, path, body={} if method == "POST" else None)
    assert reply.status == 501
    assert reply.json == {
        "error_code": "EMULATOR.0501",
        "error_msg": f"not implemented by the emulator: {method} {path}",
    }


def test_every_response_has_a_unique_deterministic_request_id(clock: VirtualClock) -> None:
    def ids(emu: Emulator) -> list[str]:
        api = Api(emu)
        replies = [api.post(SUB, {}), api.get("/nope"), api.post(SUB, {"limit": 0})]
        assert control(emu, "GET", "/_emulator/faults")[0] == 200
        return [r.headers["x-request-id"] for r in replies]

    first, second = ids(Emulator(clock=clock)), ids(Emulator(clock=clock))
    assert first == second
    assert len(set(first)) == 3
    assert ids(Emulator(clock=clock, rng_seed=7)) != first


def test_reset_and_seed_over_http(emu: Emulator) -> None:
    emu.set_account_manager(demo.XINGHE, None)
    assert control(emu, "POST", "/_emulator/reset") == (200, {"reset": True})
    assert emu._store.state.customers[demo.XINGHE].account_manager == "zhang.wei"
    seed = (
        b"partner: {domain_id: 0a1b2c3d4e5f40718293a4b5c6d7e8f9, account_name: x, xaccount_type: y}"
    )
    assert control(emu, "POST", "/_emulator/seed", seed)[0] == 200
    assert emu._store.state.customers == {}
    assert control(emu, "POST", "/_emulator/reset", {"customers": [{"customer_id": "c1"}]}) == (
        400,
        {"error_code": "EMULATOR.0400",
         "error_msg": "request body: 1 problem(s):\n  customers[0].account_name: required"},
    )  # fmt: skip
    assert control(emu, "POST", "/_emulator/seed")[0] == 400


def test_state_dump_has_amounts_as_strings(emu: Emulator) -> None:
    status, state = control(emu, "GET", "/_emulator/state")
    assert status == 200
    assert state["quotas"][demo.QUOTA_MAIN]["balance"] == "445000.00"
    assert "sk" not in json.dumps(state["partner"])


def test_account_manager_control(emu: Emulator) -> None:
    path = f"/_emulator/customers/{demo.RUIXIN}/account-manager"
    assert control(emu, "PUT", path, {"account_name": "chen.jie"})[0] == 200
    assert emu._store.state.customers[demo.RUIXIN].account_manager == "chen.jie"
    assert control(emu, "PUT", path, {"account_name": None})[0] == 200
    assert emu._store.state.customers[demo.RUIXIN].account_manager is None
    status, body = control(emu, "PUT", path, {"account_name": "nobody"})
    assert status == 400 and "unknown account manager" in body["error_msg"]
    assert (
        control(emu, "PUT", "/_emulator/customers/nope/account-manager", {"account_name": None})[0]
        == 404
    )


def test_agency_control(emu: Emulator) -> None:
    assert (
        control(emu, "PUT", f"/_emulator/customers/{demo.LINGYUN}/agency", {"granted": True})[0]
        == 200
    )
    assert emu._store.state.customers[demo.LINGYUN].agency_granted is True


@pytest.mark.parametrize(
    ("amount", "status", "balance"),
    [("12.34", 200, "29987.66"), (12, 200, "29988.00"), ("0", 400, "30000.00"),
     ("1.234", 400, "30000.00"), ("30000.01", 400, "30000.00")],
    ids=["string", "integer", "zero", "three-decimals", "more-than-balance"],
)  # fmt: skip
def test_spend_control(emu: Emulator, amount: Any, status: int, balance: str) -> None:
    got, _ = control(
        emu, "POST", f"/_emulator/quotas/{demo.CHILD_TIANFU}/spend", {"amount": amount}
    )
    assert got == status
    assert emu._store.state.quotas[demo.CHILD_TIANFU].balance == Decimal(balance)


def test_spend_refuses_distributor_quotas(emu: Emulator) -> None:
    assert (
        control(emu, "POST", f"/_emulator/quotas/{demo.QUOTA_MAIN}/spend", {"amount": "1"})[0]
        == 404
    )


def test_patch_resource_is_console_drift(api: Api, emu: Emulator) -> None:
    status, body = control(
        emu, "PATCH", f"/_emulator/resources/{demo.XINGHE_WEB_01}", {"expire_policy": 1}
    )
    assert (status, body["expire_policy"]) == (200, 1)
    data = api.post("/v2/orders/suscriptions/resources/query", {"customer_id": demo.XINGHE}).json[
        "data"
    ]
    assert {r["expire_policy"] for r in data[:3]} == {1}
    assert (
        control(
            emu, "PATCH", f"/_emulator/resources/{demo.XINGHE_WEB_01_DISK}", {"expire_policy": 3}
        )[0]
        == 400
    )
    assert (
        control(emu, "PATCH", f"/_emulator/resources/{demo.XINGHE_WEB_01}", {"status": 9})[0] == 400
    )
    assert (
        control(emu, "PATCH", f"/_emulator/resources/{demo.XINGHE_WEB_01}", {"colour": 1})[0] == 400
    )
    assert control(emu, "PATCH", "/_emulator/resources/nope", {"status": 2})[0] == 404


def test_patch_quota(emu: Emulator) -> None:
    path = f"/_emulator/quotas/{demo.QUOTA_SECOND}"
    assert control(emu, "PATCH", path, {"quota_status": 5})[1]["quota_status"] == 5
    assert control(emu, "PATCH", path, {"expire_time": "soon"})[0] == 400


def test_call_log_over_http(api: Api, emu: Emulator) -> None:
    api.post(SUB, {})
    api.get("/v2/partners/issued-coupon-quotas", {"limit": 1})
    status, body = control(emu, "GET", "/_emulator/calls", query="operation=list_sub_customers")
    assert status == 200
    [call] = body["calls"]
    assert call["caller"] == {"kind": "partner", "account_id": "0a1b2c3d4e5f40718293a4b5c6d7e8f9",
                              "account_name": "demo-distributor", "role": "admin"}  # fmt: skip
    assert (call["status"], call["mutated"], call["method"]) == (200, False, "POST")
    text = json.dumps(body)
    assert "emulator-partner-secret-key" not in text and "Signature=" not in text
    assert len(control(emu, "GET", "/_emulator/calls")[1]["calls"]) == 2
    assert control(emu, "DELETE", "/_emulator/calls")[0] == 200
    assert emu.call_log() == []


def test_control_plane_is_not_logged_or_rate_limited(emu: Emulator) -> None:
    for _ in range(30):
        assert control(emu, "GET", "/_emulator/faults")[0] == 200
    assert emu.call_log() == []


def test_clock_advance(emu: Emulator, clock: VirtualClock) -> None:
    assert control(emu, "POST", "/_emulator/clock/advance", {"seconds": 3600}) == (
        200,
        {"now": "2026-01-01T01:00:00Z"},
    )
    real = Emulator(clock=SystemClock())
    assert control(real, "POST", "/_emulator/clock/advance", {"seconds": 1})[0] == 400


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/_emulator/nothing", 404),
        ("GET", "/_emulator/reset", 405),
        ("PUT", "/_emulator/state", 405),
    ],
    ids=["unknown", "wrong-method-reset", "wrong-method-state"],
)
def test_control_plane_errors(emu: Emulator, method: str, path: str, status: int) -> None:
    got, body = control(emu, method, path)
    assert got == status
    assert body["error_code"] == f"EMULATOR.{status:04d}"


def test_amounts_are_bare_numbers_with_two_decimals(api: Api) -> None:
    body = api.post("/v2/partners/coupon-quotas/query", {"quota_ids": [demo.QUOTA_SECOND]}).body
    assert b'"quota_value":200000.00,' in body
    assert b'"balance":185000.00,' in body
    assert b'"200000.00"' not in body


def test_a_handler_bug_is_a_500_not_a_crash(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from reconciler.emulator import pipeline

    def broken(call: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setitem(pipeline.HANDLERS, "list_sub_customers", broken)
    reply = api.post(SUB, {})
    assert (reply.status, reply.code) == (500, "CBC.0999")


def test_partner_identity_properties(emu: Emulator) -> None:
    assert emu.agency_name == "demo_distributor_platform"
    assert emu.partner_domain_id == "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
