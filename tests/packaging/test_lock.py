"""The locks match pyproject.toml: every declared dependency is pinned, by hash, at a version its
range allows, and the runtime lock agrees with the development lock. When this fails after a
dependency was added or changed in pyproject.toml, run `make lock` (docs/releasing.md)."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found, no-redef, unused-ignore]

REPO = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")
Pins = dict[str, list[tuple[Version, Marker | None, int]]]


def pyproject() -> dict[str, Any]:
    with (REPO / "pyproject.toml").open("rb") as f:
        loaded: dict[str, Any] = tomllib.load(f)
    return loaded


def declared(extra: str | None = None) -> list[Requirement]:
    project = pyproject()["project"]
    names = project["dependencies"] if extra is None else project["optional-dependencies"][extra]
    return [Requirement(r) for r in names]


def pins(lock: str) -> Pins:
    """``name -> [(version, marker, number of hashes)]`` from a uv/pip-tools lock file."""
    found: Pins = {}
    lines = (REPO / lock).read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        m = PIN.match(line)
        if m is None:
            continue
        hashes = 0
        for following in lines[i + 1 :]:
            if not following.strip().startswith("--hash=sha256:"):
                break
            hashes += 1
        marker = Marker(m[3]) if m[3] else None
        found.setdefault(canonicalize_name(m[1]), []).append((Version(m[2]), marker, hashes))
    return found


def here(entries: list[tuple[Version, Marker | None, int]]) -> Iterator[Version]:
    """The pinned versions that apply to the running Python and platform."""
    for version, marker, _ in entries:
        if marker is None or marker.evaluate():
            yield version


@pytest.mark.parametrize(
    ("lock", "extra"),
    [
        ("requirements.lock", None),
        ("requirements-dev.lock", None),
        ("requirements-dev.lock", "dev"),
    ],
    ids=["runtime", "runtime-in-dev", "dev"],
)
def test_every_declared_dependency_is_pinned_within_its_range(lock: str, extra: str | None) -> None:
    locked = pins(lock)
    for req in declared(extra):
        if req.marker is not None and not req.marker.evaluate():
            continue
        versions = list(here(locked.get(canonicalize_name(req.name), [])))
        assert versions, f"{req.name} is not in {lock}: run `make lock`"
        for version in versions:
            assert req.specifier.contains(version, prereleases=True), (
                f"{lock} pins {req.name}=={version}, outside {req}: run `make lock`"
            )


def test_every_pin_has_hashes_and_runtime_matches_dev() -> None:
    runtime, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    assert runtime and dev
    for lock, locked in (("requirements.lock", runtime), ("requirements-dev.lock", dev)):
        for name, entries in locked.items():
            assert all(hashes > 0 for _, _, hashes in entries), f"{lock}: {name} has no hash"
    for name, entries in runtime.items():
        assert set(here(entries)) <= set(here(dev.get(name, []))), (
            f"requirements.lock and requirements-dev.lock disagree on {name}: run `make lock`"
        )


def test_the_pin_pattern_reads_both_forms() -> None:
    """Guards the parser above: a pin with and without an environment marker."""
    assert PIN.match("pyyaml==6.0.2 \\") is not None
    marked = PIN.match("tomli==2.2.1 ; python_full_version < '3.11' \\")
    assert marked is not None
    assert marked[3] == "python_full_version < '3.11'"
