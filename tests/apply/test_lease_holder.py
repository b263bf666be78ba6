"""A live lease holder is never taken over because of a skewed clock or a PID namespace.

An outside review took a live holder's lease twice: from a machine whose clock ran 400 s ahead
(on a shared PostgreSQL journal, expiry was judged by each client's clock), and from a process
in another PID namespace on the same host (``unshare --pid``: the holder's PID does not exist
there, so its process looked gone). Either way the holder was cut off mid-change. Expiry is now
judged by the database server's clock on PostgreSQL, and "gone" only inside the holder's own PID
namespace of the same running kernel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from reconciler.apply.journal import Journal
from reconciler.apply.lease import Lease, process_namespace
from reconciler.emulator import DEFAULT_DOMAIN_ID

from .conftest import (
    CLEARED_ENV,
    ENTRY,
    MAIN,
    QINLING,
    TIANFU,
    Env,
    assert_money_invariant,
)
from .scenarios import contested_lease

ISSUE = "update_coupon_quotas"
RECLAIM = "reclaim_coupon_quotas"
#: This process's clock 400 s ahead (inside the 15 minutes the API's signature check accepts).
SKEWED = "import time; _t = time.time; time.time = lambda: _t() + 400\n" + ENTRY


def _run(env: Env, prefix: list[str], *args: str | Path, extra: dict[str, str]) -> Any:
    environ = {k: v for k, v in os.environ.items() if k not in CLEARED_ENV}
    environ.update(env.env, **extra)
    return subprocess.run(
        [*prefix, *(str(a) for a in args)],
        env=environ, cwd=env.root, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.slow
def test_a_clock_400_s_ahead_does_not_take_a_live_lease_on_postgresql(
    served_env: Env, pg_url: str
) -> None:
    env = served_env
    shared = {"RECONCILER_JOURNAL_URL": pg_url}
    manifests = env.manifests({MAIN: {QINLING: "10000.00"}})  # a reclaim, then an issue
    holder, skewed, calls_meanwhile = contested_lease(
        env, RECLAIM, manifests,
        lambda: _run(env, [sys.executable, "-c", SKEWED], "apply", manifests, "--auto-approve",
                     extra=shared),
        extra_env=shared,
    )  # fmt: skip
    assert skewed.returncode == 1, skewed.stderr
    assert "is locked by another apply" in skewed.stderr
    assert "Took over" not in skewed.stderr
    assert calls_meanwhile == []
    assert holder.returncode == 0, (holder.stdout, holder.stderr)
    assert env.balance(QINLING, MAIN) == Decimal("10000.00")
    assert_money_invariant(env, journal=pg_url)


def _unshare_pid() -> list[str] | None:
    """The command prefix that runs a process in a new PID namespace, unprivileged (a user
    namespace maps our uid to root inside), or None where this machine does not allow it."""
    tool = shutil.which("unshare")
    if tool is None:
        return None
    prefix = [tool, "--user", "--map-root-user", "--pid", "--fork"]
    probe = subprocess.run([*prefix, "true"], capture_output=True, check=False, timeout=30)
    return prefix if probe.returncode == 0 else None


@pytest.mark.slow
def test_a_process_in_another_pid_namespace_does_not_take_a_live_lease(served_env: Env) -> None:
    prefix = _unshare_pid()
    if prefix is None:
        pytest.skip(
            "`unshare --user --map-root-user --pid --fork` is not allowed here (no unprivileged "
            "user namespaces); test_a_holder_in_another_pid_namespace_is_never_gone simulates it"
        )
    env = served_env
    manifests = env.manifests({MAIN: {TIANFU: "45000.00"}})
    # the holder runs in this host's PID namespace, the other apply in a new one
    holder, other, calls_meanwhile = contested_lease(
        env, ISSUE, manifests,
        lambda: _run(env, [*prefix, sys.executable, "-c", ENTRY], "apply", manifests,
                     "--auto-approve", extra={}),
    )  # fmt: skip
    assert other.returncode == 1, other.stderr
    assert "is locked by another apply" in other.stderr
    assert "its process is gone" not in other.stderr
    assert calls_meanwhile == []
    assert holder.returncode == 0, (holder.stdout, holder.stderr)
    assert env.balance(TIANFU, MAIN) == Decimal("45000.00")
    assert_money_invariant(env)


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid  # no process has it now (reused only after the PID space wraps)


def _stale_lease(env: Env, pidns: str | None) -> None:
    """A lease held until an hour from now by a process of this host that no longer exists
    here, recorded with the PID namespace ``pidns``."""
    journal = Journal.open(env.journal_file)
    lease = Lease.acquire(journal, DEFAULT_DOMAIN_ID, "run-0123456789ab", ttl=3600)
    lease._stop.set()  # no heartbeat: the row stays as written
    with journal.transaction() as db:
        db.execute(
            "UPDATE leases SET pid = ?, pidns = ?, owner = ? WHERE partner_id = ?",
            (_dead_pid(), pidns, "deploy@this-host pid 1", DEFAULT_DOMAIN_ID),
        )
    journal.close()


@pytest.mark.parametrize(
    "pidns",
    [
        "00000000-0000-0000-0000-000000000000/pid:[4026531836]",  # another kernel (boot id)
        f"{(process_namespace() or 'x/').split('/')[0]}/pid:[1]",  # another PID namespace here
        None,  # a holder that recorded none (a journal of schema version 2, or not Linux)
    ],
    ids=["other-boot", "other-namespace", "unknown"],
)
def test_a_holder_in_another_pid_namespace_is_never_gone(env: Env, pidns: str | None) -> None:
    """The namespace check, simulated: the holder's PID exists nowhere in ours, exactly as a
    live holder's PID looks from another PID namespace."""
    manifests = env.manifests({MAIN: {TIANFU: "45000.00"}})
    _stale_lease(env, pidns)
    seq = env.last_seq()
    result = env.cli("apply", manifests, "--auto-approve")
    assert result.exit_code == 1, result.output
    assert "is locked by another apply: deploy@this-host pid 1" in result.output
    assert env.last_seq() == seq
    refused = env.cli("unlock")
    assert refused.exit_code == 1 and "has not expired" in refused.output


def test_a_holder_gone_from_our_own_pid_namespace_is_taken_over(env: Env) -> None:
    if process_namespace() is None:
        pytest.skip("no /proc/self/ns/pid or boot id here: 'gone' is never concluded")
    manifests = env.manifests({MAIN: {TIANFU: "45000.00"}})
    _stale_lease(env, process_namespace())
    result = env.cli("apply", manifests, "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "its process is gone (it ran on this host, in this PID namespace)" in result.output
    assert_money_invariant(env)


def test_the_lease_expires_by_the_database_clock_on_postgresql(pg_url: str) -> None:
    """The clients' own clocks do not move a PostgreSQL lease: a holder whose clock runs an hour
    behind still holds it, and one whose clock runs an hour ahead cannot take it."""
    behind = Journal.open(pg_url, clock_time=lambda: time.time() - 3600)
    lease = Lease.acquire(behind, DEFAULT_DOMAIN_ID, "run-a", ttl=60)
    [(acquired, expires)] = behind.store.rows("SELECT acquired_at, expires_at FROM leases")
    assert abs(acquired - time.time()) < 30 and expires == pytest.approx(acquired + 60)
    ahead = Journal.open(pg_url, clock_time=lambda: time.time() + 3600)
    with pytest.raises(Exception, match="is locked by another apply"):
        Lease.acquire(ahead, DEFAULT_DOMAIN_ID, "run-b", ttl=60)
    lease.release()
    ahead.close()
    behind.close()
