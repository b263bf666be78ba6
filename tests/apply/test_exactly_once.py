"""Issue 9's scenarios, through the CLI, as real processes against the served emulator.

1. A run paused (SIGSTOP) past its lease during a 429 retry, another run meanwhile.
2. A run killed (kill -9) with an issue still held in flight, a rerun at once, then the held
   request lands.
3. Two applies with two SQLite journals: the second writer stops at the records check.
4. Two applies from two "machines" on one PostgreSQL journal: one writer.

Each ends with the money invariant exact, no second issue, and a last apply making no write.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from reconciler.apply.journal import Journal
from reconciler.apply.store import PG_LOCK_KEY

from .conftest import MAIN, PENGCHENG, SECOND, TIANFU, Env, assert_money_invariant, wait_for
from .scenarios import contested_lease, killed_in_flight, laptop, second_writer

ISSUE = "update_coupon_quotas"
RECORDS = "list_coupon_quotas_records"
LONG = {"RECONCILER_IN_FLIGHT_HORIZON": "600"}
BACKENDS = ["sqlite", "postgresql"]


def _journal(request: pytest.FixtureRequest, backend: str) -> tuple[dict[str, str], str | Path]:
    """The environment that selects the backend, and the journal's location."""
    if backend == "sqlite":
        return {}, Path(request.getfixturevalue("env").journal_file)
    url = str(request.getfixturevalue("pg_url"))
    return {"RECONCILER_JOURNAL_URL": url}, url


def _no_write_on_rerun(env: Env, manifests: Path, extra: dict[str, str]) -> None:
    seq = env.last_seq()
    again = env.process("apply", manifests, "--auto-approve", extra_env=extra)
    assert again.returncode == 0, again.stderr
    assert env.writes(since=seq) == []


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_run_paused_past_its_lease_in_a_429_retry_sends_nothing_more(
    served_env: Env, backend: str, request: pytest.FixtureRequest
) -> None:
    env = served_env
    where, journal = _journal(request, backend)
    extra = {**LONG, **where}
    manifests = env.manifests({SECOND: {TIANFU: "8000.00"}})
    env.emu.add_fault(ISSUE, "throttle", count=3)
    paused = env.popen("apply", manifests, "--auto-approve", "--lock-ttl", "10", extra_env=extra)
    try:
        wait_for(lambda: any(c["status"] == 429 for c in env.calls(ISSUE)))
        _stop_outside_a_journal_write(paused.pid, journal)  # in its backoff before the retry
        time.sleep(11)  # past its 10 s lease
        other = env.process("apply", manifests, "--auto-approve", extra_env=extra)
    finally:
        os.kill(paused.pid, signal.SIGCONT)
        _out, paused_err = paused.communicate(timeout=60)
    assert "its lease had expired" in other.stderr
    if other.returncode == 5:
        # Stopped before it noted the 429: its attempt might still have been in flight, so the
        # pair stayed frozen. Resumed, it notes the 429, and its retry is fenced; now every
        # attempt is known refused and the next apply settles and issues without waiting.
        assert "may still be in flight" in other.stderr
        settled = env.process("apply", manifests, "--auto-approve", extra_env=extra)
        assert settled.returncode == 0, settled.stderr
        other = settled
    assert other.returncode == 0, other.stderr
    assert "every send attempt was refused unexecuted" in _report(journal)
    # The resumed run's pending retry is fenced: its token is stale, nothing is sent.
    assert paused.returncode == 1, paused_err
    assert "no longer holds the lease" in paused_err
    # ... and says why: another run took it over once this run's lease had expired.
    assert "took over the lease at " in paused_err
    assert "its lease had expired at " in paused_err
    assert len(env.issue_records(TIANFU)) == 1
    assert env.balance(TIANFU, SECOND) == Decimal("8000.00")
    _no_write_on_rerun(env, manifests, extra)
    assert_money_invariant(env, journal=journal)


def _stop_outside_a_journal_write(pid: int, journal: str | Path) -> None:
    """SIGSTOP the process, again and again until it is not inside a journal transaction (a
    process stopped there would hold the journal's write lock: apply then reports the journal
    as locked, which is right, but not this scenario)."""
    for _ in range(100):
        os.kill(pid, signal.SIGSTOP)
        if not _write_locked(journal):
            return
        os.kill(pid, signal.SIGCONT)
        time.sleep(0.01)
    raise AssertionError("the process never left its journal transactions")


def _write_locked(journal: str | Path) -> bool:
    if isinstance(journal, Path):
        db = sqlite3.connect(journal, timeout=0, isolation_level=None)
        try:
            db.execute("BEGIN IMMEDIATE")
            db.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            db.close()
    with psycopg.connect(journal, autocommit=True) as conn:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (PG_LOCK_KEY,)).fetchone()
        if row and row[0]:
            conn.execute("SELECT pg_advisory_unlock(%s)", (PG_LOCK_KEY,))
            return False
        return True


def _report(journal: str | Path) -> str:
    jrnl = Journal.open(journal)
    try:
        return "\n".join(i.detail or "" for op in jrnl.operations() for i in op.items)
    finally:
        jrnl.close()


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_an_issue_held_in_flight_when_apply_is_killed_is_never_issued_twice(
    served_env: Env, backend: str, request: pytest.FixtureRequest
) -> None:
    env = served_env
    where, journal = _journal(request, backend)
    extra = {**LONG, **where}
    manifests = env.manifests({MAIN: {TIANFU: "45000.00", PENGCHENG: "1000.00"}})
    # Issues go by amount: pengcheng's 1,000.00 first, then tianfu's 15,000.00, which a gateway
    # queue holds after it arrived.
    held = killed_in_flight(env, ISSUE, manifests, extra_env=extra, skip=1)

    seq = env.last_seq()
    rerun = env.process("apply", manifests, "--auto-approve", extra_env=extra)
    assert rerun.returncode == 5, rerun.stderr
    assert "its process is gone" in rerun.stderr
    assert "may still be in flight" in rerun.stderr
    assert "1 frozen" in rerun.stdout
    assert env.writes(since=seq) == []  # nothing to tianfu while its issue may land
    assert env.balance(TIANFU, MAIN) == Decimal("30000.00")

    env.emu.release(held)  # the held request goes on and commits
    wait_for(lambda: env.balance(TIANFU, MAIN) == Decimal("45000.00"))
    seq = env.last_seq()
    after = env.process("apply", manifests, "--auto-approve", extra_env=extra)
    assert after.returncode == 0, after.stderr
    assert "Settled 1 open operation(s)" in after.stderr
    assert env.writes(since=seq) == []
    assert len(env.issue_records(TIANFU)) == 1
    assert env.balance(PENGCHENG, MAIN) == Decimal("1000.00")
    _no_write_on_rerun(env, manifests, extra)
    assert_money_invariant(env, journal=journal)


@pytest.mark.slow
def test_two_applies_with_two_sqlite_journals_stop_the_second_writer(served_env: Env) -> None:
    env = served_env
    manifests = env.manifests({MAIN: {TIANFU: "45000.00"}})
    # The laptop's run checks the records right before its issue; that read is held while the
    # CI runner (the default journal) plans, checks and issues the same 15,000.00.
    second, first = second_writer(env, RECORDS, manifests)
    assert first.returncode == 0, first.stderr
    out = second.stdout
    assert second.returncode == 5, (out, second.stderr, env.calls())
    assert "another writer is active on this pair" in out
    assert "was not made by this journal" in out
    assert "1 frozen" in out
    assert len(env.issue_records(TIANFU)) == 1
    assert env.balance(TIANFU, MAIN) == Decimal("45000.00")
    _no_write_on_rerun(env, manifests, laptop(env))
    _no_write_on_rerun(env, manifests, {})
    assert_money_invariant(env)


@pytest.mark.slow
def test_two_machines_on_one_postgresql_journal_make_one_writer(
    served_env: Env, pg_url: str
) -> None:
    env = served_env
    manifests = env.manifests({MAIN: {TIANFU: "45000.00"}})
    shared = {"RECONCILER_JOURNAL_URL": pg_url}
    runner = {**shared, "RECONCILER_STATE_DIR": str(env.root / "ci-runner")}
    other = {**shared, "RECONCILER_STATE_DIR": str(env.root / "laptop")}
    # The first run's issue is held at the gateway until the second run is over: the first holds
    # the lease all that time, however long the second takes to start (no race with a timer).
    first, second, calls_meanwhile = contested_lease(
        env,
        ISSUE,
        manifests,
        lambda: env.process("apply", manifests, "--auto-approve", extra_env=other),
        extra_env=runner,
    )
    assert first.returncode == 0, first.stderr
    assert second.returncode == 1
    assert "is locked by another apply" in second.stderr
    assert f"pid {first.pid}" in second.stderr
    assert calls_meanwhile == []
    assert not (env.root / "laptop" / "journal.sqlite").exists()
    assert len(env.issue_records(TIANFU)) == 1
    _no_write_on_rerun(env, manifests, other)
    assert_money_invariant(env, journal=pg_url)
