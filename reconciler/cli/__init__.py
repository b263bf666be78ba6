"""The command line: the click group (``main``), shared options and one module per command group."""

from __future__ import annotations

from reconciler.cli.main import main

__all__ = ["main"]
