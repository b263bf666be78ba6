"""A fake of the few GitHub REST endpoints the apply workflow's journal guard calls
(.github/scripts/apply_journal.py), served on loopback: workflow runs, artifacts by name, and
artifact archives behind a redirect to "blob storage" that must be fetched without the token."""

from __future__ import annotations

import io
import json
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
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

    def upload(self, name: str, run_id: int, at: str, directory: Path) -> None:
        """What actions/upload-artifact makes of ``path: directory/``: its files at the root."""
        files = {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}
        self.artifact(name, run_id, at, files)

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
