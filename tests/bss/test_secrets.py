# mypy: allow-untyped-defs, allow-incomplete-defs, allow-untyped-calls
# (the [tool.mypy] "tests.*" override, until tests/ is a package: see docs/client.md)
"""Canary credentials through the whole client: nothing secret in reprs, errors or logs."""

from __future__ import annotations

import logging
import traceback
from decimal import Decimal

import httpx

from reconciler.bss import Credentials, Secret
from reconciler.emulator.clock import VirtualClock
from reconciler.errors import ReconcilerError

from .fakes import IAM_PATH, FakeBss, make_client, reply

CANARY_AK = "CANARYAK0000ZZZZ9999"
CANARY_SK = "canary-sk-must-never-leak-0000000000000001"
TEMP_AK = "TEMPCANARYAK00000001"
TEMP_SK = "temp-canary-sk-must-never-leak-000000002"
TEMP_TOKEN = "temp-canary-security-token-must-never-leak-000000000003"
CANARIES = (CANARY_AK, CANARY_SK, TEMP_AK, TEMP_SK, TEMP_TOKEN)


def _request() -> httpx.Request:
    return httpx.Request("POST", "https://bss.myhuaweicloud.com/")


def test_canaries_never_leak(caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="reconciler")  # a CLI test may have raised it
    clock = VirtualClock()
    fake = FakeBss(clock)
    iam = {
        "credential": {
            "access": TEMP_AK,
            "secret": TEMP_SK,
            "securitytoken": TEMP_TOKEN,
            "expires_at": "2026-01-01T00:15:00Z",
        }
    }
    fake.on("POST", IAM_PATH, reply(201, iam))
    fake.on(
        "POST",
        "/v2/orders/subscriptions/resources/autorenew/r1",
        reply(403, {"error_code": "CBC.0151", "error_msg": "denied"}, x_request_id="rid-1"),
    )
    fake.on(
        "POST",
        "/v2/partners/coupon-quotas/indirect-partner-adjust",
        reply(429, {"error_code": "APIG.0308", "error_msg": "throttled"}),
        httpx.ReadTimeout("timed out", request=_request()),
    )
    fake.on("POST", "/v2/partners/sub-customers/query", httpx.ConnectError("refused"))
    creds = Credentials(ak=CANARY_AK, sk=Secret(CANARY_SK), domain_id="dom")
    errors: list[BaseException] = []

    async def main():
        async with make_client(fake, credentials=creds, agency_name="agency") as client:
            texts = [repr(client), repr(creds), str(creds)]
            for call in (
                client.auto_renewal_resources("cust-1", "r1"),
                client.update_coupon_quotas("q", ["ip"], Decimal("1.00")),
                client.list_sub_customers(),
            ):
                try:
                    await call
                except ReconcilerError as exc:
                    errors.append(exc)
                    logging.getLogger("reconciler.apply.executor").exception("call failed")
                    logging.getLogger("reconciler.bss.client").error("failed: %r", exc)
            return texts

    texts = clock.run(main())
    assert [type(e).__name__ for e in errors] == [
        "AuthError",
        "OutcomeUnknownError",
        "TransportError",
    ]
    for exc in errors:
        texts.append(str(exc))
        texts.append(repr(exc))
        texts.append("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    texts.append(caplog.text)
    texts.extend(r.getMessage() for r in caplog.records)
    texts.extend(r.exc_text or "" for r in caplog.records)
    blob = "\n".join(texts)
    for canary in CANARIES:
        assert canary not in blob, canary
    assert "retrying POST /v2/partners/coupon-quotas/indirect-partner-adjust" in caplog.text
    # the temporary credentials really were used on the wire
    assert (
        fake.calls("/v2/orders/subscriptions/resources/autorenew/r1")[0].headers["x-security-token"]
        == TEMP_TOKEN
    )
