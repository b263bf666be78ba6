"""Fixtures for the whole suite."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _not_under_github_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    """CI runs this suite under GitHub Actions, where the CLI frames text output with
    ``::stop-commands::`` (reconciler/cli/output.py); tests see the plain output unless they
    set ``GITHUB_ACTIONS`` themselves."""
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
