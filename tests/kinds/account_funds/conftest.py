"""Fixtures: apply's CLI environment (a fresh demo emulator and journal per test).

Staging: the end-to-end tests (CLI flows, faults, processes) run once ``AccountFunds`` is in the
registry, i.e. once the pipeline builds and reads every registered kind; until then they are
not collected. The unit tests of the package run either way.
"""

from __future__ import annotations

from reconciler.kinds import registry
from tests.apply.conftest import Env, env, served_env

__all__ = ["Env", "env", "served_env"]

END_TO_END = ["test_cli_flow.py", "test_faults.py", "test_processes.py"]
collect_ignore = [] if registry.by_manifest("AccountFunds") is not None else END_TO_END
