"""Fixtures for the whole suite: no GitHub Actions framing, and a real PostgreSQL server for the
shared journal."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests import pgserver


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The URL of a PostgreSQL server: ``RECONCILER_TEST_PG_URL`` (``.ci/run`` starts one), else
    one this test session starts in a temp dir (one per xdist worker) and stops at the end."""
    given = os.environ.get(pgserver.URL_ENV)
    if given:
        yield given
        return
    binaries = pgserver.find_bin()
    if binaries is None:
        pytest.skip(
            "PostgreSQL server binaries (initdb, pg_ctl, postgres) are not installed and "
            f"{pgserver.URL_ENV} is not set: the shared-journal tests need a real server"
        )
    root, url = pgserver.start(binaries)
    try:
        yield url
    finally:
        pgserver.stop(binaries, root)


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh database of its own for one test."""
    with pgserver.fresh_database(pg_server) as url:
        yield url


@pytest.fixture(autouse=True)
def _not_under_github_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    """CI runs this suite under GitHub Actions, where the CLI frames text output with
    ``::stop-commands::`` (reconciler/cli/output.py); tests see the plain output unless they
    set ``GITHUB_ACTIONS`` themselves."""
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
