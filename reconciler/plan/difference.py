"""Field-level differences between two JSON-like values, in words, computed by DeepDiff.

Used where a person needs to know *what* moved, not only that something did: a saved plan that
went stale (``apply --plan``) names each live field that changed since it was reviewed.
"""

from __future__ import annotations

import re
from typing import Any

from deepdiff import DeepDiff

_SEGMENT = re.compile(r"\[(?:'((?:[^'\\]|\\.)*)'|(\d+))\]")


def dotted(path: str) -> str:
    """``root['before']['quotas'][1]`` -> ``before.quotas[1]``."""
    out = ""
    for key, index in _SEGMENT.findall(path.removeprefix("root")):
        out += f"[{index}]" if index else (f".{key}" if out else key)
    return out or "(the whole value)"


def differences(old: Any, new: Any) -> list[str]:
    """One line per changed, added or removed field, sorted by path."""
    diff = DeepDiff(old, new, verbose_level=2)
    lines: list[tuple[str, str]] = []
    for section in ("values_changed", "type_changes"):
        for path, change in diff.get(section, {}).items():
            old_value, new_value = change["old_value"], change["new_value"]
            lines.append((dotted(path), f"{old_value!r} -> {new_value!r}"))
    for section, verb in (
        ("dictionary_item_added", "added"),
        ("iterable_item_added", "added"),
        ("dictionary_item_removed", "removed"),
        ("iterable_item_removed", "removed"),
    ):
        for path, value in diff.get(section, {}).items():
            lines.append((dotted(path), f"{verb} {value!r}"))
    return [f"{path}: {text}" for path, text in sorted(lines)]
