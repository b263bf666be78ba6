"""Fixtures: a fresh embedded emulator per test, driven through the CLI."""

from __future__ import annotations

from tests.cli_env import EXAMPLES, IN_SYNC, REPO, WRITES, Env, env

__all__ = ["EXAMPLES", "IN_SYNC", "REPO", "WRITES", "Env", "env"]

# Handy ids of the demo seed (reconciler/emulator/README.md).
XINGHE = "ed0e5914c5e5fc0a8a8d3bcc812f2330"
XINGHE_WEB = "8802e8c9-b42b-5e38-9852-d1b85b3b5dd4"  # ECS on auto-renew
KAIYUAN_01 = "8f1bcb4c-0ea3-5d2c-a5a5-8e70c33759e2"  # on auto-renew
HAINA = "b074af1606988abdddec41d09327c6a9"
TIANFU_QUOTA = "2025080209150301"  # tianfu-cloud's 30000.00 child of the main quota
MAIN_QUOTA = "2025063010300118"
