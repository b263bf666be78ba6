"""Fault injection through the async transport on a virtual clock, and the CBC.50000045 window."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import pytest

from reconciler.emulator import Emulator, LatencyModel, VirtualClock

from . import demo
from .client import Api, Reply

T = TypeVar("T")
ISSUE = "/v2/partners/coupon-quotas/indirect-partner-adjust"
RECLAIM = "/v2/partners/coupon-quotas/indirect-partner-reclaim"
SUB = "/v2/partners/sub-customers/query"
ISSUE_BODY = {
    "quota_id": demo.QUOTA_MAIN,
    "indirect_partner_ids": [demo.TIANFU],
    "quota_amount": "100.00",
}


def run(emu: Emulator, clock: VirtualClock, body: Callable[[httpx.AsyncClient], Awaitable[T]]) -> T:
    async def main() -> T:
        async with httpx.AsyncClient(transport=emu.async_transport()) as client:
            return await body(client)

    return clock.run(main())


def balance(emu: Emulator) -> Decimal:
    return emu._store.state.quotas[demo.QUOTA_MAIN].balance


def test_commit_then_drop_raises_remote_protocol_error_after_commit(
    api: Api, emu: Emulator, clock: VirtualClock
) -> None:
    emu.add_fault("update_coupon_quotas", "commit_then_drop")

    async def body(client: httpx.AsyncClient) -> None:
        with pytest.raises(httpx.RemoteProtocolError, match="Server disconnected"):
            await api.arequest(client, "POST", ISSUE, body=ISSUE_BODY)

    run(emu, clock, body)
    assert balance(emu) == Decimal("444900.00")  # committed
    last = emu.call_log("update_coupon_quotas")[-1]
    assert (last["fault"], last["mutated"], last["drop"]) == (
        ["commit_then_drop"],
        True,
        "after_commit",
    )
    assert api.post(ISSUE, ISSUE_BODY).status == 200  # count=1: the next call is normal


def test_drop_before_commit_executes_nothing(api: Api, emu: Emulator, clock: VirtualClock) -> None:
    emu.add_fault("update_coupon_quotas", "drop_before_commit")

    async def body(client: httpx.AsyncClient) -> None:
        with pytest.raises(httpx.RemoteProtocolError):
            await api.arequest(client, "POST", ISSUE, body=ISSUE_BODY)

    run(emu, clock, body)
    assert balance(emu) == Decimal("445000.00")
    last = emu.call_log("update_coupon_quotas")[-1]
    assert (last["status"], last["mutated"], last["drop"]) == (None, False, "before_commit")


def test_latency_beyond_the_read_timeout_is_a_read_timeout_after_commit(
    api: Api, emu: Emulator, clock: VirtualClock
) -> None:
    emu.add_fault("update_coupon_quotas", "latency", seconds=30)

    async def body(client: httpx.AsyncClient) -> float:
        start = clock.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            await api.arequest(client, "POST", ISSUE, body=ISSUE_BODY, timeout=5.0)
        return clock.monotonic() - start

    waited = run(emu, clock, body)
    assert waited == pytest.approx(5.0)  # slept the client's timeout on the virtual clock
    assert balance(emu) == Decimal("444900.00")


def test_latency_below_the_timeout_is_just_slow(
    api: Api, emu: Emulator, clock: VirtualClock
) -> None:
    emu.add_fault("list_sub_customers", "latency", seconds=2.5)

    async def body(client: httpx.AsyncClient) -> tuple[int, float]:
        start = clock.monotonic()
        reply = await api.arequest(client, "POST", SUB, body={}, timeout=5.0)
        return reply.status, clock.monotonic() - start

    status, waited = run(emu, clock, body)
    assert (status, waited) == (200, 2.5)


def test_http_500_does_not_execute(api: Api, emu: Emulator, clock: VirtualClock) -> None:
    emu.add_fault("update_coupon_quotas", "http_500")
    reply = run(emu, clock, lambda c: api.arequest(c, "POST", ISSUE, body=ISSUE_BODY))
    assert (reply.status, reply.code) == (500, "CBC.0999")
    assert balance(emu) == Decimal("445000.00")


def test_throttle_burst_then_skip(api: Api, emu: Emulator, clock: VirtualClock) -> None:
    emu.add_fault("list_sub_customers", "throttle", count=3, skip=1)

    async def body(client: httpx.AsyncClient) -> list[Reply]:
        return [await api.arequest(client, "POST", SUB, body={}) for _ in range(5)]

    replies = run(emu, clock, body)
    assert [r.status for r in replies] == [200, 429, 429, 429, 200]
    assert replies[1].code == "APIG.0308"
    fault = emu.faults()[0]
    assert (fault["remaining"], fault["applied"], fault["skip"]) == (0, 3, 0)


def test_item_error_fails_listed_resellers_without_executing_them(
    api: Api, emu: Emulator, clock: VirtualClock
) -> None:
    emu.add_fault(
        "update_coupon_quotas", "item_error", ids=[demo.QINLING], error_code="CBC.99000099"
    )
    body = {**ISSUE_BODY, "indirect_partner_ids": [demo.TIANFU, demo.QINLING, demo.PENGCHENG]}
    reply = run(emu, clock, lambda c: api.arequest(c, "POST", ISSUE, body=body))
    assert reply.status == 200
    message = f"Issuing quota to reseller {demo.QINLING} failed."
    assert reply.json["error_details"] == [
        {"error_code": "CBC.99000099", "error_msg": message, "id": demo.QINLING}
    ]
    assert len(reply.json["simple_quota_infos"]) == 2
    assert balance(emu) == Decimal("444800.00")


def test_item_error_on_reclaim(api: Api, emu: Emulator) -> None:
    emu.add_fault("reclaim_coupon_quotas", "item_error", ids=[demo.CHILD_TIANFU])
    reply = api.post(RECLAIM, {"quota_ids": [demo.CHILD_TIANFU, demo.CHILD_QINLING]})
    assert [e["id"] for e in reply.json["error_details"]] == [demo.CHILD_TIANFU]
    assert reply.json["error_details"][0]["error_code"] == "CBC.0999"
    assert emu._store.state.quotas[demo.CHILD_TIANFU].quota_status == 0


def test_wildcard_fault_hits_any_operation(api: Api, emu: Emulator) -> None:
    emu.add_fault("*", "http_500", count=2)
    assert api.post(SUB, {}).status == 500
    assert api.get("/v2/partners/issued-coupon-quotas").status == 500
    assert api.post(SUB, {}).status == 200


def test_unauthenticated_calls_do_not_consume_faults(api: Api, emu: Emulator) -> None:
    emu.add_fault("list_sub_customers", "http_500")
    api.sk = "wrong"
    assert api.post(SUB, {}).status == 401
    assert emu.faults()[0]["remaining"] == 1


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"operation": "nope", "kind": "http_500"}, "unknown operation"),
        ({"operation": "*", "kind": "explode"}, "kind must be one of"),
        ({"kind": "latency"}, "seconds > 0"),
        ({"kind": "item_error"}, "needs ids"),
        ({"kind": "http_500", "count": 0}, "count must be"),
        ({"kind": "http_500", "colour": "red"}, "unknown fault field"),
    ],
    ids=["operation", "kind", "latency-seconds", "item-error-ids", "count", "unknown-field"],
)
def test_bad_fault_specs_are_400_on_the_control_plane(
    api: Api, spec: dict[str, Any], fragment: str
) -> None:
    control = Api(api.emu)
    reply = control.request("POST", "/_emulator/faults", body=spec)
    assert reply.status == 400
    assert fragment in reply.json["error_msg"]


def test_faults_over_http(api: Api, emu: Emulator) -> None:
    reply = api.request(
        "POST", "/_emulator/faults", body={"operation": "list_sub_customers", "kind": "http_500"}
    )
    assert reply.status == 201
    assert reply.json["id"] == "fault-1"
    assert len(api.request("GET", "/_emulator/faults").json["faults"]) == 1
    assert api.request("DELETE", "/_emulator/faults").status == 200
    assert emu.faults() == []


# --- the busy window (CBC.50000045) -----------------------------------------------------------
def test_a_second_write_on_the_same_parent_inside_the_latency_window_is_refused(
    clock: VirtualClock,
) -> None:
    from .conftest import DEMO_DOC

    emu = Emulator(clock=clock, seed=DEMO_DOC, latency=LatencyModel.constant(2.0))
    api = Api(emu)

    async def body(client: httpx.AsyncClient) -> list[Reply]:
        first = asyncio.create_task(api.arequest(client, "POST", ISSUE, body=ISSUE_BODY))
        await asyncio.sleep(0.5)
        second = asyncio.create_task(api.arequest(client, "POST", ISSUE, body=ISSUE_BODY))
        other = asyncio.create_task(
            api.arequest(client, "POST", ISSUE, body={**ISSUE_BODY, "quota_id": demo.QUOTA_SECOND})
        )
        reclaim = asyncio.create_task(
            api.arequest(client, "POST", RECLAIM, body={"quota_ids": [demo.CHILD_QINLING]})
        )
        replies = list(await asyncio.gather(first, second, other, reclaim))
        await asyncio.sleep(2.0)
        replies.append(await api.arequest(client, "POST", ISSUE, body=ISSUE_BODY))
        return replies

    first, second, other, reclaim, later = run(emu, clock, body)
    assert first.status == 200
    assert (second.status, second.code) == (400, "CBC.50000045")
    assert other.status == 200  # another parent quota is not busy
    assert (reclaim.status, reclaim.code) == (400, "CBC.50000045")  # its parent is QUOTA_MAIN
    assert later.status == 200
    assert balance(emu) == Decimal("444800.00")


def test_zero_latency_never_reports_busy(api: Api) -> None:
    assert [api.post(ISSUE, ISSUE_BODY).status for _ in range(3)] == [200, 200, 200]


# --- hold and field ------------------------------------------------------------------------
def test_a_held_request_executes_after_its_hold_and_others_go_on_meanwhile(
    api: Api, emu: Emulator, clock: VirtualClock
) -> None:
    emu.add_fault("update_coupon_quotas", "hold", seconds=30)
    seen: list[tuple[float, Any]] = []

    async def body(client: httpx.AsyncClient) -> None:
        async def watch() -> None:
            await clock.sleep(1)
            [held] = emu.call_log("update_coupon_quotas")
            seen.append((clock.time(), (held["held"], held["status"], balance(emu))))
            reply = await api.arequest(client, "POST", SUB, body={})  # not blocked by the hold
            seen.append((clock.time(), reply.status))

        start = clock.time()
        issue, _ = await asyncio.gather(
            api.arequest(client, "POST", ISSUE, body=ISSUE_BODY), watch()
        )
        seen.append((clock.time() - start, issue.status))

    run(emu, clock, body)
    assert seen[0][1] == (True, None, Decimal("445000.00"))  # arrived, not executed
    assert seen[1][1] == 200
    assert seen[2][0] >= 30 and seen[2][1] == 200
    assert balance(emu) == Decimal("444900.00")
    [entry] = emu.call_log("update_coupon_quotas")
    assert (entry["held"], entry["status"], entry["mutated"], entry["fault"]) == (
        True, 200, True, ["hold"]
    )  # fmt: skip


def test_a_released_hold_goes_on_at_once(api: Api, emu: Emulator, clock: VirtualClock) -> None:
    fault = emu.add_fault("update_coupon_quotas", "hold", seconds=600)

    async def body(client: httpx.AsyncClient) -> float:
        async def release() -> None:
            await clock.sleep(2)
            assert Api(emu).request("POST", f"/_emulator/faults/{fault}/release").status == 200

        start = clock.time()
        await asyncio.gather(api.arequest(client, "POST", ISSUE, body=ISSUE_BODY), release())
        return clock.time() - start

    assert run(emu, clock, body) < 3
    assert emu.faults()[0]["released"] is True
    assert Api(emu).request("POST", "/_emulator/faults/fault-9/release").status == 404


@pytest.mark.parametrize(
    ("spec", "check"),
    [
        ({"field": "balance"}, lambda q: "balance" not in q),
        ({"field": "balance", "value": "lots"}, lambda q: q["balance"] == "lots"),
        ({"field": "quota_status", "value": None}, lambda q: q["quota_status"] is None),
    ],
    ids=["omit", "corrupt", "null"],
)
def test_a_field_fault_omits_or_corrupts_a_named_field(
    api: Api, emu: Emulator, spec: dict[str, Any], check: Callable[[dict[str, Any]], bool]
) -> None:
    emu.add_fault("list_quota_coupons", "field", **spec)
    reply = api.post("/v2/partners/coupon-quotas/query", {"limit": 10})
    assert reply.status == 200
    assert all(check(q) for q in reply.json["quotas"])
    normal = api.post("/v2/partners/coupon-quotas/query", {"limit": 10})  # count=1: used up
    assert all("balance" in q and q["quota_status"] == 0 for q in normal.json["quotas"])


def test_a_field_fault_with_ids_touches_only_those_objects(api: Api, emu: Emulator) -> None:
    emu.add_fault("list_quota_coupons", "field", field="balance", ids=[demo.QUOTA_MAIN])
    quotas = api.post("/v2/partners/coupon-quotas/query", {"limit": 10}).json["quotas"]
    assert {q["quota_id"]: "balance" in q for q in quotas} == {
        demo.QUOTA_MAIN: False, demo.QUOTA_SECOND: True, demo.QUOTA_COUPONS: True
    }  # fmt: skip


def test_a_field_fault_changes_top_level_fields_too(api: Api, emu: Emulator) -> None:
    emu.add_fault("list_sub_customers", "field", field="count", value="many")
    assert api.post(SUB, {}).json["count"] == "many"


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"kind": "hold"}, "a hold fault needs seconds > 0"),
        ({"kind": "field"}, 'a field fault needs "field"'),
        ({"kind": "http_500", "field": "x"}, '"field" belongs to a field fault only'),
        ({"kind": "http_500", "value": 1}, '"value" belongs to a field or page_limit fault'),
    ],
    ids=["hold-seconds", "field-name", "field-elsewhere", "value-elsewhere"],
)
def test_bad_hold_and_field_specs(api: Api, spec: dict[str, Any], fragment: str) -> None:
    reply = Api(api.emu).request("POST", "/_emulator/faults", body=spec)
    assert reply.status == 400
    assert fragment in reply.json["error_msg"]
