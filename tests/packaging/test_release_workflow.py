"""The release workflow keeps the promises of docs/releasing.md: it runs on version tags only,
every action is pinned by commit, only the publish job may mint an OIDC token (in the `pypi`
environment), and the job that runs our code (tests, build) has read access only."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"uses: (\S+) # v\d+(\.\d+)*$")


def release() -> dict[Any, Any]:
    text = (REPO / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8")
    loaded: dict[Any, Any] = yaml.safe_load(text)
    loaded["on"] = loaded.pop(True)  # PyYAML reads the key `on` as the YAML 1.1 boolean
    return loaded


def test_runs_on_version_tags_only() -> None:
    assert release()["on"] == {"push": {"tags": ["v*"]}}


def test_permissions_are_per_job_and_only_publish_mints_a_token() -> None:
    wf = release()
    assert wf["permissions"] == {"contents": "read"}
    jobs = wf["jobs"]
    assert jobs["build"]["permissions"] == {"contents": "read"}
    assert jobs["publish"]["permissions"] == {"id-token": "write"}
    assert jobs["publish"]["needs"] == "build"
    assert jobs["publish"]["environment"]["name"] == "pypi"
    publish_steps = [step["uses"].split("@")[0] for step in jobs["publish"]["steps"]]
    assert publish_steps == ["actions/download-artifact", "pypa/gh-action-pypi-publish"]


def test_every_action_is_pinned_by_commit_with_its_version() -> None:
    text = (REPO / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8")
    uses = [line.strip().removeprefix("- ") for line in text.splitlines() if "uses:" in line]
    assert len(uses) == 5
    for line in uses:
        match = VERSION_COMMENT.match(line)
        assert match is not None, f"{line}: pin by commit SHA with '# vX.Y.Z'"
        assert PINNED.match(match[1]), line
    checkout = release()["jobs"]["build"]["steps"][0]
    assert checkout["with"]["persist-credentials"] is False
