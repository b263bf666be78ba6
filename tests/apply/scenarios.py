"""The fault scenarios every money-moving kind is put through, as real processes (issue 13:
"the new kinds pass the same fault tests as ResellerQuota"). A kind's tests give the manifests,
the operation to hold or slow down and what must hold afterwards; the choreography is here:

* :func:`while_held`: an apply in the background with one operation held at the gateway; once
  its call is held, something happens meanwhile; then the call goes on and the apply ends.
  :func:`second_writer` is the usual case: the laptop (its own journal) has its records check
  held while the CI runner (the default journal) applies the same change.
  :func:`laptop_while_held` is the same the other way round.
* :func:`contested_lease`: another apply while a live holder's call is held (the lease held).
* :func:`killed_in_flight`: an apply killed while its write is held in flight.
* :func:`concurrent_applies`: a second apply while the first holds the lease.
* :func:`crash_points` and :func:`killed_at`: apply killed at every step of the journal, and
  the rerun that takes over.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from click.testing import Result

from reconciler.apply.ops import CRASH_STEPS

from .conftest import Env, wait_for

T = TypeVar("T")
#: How long a hold fault keeps a call at the gateway unless released.
HOLD_SECONDS = 120
#: How late the first of two concurrent applies gets its answer: the second apply (a fresh
#: Python process) must have ended by then, or the first's next calls fall in the window where
#: the second must make none. 6 s was not enough on a loaded 2-core machine.
SLOW_ANSWER = 15.0


@dataclass(frozen=True)
class Background:
    """A ``reconciler`` process that ran in the background, once it has ended."""

    pid: int
    returncode: int
    stdout: str
    stderr: str


def laptop(env: Env, **more: str) -> dict[str, str]:
    """The environment of an apply from a second machine: its own SQLite journal (and ``more``,
    e.g. its own gateway)."""
    return {"RECONCILER_JOURNAL": str(env.root / "laptop.sqlite"), **more}


def _finish(proc: Any, timeout: float) -> Background:
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    return Background(proc.pid, proc.returncode, out, err)


def while_held(
    env: Env,
    operation: str,
    folder: Path,
    meanwhile: Callable[[], T],
    *,
    extra_env: Mapping[str, str] | None = None,
    skip: int = 0,
    timeout: float = 60,
) -> tuple[Background, T]:
    """``apply FOLDER --auto-approve`` in the background with its call of ``operation`` (after
    ``skip`` others) held at the gateway; once it is held, ``meanwhile()`` (the background
    apply is still alive after it); then the call goes on. The background apply once it has
    ended (within ``timeout`` seconds), and what ``meanwhile`` returned."""
    held = env.emu.add_fault(operation, "hold", skip=skip, seconds=HOLD_SECONDS)
    proc = env.popen("apply", folder, "--auto-approve", extra_env=extra_env)
    try:
        wait_for(lambda: any(c["held"] and c["status"] is None for c in env.calls(operation)))
        result = meanwhile()
        assert proc.poll() is None  # alive all along: its call is still held
        env.emu.release(held)
    except BaseException:
        proc.kill()
        raise
    return _finish(proc, timeout), result


def second_writer(
    env: Env,
    operation: str,
    folder: Path,
    *,
    laptop_env: Mapping[str, str] | None = None,
    skip: int = 0,
) -> tuple[Background, subprocess.CompletedProcess[str]]:
    """Two applies with two journals: the laptop's run (``laptop_env``, by default
    :func:`laptop`) reads the records right before its write (``operation``, after ``skip``
    earlier reads of it); that read is held while the CI runner (the default journal) plans,
    checks and makes the same write. The laptop's run, and the runner's (a finished process)."""
    return while_held(
        env,
        operation,
        folder,
        lambda: env.process("apply", folder, "--auto-approve"),
        extra_env=laptop(env) if laptop_env is None else laptop_env,
        skip=skip,
    )


def laptop_while_held(
    env: Env, operation: str, folder: Path, *, extra_env: Mapping[str, str] | None = None
) -> Background:
    """:func:`second_writer` the other way round: the CI runner's run (``extra_env``) has its
    records check (``operation``) held while the laptop (its own journal, no records-clock
    allowance: it looks for other writers only since its own start) applies the same change,
    and succeeds: the other writer the runner must then see. The runner's run."""

    def the_laptop() -> None:
        extra = {**(extra_env or {}), "RECONCILER_RECORDS_CLOCK_SKEW": "0"}
        done = env.process("apply", folder, "--auto-approve", extra_env=laptop(env, **extra))
        assert done.returncode == 0, done.stderr

    runner, _ = while_held(env, operation, folder, the_laptop, extra_env=extra_env)
    return runner


def contested_lease(
    env: Env,
    operation: str,
    folder: Path,
    contender: Callable[[], T],
    *,
    extra_env: Mapping[str, str] | None = None,
) -> tuple[Background, T, list[dict[str, Any]]]:
    """A live lease holder (``apply FOLDER`` with ``extra_env``) whose call of ``operation`` is
    held at the gateway, so that it holds the lease however long ``contender()`` (another
    apply) takes. The holder once it has ended, what ``contender`` returned, and the API calls
    made while it ran."""

    def meanwhile() -> tuple[T, list[dict[str, Any]]]:
        seq = env.last_seq()
        result = contender()
        return result, [c for c in env.calls() if c["seq"] > seq]

    holder, (result, calls) = while_held(
        env, operation, folder, meanwhile, extra_env=extra_env, timeout=90
    )
    return holder, result, calls


def killed_in_flight(
    env: Env,
    operation: str,
    folder: Path,
    *,
    extra_env: Mapping[str, str] | None = None,
    skip: int = 0,
) -> str:
    """An apply killed (``kill -9``) while its call of ``operation`` (after ``skip`` others) is
    held at the gateway, sent and unanswered. The hold fault's id: release it to let the call
    land."""
    held = env.emu.add_fault(operation, "hold", skip=skip, seconds=HOLD_SECONDS)
    killed = env.popen("apply", folder, "--auto-approve", extra_env=extra_env)
    wait_for(lambda: any(c["held"] and c["status"] is None for c in env.calls(operation)))
    killed.kill()
    killed.wait(timeout=30)
    return held


@dataclass(frozen=True)
class Concurrent:
    first: Background  #: the apply that held the lease
    second: subprocess.CompletedProcess[str]  #: the apply started meanwhile
    calls_meanwhile: list[dict[str, Any]]  #: API calls made while the second ran


def concurrent_applies(env: Env, operation: str, folder: Path) -> Concurrent:
    """Two applies at once: the first's ``operation`` answers after :data:`SLOW_ANSWER` seconds
    (it holds the lease meanwhile), and a second apply runs while it waits."""
    env.emu.add_fault(operation, "latency", seconds=SLOW_ANSWER)
    first = env.popen("apply", folder, "--auto-approve")
    try:
        wait_for(lambda: env.calls(operation))
        seq = env.last_seq()
        second = env.process("apply", folder, "--auto-approve")
        meanwhile = [c for c in env.calls() if c["seq"] > seq]
    finally:
        done = _finish(first, 60)
    return Concurrent(done, second, meanwhile)


def crash_points(*later: str) -> list[str]:
    """Where :func:`killed_at` kills apply: at every journal step of the first write
    (``step:1``), then at the steps given (``step:n``: of the n-th write)."""
    return [f"{step}:1" for step in CRASH_STEPS] + list(later)


def killed_at(env: Env, folder: Path, crash_at: str) -> Result:
    """Apply killed at ``crash_at`` (``kill -9`` at that journal step), then the rerun (in
    process, ``--wait``) that takes over its lease: the rerun's result."""
    crashed = env.process(
        "apply", folder, "--auto-approve", extra_env={"RECONCILER_CRASH_AT": crash_at}
    )
    assert crashed.returncode == 137, crashed.stderr
    rerun = env.cli("apply", folder, "--auto-approve", "--wait")
    assert "its process is gone" in rerun.output
    return rerun
