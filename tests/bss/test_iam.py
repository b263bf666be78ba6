# mypy: allow-untyped-defs, allow-incomplete-defs, allow-untyped-calls
# (the [tool.mypy] "tests.*" override, until tests/ is a package: see docs/client.md)
"""Acting for a customer: temporary credentials from IAM, cached and shared (REFERENCE §2.6)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from reconciler.bss import BssClient
from reconciler.bss.iam import parse_expiry
from reconciler.emulator.clock import VIRTUAL_EPOCH, VirtualClock
from reconciler.errors import ApiError, AuthError, ConfigError

from .fakes import AK, IAM_PATH, SK, FakeBss, iam_reply, make_client, reply, verify

AUTORENEW = "/v2/orders/subscriptions/resources/autorenew/{}"
RENEW_CONFIG = "/v2/orders/subscriptions/resources/renew/config"


class Iam:
    """An IAM route that mints numbered credentials and counts the calls per customer."""

    def __init__(self, expires_in: float = 900.0, clock: VirtualClock | None = None) -> None:
        self.minted = 0
        self.expires_in = expires_in
        self.clock = clock

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.minted += 1
        assert self.clock is not None
        expiry = self.clock.time() + self.expires_in
        stamp = f"{_iso(expiry)}.000000Z"
        return iam_reply(self.minted, stamp)


def _iso(epoch: float) -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch))


def _setup(**client_kwargs: Any) -> tuple[VirtualClock, FakeBss, Iam, BssClient]:
    clock = VirtualClock()
    fake = FakeBss(clock, latency=0.05)
    iam = Iam(clock=clock)
    fake.on("POST", IAM_PATH, iam)
    for rid in ("r1", "r2", "r3"):
        fake.on("POST", AUTORENEW.format(rid), reply(204))
        fake.on("DELETE", AUTORENEW.format(rid), reply(204))
    fake.on("POST", RENEW_CONFIG, reply(200, {"error_code": "CBC.0000", "error_msg": "ok"}))
    client_kwargs.setdefault("agency_name", "partner-agency")
    return clock, fake, iam, make_client(fake, **client_kwargs)


def test_one_iam_call_per_customer_for_many_concurrent_callers():
    clock, fake, iam, client = _setup()

    async def main():
        async with client:
            calls = [
                client.auto_renewal_resources(customer, rid)
                for customer in ("cust-1", "cust-2")
                for rid in ("r1", "r2", "r3")
                for _ in range(5)
            ]
            await asyncio.gather(*calls)
            return client.iam_calls

    assert clock.run(main()) == 2
    assert iam.minted == 2
    assert len(fake.calls(IAM_PATH)) == 2


def test_iam_request_and_customer_call_are_signed_correctly():
    clock, fake, _, client = _setup()

    async def main():
        async with client:
            await client.cancel_auto_renewal_resources("cust-1", "r1")

    clock.run(main())
    iam_call, bss_call = fake.seen
    assert iam_call.headers["host"] == "iam.myhuaweicloud.com"
    assert iam_call.body == (
        b'{"auth": {"identity": {"methods": ["assume_role"], "assume_role": '
        b'{"agency_name": "partner-agency", "domain_id": "cust-1", "duration_seconds": 900}}}}'
    )
    assert verify(iam_call, SK)[0] == AK
    assert bss_call.headers["host"] == "bss.myhuaweicloud.com"
    assert bss_call.method == "DELETE"
    assert bss_call.body == b""
    assert bss_call.headers["x-security-token"] == f"tmpSecurityToken{1:040d}"
    assert bss_call.headers["x-domain-id"] == "cust-1"
    ak, names = verify(bss_call, f"tmpSecretKey{1:030d}")
    assert ak == f"TMPAK{1:015d}"
    assert "x-security-token" in names


def test_credentials_refreshed_60s_before_expiry():
    clock, fake, iam, client = _setup()

    async def main():
        async with client:
            await client.auto_renewal_resources("cust-1", "r1")
            await clock.sleep(900 - 61 - 1)  # still fresh
            await client.auto_renewal_resources("cust-1", "r1")
            first = client.iam_calls
            await clock.sleep(5)  # now inside the last minute
            await client.auto_renewal_resources("cust-1", "r1")
            return first, client.iam_calls

    assert clock.run(main()) == (1, 2)
    assert iam.minted == 2
    last = fake.calls(AUTORENEW.format("r1"))[-1]
    assert last.headers["x-security-token"] == f"tmpSecurityToken{2:040d}"


def test_agency_not_granted_is_a_clear_auth_error_and_asked_once():
    clock, fake, _, client = _setup()
    fake.on("POST", IAM_PATH, reply(403, {"error": {"code": 403, "message": "forbidden"}}))

    async def main():
        async with client:
            results = await asyncio.gather(
                *(client.auto_renewal_resources("cust-9", "r1") for _ in range(4)),
                return_exceptions=True,
            )
            return results

    results = clock.run(main())
    assert all(isinstance(r, AuthError) for r in results)
    message = str(results[0])
    assert (
        "for customer cust-9 through the agency 'partner-agency': the customer has not granted it"
        in message
    )
    assert message.startswith("POST /v3.0/OS-CREDENTIAL/securitytokens -> 403 403:")
    assert len(fake.calls(IAM_PATH)) == 1
    assert fake.calls(AUTORENEW.format("r1")) == []


def test_a_check_that_keeps_nothing_caches_neither_credentials_nor_a_refusal():
    """``keep=False`` (a plan's agency check): the credentials are had, then not kept, nor
    their secrets registered for masking once dropped; a refusal is not remembered either."""
    import gc

    from reconciler.bss.redact import scrub

    clock, fake, iam, client = _setup()
    fake.on("POST", IAM_PATH, iam)

    async def main():
        async with client:
            creds = await client.customer_credentials("cust-1", keep=False)
            secret = creds.sk.reveal()
            assert scrub(f"x {secret} y") == "x *** y"  # registered while in use
            del creds
            gc.collect()
            masked_after = scrub(f"x {secret} y")
            await client.customer_credentials("cust-1", keep=False)
            kept = await client.customer_credentials("cust-1")  # an apply's: cached
            again = await client.customer_credentials("cust-1")
            return masked_after, secret, kept is again, client.iam_calls

    masked_after, secret, same, calls = clock.run(main())
    assert masked_after == f"x {secret} y"  # unregistered: nothing holds the secret
    assert same and calls == 3  # two checks keep nothing; the third call is cached

    clock, fake, _, client = _setup()
    fake.on("POST", IAM_PATH, reply(403, {"error": {"code": 403, "message": "forbidden"}}))

    async def denied():
        async with client:
            for _ in range(2):
                with pytest.raises(AuthError):
                    await client.customer_credentials("cust-9", keep=False)
            return len(fake.calls(IAM_PATH))

    assert clock.run(denied()) == 2  # each check asks IAM: no refusal is cached


def test_missing_agency_name_is_a_config_error():
    clock, fake, _, client = _setup(agency_name=None)

    async def main():
        async with client:
            with pytest.raises(ConfigError, match="agency_name"):
                await client.set_resources_renew_config("cust-1", "DEDUCTION_DATE", "3")

    clock.run(main())
    assert fake.seen == []


def test_expired_customer_credentials_renewed_once_on_401():
    clock, fake, _, client = _setup()
    expired = reply(401, {"error_code": "APIG.0307", "error_msg": "token expired"})
    fake.on("POST", AUTORENEW.format("r1"), expired, reply(204))

    async def main():
        async with client:
            await client.auto_renewal_resources("cust-1", "r1", auto_renew_times=0)
            return client.iam_calls

    assert clock.run(main()) == 2
    sent = fake.calls(AUTORENEW.format("r1"))
    assert [s.headers["x-security-token"][-1] for s in sent] == ["1", "2"]
    assert sent[1].body == b'{"auto_renew_times": 0}'


def test_renew_config_success_code_and_failure_code():
    clock, fake, _, client = _setup()

    async def main():
        async with client:
            await client.set_resources_renew_config("cust-1", "EXPIRE_DATE", "-1")
            fake.on("POST", RENEW_CONFIG, reply(200, {"error_code": "CBC.0100", "error_msg": "x"}))
            with pytest.raises(ApiError, match=r"CBC\.0100"):
                await client.set_resources_renew_config("cust-1", "EXPIRE_DATE", "28")

    clock.run(main())
    assert fake.calls(RENEW_CONFIG)[0].body == (
        b'{"config_name": "EXPIRE_DATE", "config_value": "-1"}'
    )


def test_iam_endpoint_defaults():
    from reconciler.bss import default_iam_endpoint

    assert default_iam_endpoint("https://bss.myhuaweicloud.com") == "https://iam.myhuaweicloud.com"
    assert default_iam_endpoint("http://127.0.0.1:8443") == "http://127.0.0.1:8443"


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("2026-01-01T00:15:00.000000Z", 900.0),
        ("2026-01-01T00:15:00Z", 900.0),
        ("2026-01-01T00:15:00.5Z", 900.5),
        ("2026-01-01T08:15:00+08:00", 900.0),
    ],
)
def test_parse_expiry(text, offset):
    assert parse_expiry(text) == VIRTUAL_EPOCH + offset
