# mypy: allow-untyped-defs, allow-incomplete-defs, allow-untyped-calls
# (the [tool.mypy] "tests.*" override, until tests/ is a package: see docs/client.md)
"""The retry matrix: which failures each class of operation retries, and which become unknown."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from reconciler.bss import ApiStats, BssClient
from reconciler.bss.operations import CallKind
from reconciler.bss.retry import Backoff, Decision, Failure, decide
from reconciler.emulator.clock import VirtualClock
from reconciler.errors import (
    ApiError,
    OutcomeUnknownError,
    ServerError,
    ThrottledError,
    TransportError,
)

from .fakes import IAM_PATH, SK, FakeBss, Reply, Seen, iam_reply, make_client, reply

AUTORENEW = "/v2/orders/subscriptions/resources/autorenew/res-1"
OPERATIONS: dict[str, tuple[tuple[str, str], Callable[[BssClient], Awaitable[Any]], Reply]] = {
    "read": (
        ("POST", "/v2/partners/sub-customers/query"),
        lambda c: c.list_sub_customers(),
        reply(200, {"customer_infos": [], "count": 0}),
    ),
    "read-get": (
        ("GET", "/v2/partners/coupon-quotas/records"),
        lambda c: c.list_coupon_quotas_records(),
        reply(200, {"records": [], "total_count": 0}),
    ),
    "set-state": (
        ("POST", AUTORENEW),
        lambda c: c.auto_renewal_resources("cust-1", "res-1"),
        reply(204),
    ),
    "set-state-cancel": (
        ("DELETE", AUTORENEW),
        lambda c: c.cancel_auto_renewal_resources("cust-1", "res-1"),
        reply(204),
    ),
    "money-issue": (
        ("POST", "/v2/partners/coupon-quotas/indirect-partner-adjust"),
        lambda c: c.update_coupon_quotas("q-1", ["ip-1"], Decimal("10.00")),
        reply(200, {"simple_quota_infos": [{"id": "ip-1", "quota_id": "c-1"}]}),
    ),
    "money-reclaim": (
        ("POST", "/v2/partners/coupon-quotas/indirect-partner-reclaim"),
        lambda c: c.reclaim_coupon_quotas(["c-1"]),
        reply(200, {"simple_quota_infos": [{"quota_id": "c-1", "quota_balance": 0}]}),
    ),
    "money-renew-autopay": (
        ("POST", "/v2/orders/subscriptions/resources/renew"),
        lambda c: c.renewal_resources(
            "cust-1", ["res-1"], period_type=2, period_num=1, is_auto_pay=1
        ),
        reply(200, {"order_ids": ["o-1"]}),
    ),
}


def _request() -> httpx.Request:
    return httpx.Request("POST", "https://bss.myhuaweicloud.com/")


FAILURES: dict[str, Callable[[], Reply]] = {
    "429-apig": lambda: reply(429, {"error_code": "APIG.0308", "error_msg": "throttled"}),
    "429-cbc": lambda: reply(429, {"error_code": "CBC.0250", "error_msg": "flow control"}),
    "500": lambda: reply(500, {"error_code": "CBC.0999", "error_msg": "internal"}),
    "502-html": lambda: reply(502, "<html>bad gateway</html>"),
    "connect-error": lambda: httpx.ConnectError("refused", request=_request()),
    "connect-timeout": lambda: httpx.ConnectTimeout("slow", request=_request()),
    "pool-timeout": lambda: httpx.PoolTimeout("pool", request=_request()),
    "read-timeout": lambda: httpx.ReadTimeout("slow", request=_request()),
    "read-error": lambda: httpx.ReadError("reset", request=_request()),
    "remote-protocol": lambda: httpx.RemoteProtocolError("eof", request=_request()),
    "write-error": lambda: httpx.WriteError("broken", request=_request()),
    "write-timeout": lambda: httpx.WriteTimeout("slow", request=_request()),
}
NEVER_SENT = {"429-apig", "429-cbc", "connect-error", "connect-timeout", "pool-timeout"}

MATRIX = [
    pytest.param(
        op,
        failure,
        "unknown" if op.startswith("money") and failure not in NEVER_SENT else "retried",
        id=f"{op}/{failure}",
    )
    for op in OPERATIONS
    for failure in FAILURES
]


def _run(
    op_name: str, first_replies: list[Reply], *, max_attempts: int = 4, read_patience: float = 0
) -> tuple[Any, dict[str, ApiStats], list[Seen], VirtualClock]:
    clock = VirtualClock()
    fake = FakeBss(clock)
    route, call, ok = OPERATIONS[op_name]
    fake.on(*route, *first_replies, ok)
    fake.on("POST", IAM_PATH, iam_reply())

    async def main() -> tuple[Any, dict[str, ApiStats]]:
        async with make_client(
            fake, agency_name="agency", max_attempts=max_attempts, read_patience=read_patience
        ) as client:
            try:
                return await call(client), client.stats()
            except Exception as exc:
                return exc, client.stats()

    outcome, stats = clock.run(main())
    return outcome, stats, fake.calls(route[1]), clock


@pytest.mark.parametrize(("op_name", "failure", "expected"), MATRIX)
def test_retry_matrix(op_name, failure, expected, caplog):
    caplog.set_level(logging.INFO, logger="reconciler")
    outcome, stats, calls, clock = _run(op_name, [FAILURES[failure]()])
    op_stats = next(s for name, s in stats.items() if not name.startswith("iam."))
    if expected == "retried":
        assert not isinstance(outcome, Exception), outcome
        assert len(calls) == 2
        assert op_stats.retries == 1
        assert clock.monotonic() > 0  # the backoff happened, on virtual time
        (record,) = [r for r in caplog.records if "retrying" in r.getMessage()]
        assert record.levelno == logging.INFO
        assert f"{calls[0].method} {calls[0].path} (attempt 2 of 4)" in record.getMessage()
        assert SK not in caplog.text
    else:
        assert isinstance(outcome, OutcomeUnknownError), outcome
        assert len(calls) == 1
        assert op_stats.retries == 0
        assert "outcome unknown" in str(outcome)
        assert calls[0].path in str(outcome)
    assert op_stats.throttled == (1 if failure.startswith("429") else 0)


@pytest.mark.parametrize("op_name", list(OPERATIONS))
def test_client_errors_are_never_retried(op_name):
    bad = reply(400, {"error_code": "CBC.0100", "error_msg": "invalid"})
    outcome, _, calls, _ = _run(op_name, [bad])
    assert type(outcome) is ApiError
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("op_name", "failure", "error"),
    [
        ("read", "429-apig", ThrottledError),
        ("money-issue", "429-cbc", ThrottledError),
        ("read", "500", ServerError),
        ("set-state", "502-html", ServerError),
        ("read", "read-timeout", TransportError),
        ("money-issue", "connect-error", TransportError),
    ],
)
def test_retries_run_out(op_name, failure, error):
    outcome, _, calls, _ = _run(op_name, [FAILURES[failure]() for _ in range(5)])
    assert type(outcome) is error
    assert len(calls) == 4
    assert not isinstance(outcome, OutcomeUnknownError)


@pytest.mark.parametrize("failure", ["read-timeout", "connect-error", "500", "429-apig"])
def test_a_read_keeps_retrying_past_max_attempts_within_its_patience(failure):
    # Ten failures in a row: far more than the four attempts a write gets, but a few minutes
    # of trouble at most, so the read (and the plan around it) goes on.
    outcome, stats, calls, clock = _run(
        "read", [FAILURES[failure]() for _ in range(10)], read_patience=600.0
    )
    assert not isinstance(outcome, Exception), outcome
    assert len(calls) == 11
    assert stats["list_sub_customers"].retries == 10
    assert clock.monotonic() < 600.0


def test_a_read_gives_up_once_it_has_failed_for_its_patience():
    outcome, _, calls, clock = _run(
        "read", [FAILURES["read-timeout"]() for _ in range(200)], read_patience=120.0
    )
    assert type(outcome) is TransportError
    assert str(outcome).endswith("(retries exhausted)")
    assert 4 < len(calls) < 200
    assert clock.monotonic() >= 120.0


def test_a_write_is_never_patient():
    outcome, _, calls, _ = _run(
        "set-state", [FAILURES["500"]() for _ in range(10)], read_patience=600.0
    )
    assert type(outcome) is ServerError
    assert len(calls) == 4


def test_money_write_5xx_is_unknown_even_on_a_later_attempt():
    throttled = FAILURES["429-apig"]()
    outcome, _, calls, _ = _run("money-issue", [throttled, FAILURES["500"]()])
    assert isinstance(outcome, OutcomeUnknownError)
    assert "HTTP 500 CBC.0999" in str(outcome)
    assert len(calls) == 2


def test_cancel_already_cancelled_is_not_an_error():
    gone = reply(400, {"error_code": "CBC.99003605", "error_msg": "already cancelled"})
    outcome, _, calls, _ = _run("set-state-cancel", [gone])
    assert outcome is False
    assert len(calls) == 1


def test_decision_table_is_total():
    for kind in CallKind:
        assert decide(kind, Failure.CLIENT) is Decision.RAISE
        assert decide(kind, Failure.THROTTLED) is Decision.RETRY
        assert decide(kind, Failure.NOT_SENT) is Decision.RETRY
        expected = Decision.UNKNOWN if kind is CallKind.MONEY else Decision.RETRY
        assert decide(kind, Failure.SERVER) is expected
        assert decide(kind, Failure.LOST) is expected


def test_backoff_is_capped_full_jitter_and_seeded():
    import random

    a = Backoff(random.Random(1))
    b = Backoff(random.Random(1))
    delays = [a.delay(n, Failure.SERVER) for n in range(1, 10)]
    assert delays == [b.delay(n, Failure.SERVER) for n in range(1, 10)]
    assert all(0 <= d <= min(20.0, 0.5 * 2 ** (n - 1)) for n, d in enumerate(delays, 1))
    assert all(a.delay(n, Failure.THROTTLED) <= min(20.0, 2.0 * 2 ** (n - 1)) for n in range(1, 9))
    assert a.delay(1, Failure.THROTTLED, retry_after=3.0) >= 3.0
