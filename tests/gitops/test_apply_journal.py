"""The apply workflow's journal guard (.github/scripts/apply_journal.py), run as the workflow runs
it, against a fake of GitHub's REST API on loopback: which earlier run it trusts, when it
restores a journal from an artifact, and when it refuses to let apply write."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from .conftest import REPO

SCRIPT = REPO / ".github" / "scripts" / "apply_journal.py"
TOKEN = "ghs_fake_job_token_0123456789"
ME, WORKFLOW, REPOSITORY = 900, 7, 1
PREFIX = "/repos/acme/partner-gitops"


@dataclass
class FakeGitHub:
    runs: dict[int, dict[str, Any]] = field(default_factory=dict)
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    blobs: dict[int, bytes] = field(default_factory=dict)
    fail: bool = False
    oldest_first: bool = False
    unauthenticated_blob_gets: int = 0
    next_id: int = 1000

    def run(self, run_id: int, **overrides: Any) -> None:
        self.runs[run_id] = {
            "id": run_id,
            "workflow_id": WORKFLOW,
            "head_branch": "main",
            "event": "push",
            "head_repository": {"id": REPOSITORY},
            "repository": {"id": REPOSITORY},
        } | overrides

    def artifact(
        self, name: str, run_id: int, at: str, files: dict[str, bytes] | None = None
    ) -> None:
        self.next_id += 1
        self.artifacts.append(
            {
                "id": self.next_id,
                "name": name,
                "expired": False,
                "created_at": at,
                "workflow_run": {"id": run_id},
            }
        )
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for path, data in (files or {"started-at": b"x"}).items():
                archive.writestr(path, data)
        self.blobs[self.next_id] = buffer.getvalue()


def handler(fake: FakeGitHub, port: list[int]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path.startswith("/blob/"):
                self.unauthenticated_blob(int(url.path.rsplit("/", 1)[1]))
                return
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self.answer(401, {"message": "Bad credentials"})
                return
            if fake.fail:
                self.answer(500, {"message": "boom"})
                return
            path = url.path.removeprefix(PREFIX)
            if path.startswith("/actions/runs/"):
                run = fake.runs.get(int(path.rsplit("/", 1)[1]))
                self.answer(200 if run else 404, run or {"message": "Not Found"})
            elif path == "/actions/artifacts":
                query = parse_qs(url.query)
                named = [a for a in fake.artifacts if a["name"] == query["name"][0]]
                named.sort(key=lambda a: a["id"], reverse=not fake.oldest_first)
                page, size = int(query["page"][0]), int(query["per_page"][0])
                chunk = named[(page - 1) * size : page * size]
                self.answer(200, {"total_count": len(named), "artifacts": chunk})
            elif path.endswith("/zip"):
                artifact_id = int(path.split("/")[-2])
                self.send_response(302)
                self.send_header("Location", f"http://127.0.0.1:{port[0]}/blob/{artifact_id}")
                self.end_headers()
            else:
                self.answer(404, {"message": "Not Found"})

        def unauthenticated_blob(self, artifact_id: int) -> None:
            if self.headers.get("Authorization"):
                self.answer(400, {"message": "the token must not travel to blob storage"})
                return
            fake.unauthenticated_blob_gets += 1
            data = fake.blobs[artifact_id]
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def answer(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@pytest.fixture
def github() -> Iterator[tuple[FakeGitHub, str]]:
    fake, port = FakeGitHub(), [0]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(fake, port))
    port[0] = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.run(ME)
    yield fake, f"http://127.0.0.1:{port[0]}"
    server.shutdown()
    server.server_close()


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
