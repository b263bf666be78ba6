"""The apply workflow's journal guard: ``python .github/scripts/apply_journal.py check``.

When the apply journal travels in the workflow cache (no ``RECONCILER_JOURNAL_URL``), the cache
may have lost it: GitHub evicts an entry unused for 7 days, and a runner that is lost saves
nothing. Every apply attempt therefore leaves two artifacts (.github/workflows/apply.yml):

* ``reconciler-apply-started``, uploaded just before ``reconciler apply`` may write;
* ``reconciler-journal``, uploaded after it whatever happened: the journal files and
  ``open-operations.jsonl`` (``reconciler journal list --open --json``).

``check`` runs before apply. It finds the newest ``reconciler-apply-started`` of a trusted run
(this workflow file, this branch, this repository, a push or a manual run: a pull request or a
branch cannot plant one), then that run's ``reconciler-journal`` uploaded after it:

* no apply ever started (within the artifacts' retention): nothing to check;
* its journal has no open operation: the cached journal is used as restored;
* its journal has open operations: that journal replaces the cached one, so apply settles them
  from the API's records before it writes anything;
* no journal after the start, or one without its list of open operations: what that run sent is
  recorded nowhere. Exit 1, unless ``LOST_RUN_CHECKED`` names that run (someone checked the
  partner account by hand, docs/gitops.md section 6).

Environment: ``GITHUB_API_URL``, ``GITHUB_REPOSITORY``, ``GITHUB_RUN_ID``, ``GH_TOKEN`` (needs
``actions: read``), ``RECONCILER_STATE_DIR`` (default ``.reconciler``), ``LOST_RUN_CHECKED``.
Exit codes: 0 apply may go on, 1 it must not (the reason is an ``::error`` annotation).
"""

from __future__ import annotations

import io
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STARTED = "reconciler-apply-started"
JOURNAL = "reconciler-journal"
OPEN_LIST = "open-operations.jsonl"
JOURNAL_FILES = ("journal.sqlite", "journal.sqlite-wal", "journal.sqlite-shm")
TRUSTED_EVENTS = ("push", "workflow_dispatch")
MAX_PAGES = 20  # 2,000 artifacts of one name: more than 90 days of applies
TIMEOUT = 60


class GuardError(Exception):
    """Apply must not go on; the message says why and what to do."""


@dataclass(frozen=True)
class Artifact:
    id: int
    run_id: int
    created_at: str

    @property
    def order(self) -> tuple[str, int]:
        return (self.created_at, self.id)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the archive's address is fetched without the token (see download)


class GitHub:
    """The few REST calls the guard needs, with the job's token."""

    def __init__(self, api: str, repository: str, token: str) -> None:
        self.base = f"{api.rstrip('/')}/repos/{repository}"
        self.token = token
        self._opener = urllib.request.build_opener(_NoRedirect)
        self._runs: dict[int, dict[str, Any]] = {}

    def _request(self, url: str, *, auth: bool = True) -> bytes:
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(url, headers=headers)
        try:
            with self._opener.open(request, timeout=TIMEOUT) as answer:
                return bytes(answer.read())
        except urllib.error.HTTPError as err:
            location = err.headers.get("Location") if err.code in (301, 302, 303, 307) else None
            if location and auth and urllib.parse.urlsplit(location).scheme in ("https", "http"):
                return self._request(location, auth=False)
            raise GuardError(f"GitHub answered {err.code} to GET {_path(url)}") from err
        except (urllib.error.URLError, TimeoutError, OSError) as err:
            raise GuardError(f"GitHub could not be reached for GET {_path(url)}: {err}") from err

    def get(self, path: str, **query: str | int) -> Any:
        url = f"{self.base}{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        try:
            return json.loads(self._request(url))
        except ValueError as err:
            raise GuardError(f"GitHub's answer to GET {path} is not JSON") from err

    def run(self, run_id: int) -> dict[str, Any]:
        if run_id not in self._runs:
            self._runs[run_id] = self.get(f"/actions/runs/{run_id}")
        return self._runs[run_id]

    def artifacts(self, name: str) -> list[Artifact]:
        """Every unexpired artifact called ``name`` in the repository, newest first."""
        found: list[Artifact] = []
        for page in range(1, MAX_PAGES + 1):
            answer = self.get("/actions/artifacts", name=name, per_page=100, page=page)
            batch = answer.get("artifacts") or []
            for item in batch:
                run = item.get("workflow_run") or {}
                if item.get("name") == name and not item.get("expired") and run.get("id"):
                    found.append(Artifact(int(item["id"]), int(run["id"]), item["created_at"]))
            if len(batch) < 100:
                return sorted(found, key=lambda a: a.order, reverse=True)
        raise GuardError(f"more than {MAX_PAGES * 100} artifacts called {name}: delete old ones")

    def download(self, artifact: Artifact) -> zipfile.ZipFile:
        data = self._request(f"{self.base}/actions/artifacts/{artifact.id}/zip")
        try:
            return zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile as err:
            raise GuardError(f"artifact {artifact.id} of run {artifact.run_id} is no zip") from err


def _path(url: str) -> str:
    return urllib.parse.urlsplit(url).path


def trusted(github: GitHub, me: dict[str, Any], run_id: int) -> bool:
    """A run of this workflow file, on this branch, in this repository, by push or by hand."""
    run = github.run(run_id)
    head_repository = run.get("head_repository") or {}
    return (
        run.get("workflow_id") == me["workflow_id"]
        and run.get("head_branch") == me["head_branch"]
        and run.get("event") in TRUSTED_EVENTS
        and head_repository.get("id") == me["repository"]["id"]
    )


def last_start(github: GitHub, me: dict[str, Any]) -> Artifact | None:
    for artifact in github.artifacts(STARTED):
        if trusted(github, me, artifact.run_id):
            return artifact
    return None


def open_operations(archive: zipfile.ZipFile, run_id: int) -> list[str]:
    lines = archive.read(OPEN_LIST).decode("utf-8").splitlines()
    ops = []
    for line in filter(None, (raw.strip() for raw in lines)):
        try:
            ops.append(str(json.loads(line)["op_id"]))
        except (ValueError, KeyError, TypeError) as err:
            raise GuardError(f"run {run_id}: {OPEN_LIST} is not the journal's list") from err
    return ops


def install(archive: zipfile.ZipFile, state_dir: Path) -> list[str]:
    """Replace the journal in ``state_dir`` by the archive's (fixed names only, no paths)."""
    names = [n for n in JOURNAL_FILES if n in archive.namelist()]
    if JOURNAL_FILES[0] not in names:
        raise GuardError("the artifact lists open operations but holds no journal.sqlite")
    state_dir.mkdir(parents=True, exist_ok=True)
    for name in JOURNAL_FILES:
        (state_dir / name).unlink(missing_ok=True)
    for name in names:
        (state_dir / name).write_bytes(archive.read(name))
    return names


def lost(start: Artifact, lost_run_checked: str) -> str:
    """The run that started writing at ``start`` left no complete journal behind."""
    if lost_run_checked.strip() == str(start.run_id):
        return (
            f"::warning title=lost apply run::Apply run {start.run_id} saved no journal; going "
            "on because lost-run-checked names it."
        )
    raise GuardError(
        f"apply run {start.run_id} started writing at {start.created_at} and saved no complete "
        "journal (its runner was lost, or it was stopped before the upload): operations it "
        "sent may have taken effect and are recorded nowhere. Check the partner account's quota "
        "records and auto-renew settings since then (docs/gitops.md, section 6), then run this "
        f"workflow by hand with lost-run-checked {start.run_id}."
    )


def check(github: GitHub, run_id: int, state_dir: Path, lost_run_checked: str) -> str:
    """What was found, for the log; raises :class:`GuardError` when apply must not go on."""
    me = github.run(run_id)
    start = last_start(github, me)
    if start is None:
        return "No earlier apply started writing (within the artifacts' retention)."
    journals = [
        a for a in github.artifacts(JOURNAL) if a.run_id == start.run_id and a.order > start.order
    ]
    archive = github.download(journals[0]) if journals else None
    if archive is None or OPEN_LIST not in archive.namelist():
        return lost(start, lost_run_checked)
    ops = open_operations(archive, start.run_id)
    if not ops:
        return f"The last apply, run {start.run_id}, left no operation open."
    install(archive, state_dir)
    return (
        f"::warning title=open operations::The last apply, run {start.run_id}, left "
        f"{len(ops)} operation(s) open ({', '.join(ops[:5])}{', ...' if len(ops) > 5 else ''}); "
        "its journal is restored from its artifact, and apply settles them before it writes."
    )


def main(argv: list[str]) -> int:
    if argv[1:] != ["check"]:
        print("usage: apply_journal.py check", file=sys.stderr)
        return 2
    env = os.environ
    missing = [v for v in ("GITHUB_REPOSITORY", "GITHUB_RUN_ID", "GH_TOKEN") if not env.get(v)]
    if missing:
        print(f"::error title=apply journal::{', '.join(missing)} not set", flush=True)
        return 1
    github = GitHub(
        env.get("GITHUB_API_URL", "https://api.github.com"),
        env["GITHUB_REPOSITORY"],
        env["GH_TOKEN"],
    )
    state_dir = Path(env.get("RECONCILER_STATE_DIR") or ".reconciler")
    try:
        result = check(
            github, int(env["GITHUB_RUN_ID"]), state_dir, env.get("LOST_RUN_CHECKED", "")
        )
    except (KeyError, TypeError, ValueError) as err:
        print(f"::error title=apply journal::GitHub's answer lacks {err}. Nothing was written.")
        return 1
    except GuardError as err:
        print(f"::error title=apply journal::{err} Nothing was written.", flush=True)
        return 1
    print(result, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
