"""Fixtures: apply's CLI environment (a fresh demo emulator and journal per test)."""

from __future__ import annotations

from tests.apply.conftest import Env, env, served_env

__all__ = ["Env", "env", "served_env"]
