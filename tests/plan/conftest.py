"""Fixtures: the shared CLI environment (tests/cli_env.py)."""

from __future__ import annotations

from tests.cli_env import EXAMPLES, IN_SYNC, REPO, WRITES, Env, env

__all__ = ["EXAMPLES", "IN_SYNC", "REPO", "WRITES", "Env", "env"]
