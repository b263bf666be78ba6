"""The journal and the lease behave the same on SQLite and PostgreSQL; the CLI takes either."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from reconciler.apply.journal import ItemOutcome, ItemSpec, Journal, OpSpec
from reconciler.apply.lease import Lease, break_lease
from reconciler.apply.ops import ExecContext, Fence
from reconciler.apply.store import open_store, redact_url
from reconciler.emulator import DEFAULT_DOMAIN_ID
from reconciler.errors import ConfigError, LockHeldError
from tests.pgserver import with_database

from .conftest import MAIN, TIANFU, Env, assert_money_invariant

PARTNER = DEFAULT_DOMAIN_ID
SPEC = OpSpec("update_coupon_quotas", MAIN, {"quota_amount": "1.00"}, {}, [ItemSpec(TIANFU, "k")])


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    if request.param == "sqlite":
        return tmp_path / "journal.sqlite"
    return str(request.getfixturevalue("pg_url"))


def _fence(journal: Journal, clock: Clock) -> tuple[Lease, Fence]:
    """A lease, an intent, and the guard of its call, as apply makes them."""
    lease = Lease.acquire(journal, PARTNER, "run-a", ttl=60)
    op_id = journal.record_intent("run-a", PARTNER, lease.token, SPEC)
    ctx = ExecContext(
        client=None,  # type: ignore[arg-type]
        journal=journal, run_id="run-a", partner_id=PARTNER, token=lease.token,
        started_at=clock.now, progress=lambda _t: None, crash=lambda _s: None,  # type: ignore[arg-type]
    )  # fmt: skip
    return lease, Fence(ctx, op_id)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_every_attempt_is_fenced_and_refusals_are_counted(location: str | Path) -> None:
    clock = Clock()
    journal = Journal.open(location, clock_time=clock)
    lease, fence = _fence(journal, clock)
    op_id = fence.op_id
    fence.before_attempt(1)
    fence.after_attempt(1, refused=True)  # a 429
    clock.now += 5
    fence.before_attempt(2)
    op = journal.operation(op_id)
    assert op is not None
    assert (op.state, op.attempts, op.refused, op.sent_at, op.last_sent_at) == (
        "sent",
        2,
        1,
        1_000.0,
        1_005.0,
    )
    assert op.outstanding

    # Paused between the mark and the socket: the mark is made again, and a lease taken over
    # meanwhile stops the write; the attempt is noted as never sent.
    clock.now += 3
    break_lease(journal, PARTNER, force=True)
    with pytest.raises(LockHeldError, match="Attempt 2 of operation") as fenced:
        fence.before_write()
    # The message names the real cause: the lease was broken on purpose, not "paused".
    assert "the lease was broken at " in str(fenced.value)
    assert "by `reconciler unlock --force`" in str(fenced.value)
    op = journal.operation(op_id)
    assert op is not None and (op.attempts, op.refused) == (2, 2) and not op.outstanding
    with pytest.raises(LockHeldError, match="no longer holds the lease"):
        fence.before_attempt(3)
    lease.release()
    journal.close()


def test_a_fresh_mark_is_not_made_again(location: str | Path) -> None:
    clock = Clock()
    journal = Journal.open(location, clock_time=clock)
    lease, fence = _fence(journal, clock)
    op_id = fence.op_id
    fence.before_attempt(1)
    clock.now += 1  # within REMARK_AFTER: no second transaction, no lease check needed
    break_lease(journal, PARTNER, force=True)
    fence.before_write()
    op = journal.operation(op_id)
    assert op is not None and op.last_sent_at == 1_000.0
    lease.release()
    journal.close()


def test_the_same_rows_on_both_backends(location: str | Path) -> None:
    journal = Journal.open(location)
    lease = Lease.acquire(journal, PARTNER, "run-a", ttl=60)
    journal.start_run("run-a", partner_id=PARTNER, endpoint="e", owner="me", token=lease.token)
    op_id = journal.record_intent("run-a", PARTNER, lease.token, SPEC)
    journal.mark_attempt(op_id, PARTNER, lease.token, 1)
    journal.record_outcome(op_id, "committed", {TIANFU: ItemOutcome("committed", quota_id="q1")})
    journal.record_change("run-a", "k", kind="reseller-quota", action="issue", subject="s",
                          status="applied", detail=["ok"])  # fmt: skip
    journal.record_change("run-a", "k", kind="reseller-quota", action="issue", subject="s",
                          status="applied", detail=["again"])  # fmt: skip
    journal.learn_operator(PARTNER, "demo-distributor", "test")
    op = journal.operation(op_id)
    assert op is not None and op.items[0].quota_id == "q1" and not op.open
    assert journal.changes("run-a")[0]["detail"] == ["again"]
    assert journal.operator(PARTNER) == ("demo-distributor", "test")
    lease.release()
    # Another connection (another machine, for PostgreSQL) takes the next lease: token 2.
    other = Journal.open(location)
    second = Lease.acquire(other, PARTNER, "run-b", ttl=60)
    assert second.token == lease.token + 1
    second.release()
    other.close()
    journal.close()


def test_apply_and_the_journal_commands_on_a_postgresql_journal(env: Env, pg_url: str) -> None:
    manifests = env.manifests({MAIN: {TIANFU: "45000.00"}})
    shared = {"RECONCILER_JOURNAL_URL": pg_url}
    applied = env.cli("apply", manifests, "--auto-approve", extra_env=shared)
    assert applied.exit_code == 0, applied.output
    assert not env.journal_file.exists()  # nothing in the local state dir
    listed = env.cli("journal", "list", "--json", extra_env=shared)
    assert listed.exit_code == 0, listed.output
    [op] = [json.loads(line) for line in listed.output.splitlines()]
    assert op["state"] == "committed" and op["attempts"] == 1
    by_flag = env.cli("journal", "list", "--journal", pg_url)
    assert op["op_id"] in by_flag.output
    assert env.cli("unlock", extra_env=shared).output == "No lease is held.\n"
    seq = env.last_seq()
    again = env.cli("apply", manifests, "--auto-approve", "--journal", pg_url)
    assert again.exit_code == 0 and env.writes(since=seq) == []
    assert env.balance(TIANFU, MAIN) == Decimal("45000.00")
    assert_money_invariant(env, journal=pg_url)


def test_a_journal_url_never_shows_its_password(env: Env, pg_url: str) -> None:
    secret = "s3cret-journal-password"
    url = pg_url.replace("postgresql://postgres@", f"postgresql://postgres:{secret}@")
    settled = env.cli("journal", "settle", "op-000000000000", "--committed", "--journal", url)
    assert settled.exit_code == 1
    assert "postgres:***@" in settled.output and secret not in settled.output
    missing = with_database(url, "no_such_database")
    failed = env.cli("journal", "list", "--journal", missing)
    assert failed.exit_code == 1
    assert "cannot open the apply journal at postgresql://postgres:***@" in failed.output
    assert secret not in failed.output and "Internal error" not in failed.output


def test_journal_locations() -> None:
    assert redact_url("postgresql://u:pw@h:5432/db?x=1") == "postgresql://u:***@h:5432/db?x=1"
    assert redact_url("postgresql://u@h/db") == "postgresql://u@h/db"
    with pytest.raises(ConfigError, match="only postgresql:// URLs or a file path"):
        open_store("mysql://u:pw@h/db")
