"""The issue's "done when": ``reconciler emulator serve`` (the real CLI, its own process) answers a
correctly signed ``POST /v2/partners/sub-customers/query`` with the seeded customers and rejects a
wrongly signed one with 401.
"""

from __future__ import annotations

import asyncio
import re
import time

import httpx
import pytest

from reconciler.bss import BssClient
from reconciler.bss.signing import sign_for
from reconciler.errors import AuthError

from .harness import DEMO_DOC, open_contract, partner_credentials

LISTENING = re.compile(r"^emulator listening on (http://127\.0\.0\.1:\d+) \(partner AK \S+\)$")
SUB_CUSTOMERS = "/v2/partners/sub-customers/query"


@pytest.mark.slow
def test_cli_served_emulator_answers_signed_and_rejects_wrongly_signed(served_url: str) -> None:
    seeded = {c["customer_id"]: c["account_name"] for c in DEMO_DOC["customers"]}

    async def scenario() -> tuple[dict[str, str | None], int, AuthError, httpx.Response]:
        async with BssClient(served_url, partner_credentials()) as good:
            page = await good.list_sub_customers(limit=100)
        async with BssClient(served_url, partner_credentials(sk="wrong-secret")) as bad:
            with pytest.raises(AuthError) as info:
                await bad.list_sub_customers(limit=100)
        # The same request, signed correctly, then one byte of the body changed after signing.
        body = b'{"offset": 0, "limit": 100}'
        url, signed = sign_for(
            "POST", served_url, SUB_CUSTOMERS, query=(), body=body,
            credentials=partner_credentials(), now=time.time(), user_agent="contract-test",
        )  # fmt: skip
        async with httpx.AsyncClient() as http:
            changed = body.replace(b"100", b"99")  # still valid, no longer signed
            tampered = await http.post(url, headers=signed.headers, content=changed)
        found = {c.customer_id: c.account_name for c in page.items}
        return found, page.total, info.value, tampered

    found, total, rejected, tampered = asyncio.run(scenario())
    assert found == seeded
    assert total == len(seeded) == 25
    assert (rejected.status, rejected.error_code) == (401, "APIG.0301")
    assert rejected.request_id
    assert tampered.status_code == 401
    assert tampered.json()["error_code"] == "APIG.0301"


def test_kept_alive_answers_are_not_held_back() -> None:
    """Regression: with Nagle's algorithm on, each response body waited for the client's delayed
    ACK of its headers (~40 ms on Linux), so 25 calls on one connection took over a second."""
    with open_contract("served") as contract:
        contract.control.calls()  # connect first
        start = time.perf_counter()
        for _ in range(25):
            contract.control.calls()
        assert time.perf_counter() - start < 0.5
