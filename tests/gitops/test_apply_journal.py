"""The apply workflow's journal guard (.github/scripts/apply_journal.py), run as the workflow runs
it, against a fake of GitHub's REST API on loopback: which earlier run it trusts, when it
restores a journal from an artifact, and when it refuses to let apply write."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from .fake_github import ME, SCRIPT, TOKEN, FakeGitHub, github

__all__ = ["github"]  # the fixture


def guard(api: str, state: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GH_"))}
    variables = {
        "GITHUB_API_URL": api,
        "GITHUB_REPOSITORY": "acme/partner-gitops",
        "GITHUB_RUN_ID": str(ME),
        "GH_TOKEN": TOKEN,
        "RECONCILER_STATE_DIR": str(state),
    }
    return subprocess.run(
        [sys.executable, str(SCRIPT), "check"],
        env=base | variables | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


OPEN = b'{"op_id": "op-43fc3425cd15", "state": "unknown"}\n'


def journal(open_ops: bytes, sqlite: bytes = b"SQLite format 3\x00 run 42") -> dict[str, bytes]:
    return {
        "journal.sqlite": sqlite,
        "journal.sqlite-wal": b"wal",
        "open-operations.jsonl": open_ops,
    }


def test_no_apply_ever_started(github: tuple[FakeGitHub, str], tmp_path: Path) -> None:
    _, api = github
    done = guard(api, tmp_path)
    assert done.returncode == 0, done.stdout
    assert "No earlier apply started writing" in done.stdout


def test_a_clean_last_apply_keeps_the_cached_journal(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    fake, api = github
    fake.run(41)
    fake.artifact("reconciler-apply-started", 41, "2026-11-20T10:00:00Z")
    fake.artifact("reconciler-journal", 41, "2026-11-20T10:05:00Z", journal(b""))
    (tmp_path / "journal.sqlite").write_bytes(b"cached")
    done = guard(api, tmp_path)
    assert done.returncode == 0, done.stdout
    assert "run 41, left no operation open" in done.stdout
    assert (tmp_path / "journal.sqlite").read_bytes() == b"cached"


def test_open_operations_bring_back_that_runs_journal(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    fake, api = github
    fake.run(41)
    fake.artifact("reconciler-apply-started", 41, "2026-11-20T10:00:00Z")
    fake.artifact("reconciler-journal", 41, "2026-11-20T10:05:00Z", journal(OPEN))
    (tmp_path / "journal.sqlite-shm").write_bytes(b"stale shm of an older journal")
    done = guard(api, tmp_path)
    assert done.returncode == 0, done.stdout
    assert "::warning title=open operations::" in done.stdout and "op-43fc3425cd15" in done.stdout
    assert (tmp_path / "journal.sqlite").read_bytes().endswith(b"run 42")
    assert (tmp_path / "journal.sqlite-wal").read_bytes() == b"wal"
    assert not (tmp_path / "journal.sqlite-shm").exists()
    assert fake.unauthenticated_blob_gets == 1, "the archive's address is fetched without the token"


@pytest.mark.parametrize(
    "journal_at",
    [None, "2026-11-20T09:59:00Z"],  # none at all; one from before the start (an earlier attempt)
    ids=["no journal", "journal older than the start"],
)
def test_a_run_that_left_no_journal_stops_apply(
    github: tuple[FakeGitHub, str], tmp_path: Path, journal_at: str | None
) -> None:
    fake, api = github
    fake.run(41)
    if journal_at:
        fake.artifact("reconciler-journal", 41, journal_at, journal(b""))
    fake.artifact("reconciler-apply-started", 41, "2026-11-20T10:00:00Z")
    done = guard(api, tmp_path)
    assert done.returncode == 1
    assert done.stdout.startswith("::error title=apply journal::apply run 41 started writing")
    assert "lost-run-checked 41" in done.stdout and "Nothing was written." in done.stdout
    assert guard(api, tmp_path, LOST_RUN_CHECKED="40").returncode == 1, "another run's id"
    checked = guard(api, tmp_path, LOST_RUN_CHECKED="41")
    assert checked.returncode == 0 and "::warning title=lost apply run::" in checked.stdout


def test_a_journal_without_its_list_of_open_operations_is_lost(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    fake, api = github
    fake.run(41)
    fake.artifact("reconciler-apply-started", 41, "2026-11-20T10:00:00Z")
    fake.artifact("reconciler-journal", 41, "2026-11-20T10:05:00Z", {"journal.sqlite": b"j"})
    assert guard(api, tmp_path).returncode == 1


UNTRUSTED: dict[str, dict[str, Any] | None] = {
    "another branch": {"head_branch": "feature"},
    "another workflow": {"workflow_id": 8},
    "a pull request": {"event": "pull_request"},
    "a fork": {"head_repository": {"id": 666}},
    "gone": None,
}


@pytest.mark.parametrize("who", UNTRUSTED, ids=list(UNTRUSTED))
def test_markers_of_untrusted_runs_are_ignored(
    github: tuple[FakeGitHub, str], tmp_path: Path, who: str
) -> None:
    """A branch or a pull request could upload a start marker with no journal to block applies,
    or a clean journal to hide open operations: only this workflow's runs on main count."""
    fake, api = github
    fake.run(41)
    fake.artifact("reconciler-apply-started", 41, "2026-11-20T10:00:00Z")
    fake.artifact("reconciler-journal", 41, "2026-11-20T10:05:00Z", journal(OPEN))
    overrides = UNTRUSTED[who]
    if overrides is not None:
        fake.run(77, **overrides)
    fake.artifact("reconciler-apply-started", 77, "2026-11-21T10:00:00Z")
    fake.artifact("reconciler-journal", 77, "2026-11-21T10:05:00Z", journal(b""))
    done = guard(api, tmp_path)
    if overrides is None:
        assert done.returncode == 1 and "404" in done.stdout, "a run GitHub cannot show: stop"
        return
    assert done.returncode == 0, done.stdout
    assert "run 41, left 1 operation(s) open" in done.stdout


def test_the_newest_marker_is_found_past_the_first_page(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    fake, api = github
    fake.oldest_first = True  # the newest artifacts on the second page
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    for run in range(1, 131):
        fake.run(run)
        at = start + timedelta(minutes=10 * run)
        fake.artifact("reconciler-apply-started", run, f"{at:%Y-%m-%dT%H:%M:%SZ}")
        done_at = at + timedelta(minutes=5)
        ops = OPEN if run == 130 else b""
        fake.artifact("reconciler-journal", run, f"{done_at:%Y-%m-%dT%H:%M:%SZ}", journal(ops))
    done = guard(api, tmp_path)
    assert done.returncode == 0, done.stdout
    assert "run 130, left 1 operation(s) open" in done.stdout


def test_github_failing_stops_apply_without_printing_the_token(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    fake, api = github
    fake.fail = True
    done = guard(api, tmp_path)
    assert done.returncode == 1 and "GitHub answered 500" in done.stdout
    assert TOKEN not in done.stdout + done.stderr
    assert guard("http://127.0.0.1:9", tmp_path).returncode == 1, "GitHub unreachable"


def test_only_the_journal_files_are_written(github: tuple[FakeGitHub, str], tmp_path: Path) -> None:
    fake, api = github
    fake.run(41)
    fake.artifact("reconciler-apply-started", 41, "2026-11-20T10:00:00Z")
    files = journal(OPEN) | {"../../escaped": b"x", "/tmp/abs": b"x", "journal.sqlite-x": b"x"}
    fake.artifact("reconciler-journal", 41, "2026-11-20T10:05:00Z", files)
    state = tmp_path / "state"
    assert guard(api, state).returncode == 0
    assert sorted(p.name for p in state.iterdir()) == ["journal.sqlite", "journal.sqlite-wal"]
    assert not (tmp_path / "escaped").exists()


def test_missing_settings_and_usage(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "check"],
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        check=False,
    )
    assert (
        done.returncode == 1 and "GITHUB_REPOSITORY, GITHUB_RUN_ID, GH_TOKEN not set" in done.stdout
    )
    usage = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, check=False
    )
    assert usage.returncode == 2
